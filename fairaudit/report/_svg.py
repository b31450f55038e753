"""Plots for the HTML report: a result's ``plot(ax=...)`` drawn into an inline SVG string."""

from __future__ import annotations

import io
import logging
import re
from typing import Any

__all__: list[str] = []

logger = logging.getLogger(__name__)

_SVG_HEAD = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_XMLNS = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')


def _plot_svg(result: Any, index: int) -> tuple[str | None, str | None]:
    """Draw ``result.plot(ax=...)`` into an SVG string; returns (svg, error message)."""
    if result is None or not callable(getattr(result, "plot", None)):
        return None, None
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        return None, "Plots need matplotlib: pip install 'fairaudit[plot]'."
    # user text reaches the plot (group, feature, rule names): the plots escape '$' for
    # mathtext, and LaTeX (a user's text.usetex) is never run on it
    with matplotlib.rc_context(
        {"svg.hashsalt": "fairaudit", "svg.fonttype": "none", "font.size": 9, "text.usetex": False}
    ):
        fig = Figure(figsize=(7.5, 3.6), layout="constrained")
        ax = fig.subplots()
        try:
            result.plot(ax=ax)
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        except NotImplementedError:
            return None, None
        except (ValueError, RuntimeError, TypeError, KeyError, IndexError) as exc:
            # a plot that cannot be drawn must not cost the reader the whole report
            logger.warning("plot %d could not be drawn: %s", index, exc)
            detail = " ".join(str(exc).split())[:200]
            return None, f"This plot could not be drawn ({type(exc).__name__}: {detail})."
    svg = buffer.getvalue()
    svg = _SVG_HEAD.sub("", svg, count=1)
    svg = _METADATA.sub("", svg)
    # inline SVG in HTML needs no namespace declarations; dropping them also keeps the file
    # free of any http:// string
    svg = _XMLNS.sub("", svg)
    # ids must be unique across the plots of one page
    prefix = f"p{index}-"
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = svg.replace("<svg ", '<svg role="img" class="plot" ', 1)
    return svg, None
