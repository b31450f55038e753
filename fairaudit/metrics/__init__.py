"""Group metrics from count tables: per-group rates, disparities, intervals and tests.

One pass over the data builds a table of weighted (group, y_true, y_pred) counts; every metric,
difference, ratio, bootstrap interval and test derives from that small table.

Examples
--------
>>> from fairaudit.metrics import demographic_parity_difference
>>> demographic_parity_difference([0, 1, 1, 0], [1, 0, 0, 0],
...                               sensitive_features=["a", "a", "b", "b"])
0.5
"""

from __future__ import annotations

from fairaudit.metrics._bias_measures import (
    BIAS_MEASURES,
    CLARIFY_CODES,
    BiasMeasure,
    resolve_measure,
)
from fairaudit.metrics._counts import CountTable
from fairaudit.metrics._data_bias import (
    ConditionalDemographicDisparity,
    DataBias,
    conditional_demographic_disparity,
    data_bias,
)
from fairaudit.metrics._disparity import (
    demographic_parity_difference,
    demographic_parity_ratio,
    disparate_impact,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
)
from fairaudit.metrics._drift import DriftResult, drift
from fairaudit.metrics._group_metrics import group_metrics
from fairaudit.metrics._individual import (
    GeneralizedEntropy,
    consistency,
    generalized_entropy_index,
)
from fairaudit.metrics._interop import from_aif360
from fairaudit.metrics._registry import METRIC_REGISTRY, MetricDefinition, get_metric
from fairaudit.metrics._result import GroupMetrics
from fairaudit.metrics._scan import count_table

__all__ = [
    "BIAS_MEASURES",
    "CLARIFY_CODES",
    "METRIC_REGISTRY",
    "BiasMeasure",
    "ConditionalDemographicDisparity",
    "CountTable",
    "DataBias",
    "DriftResult",
    "GeneralizedEntropy",
    "GroupMetrics",
    "MetricDefinition",
    "conditional_demographic_disparity",
    "consistency",
    "count_table",
    "data_bias",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "disparate_impact",
    "drift",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "from_aif360",
    "generalized_entropy_index",
    "get_metric",
    "group_metrics",
    "resolve_measure",
]
