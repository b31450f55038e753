"""Helpers for users' own test suites, and the pytest plugin (entry point ``pytest11``).

``assert_policy`` fails a test when a fairness policy fails; ``assert_equivalent`` when two
models (research and production) are not shown equivalent. The ``endpoint`` fixture runs the
same fairness tests against a local model (the suite's ``fairaudit_local_model`` fixture) or,
with ``--fairaudit-endpoint URL`` / ``FAIRAUDIT_ENDPOINT``, against any served model.

Examples
--------
>>> from fairaudit.testing import assert_equivalent, assert_policy
>>> callable(assert_policy), callable(assert_equivalent)
(True, True)
"""

from __future__ import annotations

from fairaudit._compare import assert_equivalent
from fairaudit.policy._assert import assert_policy

__all__ = ["assert_equivalent", "assert_policy"]

try:  # the plugin's hooks and fixture, when pytest is installed
    from fairaudit._plugin import endpoint, pytest_addoption
except ImportError:  # pragma: no cover - the assertions work without pytest
    pass
else:
    __all__ += ["endpoint", "pytest_addoption"]
