"""Errors and warnings raised by fairaudit.

The tree::

    Exception
    └── FairauditError                    base of every error fairaudit raises itself
        ├── DataError (ValueError)         input data that cannot be used as given
        │   └── MissingValueError          NaN / None / infinite values where none are allowed
        ├── ModelError (ValueError)        a wrapped model that fails or returns unusable output
        ├── DatasetFileError (ValueError)  a shipped or user file that is missing or malformed
        ├── PolicyError (ValueError)       a policy file or rule that cannot be applied
        └── StoreError (ValueError)        a monitor store that is not one, or is too new
            └── StoreLockedError           another process held the store past the timeout

    Warning
    └── FairauditWarning                   base of every warning fairaudit issues
        ├── SmallGroupWarning              a group smaller than ``min_group_size``
        ├── UndefinedMetricWarning         a metric with a zero denominator (value is NaN)
        └── DatasetWarning                 something to know about a dataset or input data

Wrong types raise the built-in :class:`TypeError`; a missing optional dependency raises
:class:`ImportError` with the ``pip install`` line; using an estimator before ``fit`` raises
:class:`sklearn.exceptions.NotFittedError`.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "DatasetFileError",
    "DatasetWarning",
    "FairauditError",
    "FairauditWarning",
    "MissingValueError",
    "ModelError",
    "PolicyError",
    "SmallGroupWarning",
    "StoreError",
    "StoreLockedError",
    "UndefinedMetricWarning",
]


class FairauditError(Exception):
    """Base class of the errors raised by fairaudit."""


class DataError(FairauditError, ValueError):
    """Input data that cannot be used as given (wrong shape, labels, lengths...)."""


class MissingValueError(DataError):
    """Missing or non-finite values where fairaudit allows none."""


class ModelError(FairauditError, ValueError):
    """A wrapped model failed, or returned output of the wrong shape or with NaN values."""


class DatasetFileError(FairauditError, ValueError):
    """A data or vectors file that is missing, truncated or malformed."""


class PolicyError(FairauditError, ValueError):
    """A policy file or rule that cannot be parsed or applied."""


class StoreError(FairauditError, ValueError):
    """A monitor store file that is not a store, was written by a newer version, or differs."""


class StoreLockedError(StoreError):
    """Another process kept the monitor store locked for longer than the busy timeout."""


class FairauditWarning(UserWarning):
    """Base class of the warnings issued by fairaudit."""


class SmallGroupWarning(FairauditWarning):
    """A group has fewer samples than ``min_group_size``: its estimates are unreliable."""


class UndefinedMetricWarning(FairauditWarning):
    """A metric is undefined for a group (zero denominator); its value is NaN."""


class DatasetWarning(FairauditWarning):
    """Something a user should know about a dataset or the input data."""
