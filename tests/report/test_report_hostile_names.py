"""Group, feature and rule names are user data: every renderer escapes them.

Before: a group named ``income $\\frac$`` crashed the HTML report's plot (matplotlib mathtext)
and the command exited 2 with no report; the Markdown report turned names into a remote image
or a ``javascript:`` link; ESC, NUL or form feed made the JUnit XML unparseable.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.cli import main

pytest.importorskip("jinja2")
pytest.importorskip("yaml")
pytest.importorskip("matplotlib")

MATH = "income $\\frac$"
IMAGE = "![x](http://evil.example/pixel.png)"
LINK = "[click](javascript:alert(1))"
CONTROL = "esc\x1b[31m nul\x00 ff\x0c"
NAMES = [MATH, IMAGE, LINK, CONTROL]


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n = 400
    group = rng.choice(NAMES, n)
    y = rng.integers(0, 2, n)
    pred = rng.integers(0, 2, n)
    return pd.DataFrame({"y": y, "pred": pred, "group": group})


def no_live_markdown(md: str) -> None:
    # an image or a link needs an unescaped '[' ... '](' ; a raw HTML tag an unescaped '<'
    assert not re.search(r"(?<!\\)!\\?\[", md.replace("\\!\\[", ""))
    assert not re.search(r"(?<!\\)\]\(", md)
    assert "<img" not in md
    for char in "\x1b\x00\x0c":
        assert char not in md


def test_library_renderers(frame, tmp_path):
    gm = fa.group_metrics(
        frame["y"], frame["pred"], sensitive_features=frame["group"], n_boot=20, random_state=0
    )
    policy = fa.Policy.from_dict(
        {
            "version": 1,
            "name": "gate $x$ " + CONTROL,
            "rules": [
                {
                    "id": LINK + CONTROL,
                    "metric": "selection_rate",
                    "compare": "difference",
                    "max": 0.5,
                }
            ],
        }
    )
    outcome = policy.check(gm)
    report = fa.Report(title="t").add(outcome).add(gm)
    html = report.to_html()
    assert "<svg" in html  # the plot drawn, the names escaped for mathtext
    assert "could not be drawn" not in html
    no_live_markdown(report.to_markdown())
    root = ET.fromstring(outcome.to_junit().encode("utf-8"))  # parses
    case = root.find("testsuite/testcase")
    assert "\\x1b" in case.get("name")
    assert "\\x00" in case.get("name")
    assert "\\x0c" in root.find("testsuite").get("name")


def test_the_command_writes_every_report(frame, tmp_path):
    pytest.importorskip("pyarrow")
    frame.to_parquet(tmp_path / "data.parquet")
    (tmp_path / "policy.yaml").write_text(
        "version: 1\nrules:\n  - {metric: selection_rate, compare: difference, max: 0.9}\n"
    )
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "audit", str(tmp_path / "data.parquet"), "--target", "y", "--prediction", "pred",
            "--sensitive", "group", "--policy", str(tmp_path / "policy.yaml"), "--quiet",
            "--report", str(tmp_path / "r.html"), "--junit", str(tmp_path / "r.xml"),
        ],
        stdout=out, stderr=err,
    )  # fmt: skip
    assert code == 0, err.getvalue()
    html = (tmp_path / "r.html").read_text()
    assert "<svg" in html
    assert "could not be drawn" not in html
    ET.parse(tmp_path / "r.xml")  # parses despite ESC / NUL / form feed in a group name
    code = main(
        [
            "audit", str(tmp_path / "data.parquet"), "--target", "y", "--prediction", "pred",
            "--sensitive", "group", "--quiet", "--report", str(tmp_path / "r.md"),
        ],
        stdout=out, stderr=err,
    )  # fmt: skip
    assert code == 0, err.getvalue()
    no_live_markdown((tmp_path / "r.md").read_text())


def test_plots_escape_dollars_for_every_result(frame, pyplot):
    from matplotlib.figure import Figure

    gm = fa.group_metrics(frame["y"], frame["pred"], sensitive_features=frame["group"])
    fig = Figure()
    gm.plot(ax=fig.subplots())
    fig.savefig(io.BytesIO(), format="png")  # mathtext would raise here
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "income \\$\\frac\\$" in labels
