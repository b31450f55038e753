"""Helpers for users' own test suites: fail a pytest test when a fairness policy fails.

Examples
--------
>>> from fairaudit.testing import assert_policy
>>> callable(assert_policy)
True
"""

from __future__ import annotations

from fairaudit.policy._assert import assert_policy

__all__ = ["assert_policy"]
