"""The pytest plugin: one fairness test file, run against a model object or any endpoint.

Registered through the ``pytest11`` entry point ``fairaudit = "fairaudit.testing"``. Research
writes its fairness tests against the ``endpoint`` fixture and provides the local model with a
``fairaudit_local_model`` fixture; the same file then runs

- in research, against the model object (no option given);
- in development's CI, against any served model: ``pytest --fairaudit-endpoint URL`` or the
  ``FAIRAUDIT_ENDPOINT`` environment variable, with ``--fairaudit-endpoint-config PATH`` (or
  ``FAIRAUDIT_ENDPOINT_CONFIG``) naming a YAML of :class:`~fairaudit.models.Endpoint` options
  whose ``headers`` map header names to environment variables.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

__all__ = ["endpoint", "pytest_addoption"]


def pytest_addoption(parser: Any) -> None:
    """Add ``--fairaudit-endpoint`` and ``--fairaudit-endpoint-config``."""
    group = parser.getgroup("fairaudit", "fairaudit: fairness tests against a model or endpoint")
    group.addoption(
        "--fairaudit-endpoint",
        metavar="URL",
        default=None,
        help="run the endpoint fixture against the model served at URL (default: the "
        "FAIRAUDIT_ENDPOINT environment variable, else the local model)",
    )
    group.addoption(
        "--fairaudit-endpoint-config",
        metavar="PATH",
        default=None,
        help="YAML of Endpoint options (default: FAIRAUDIT_ENDPOINT_CONFIG)",
    )


@pytest.fixture(scope="session")
def endpoint(request: Any) -> Any:
    """Return the model under test: an Endpoint when a URL is set, else the local model.

    The local model comes from the ``fairaudit_local_model`` fixture, which the test suite
    defines (e.g. loading research's pickled pipeline).
    """
    from fairaudit._endpoint import endpoint_from_config

    url = request.config.getoption("--fairaudit-endpoint") or os.environ.get("FAIRAUDIT_ENDPOINT")
    if not url:
        try:
            return request.getfixturevalue("fairaudit_local_model")
        except pytest.FixtureLookupError:
            pytest.fail(
                "the endpoint fixture has no model: pass --fairaudit-endpoint URL, set "
                "FAIRAUDIT_ENDPOINT, or define a fairaudit_local_model fixture returning the "
                "local model.",
                pytrace=False,
            )
    config = request.config.getoption("--fairaudit-endpoint-config") or os.environ.get(
        "FAIRAUDIT_ENDPOINT_CONFIG"
    )
    return endpoint_from_config(url, config)
