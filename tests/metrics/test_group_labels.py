"""One sensitive feature, one type of label: mixed types are refused, everywhere.

``1`` and ``"1"`` would be two groups that print alike in every report and policy; ``1``,
``True`` and ``1.0`` are one dictionary key and would merge. Neither can be told apart once
shown, so fairaudit refuses a column that mixes label types and asks for a cast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import DataError

Y = [0, 1, 1, 0, 1, 0, 1, 0]
MIXED = {
    "int and str": [1, "1", 1, "1", 2, "2", 2, "2"],
    "int bool float": [1, True, 1.0, 2, 1, True, 1.0, 2],
    "int and str words": [1, "a", 2, "b", 1, "a", 2, "b"],
    "float and str": [1.5, "x", 1.5, "x", 1.5, "x", 1.5, "x"],
}
FORMS = {
    "list": lambda v: v,
    "object Series": lambda v: pd.Series(v, dtype=object, name="race"),
    "object ndarray": lambda v: np.array(v, dtype=object),
    "dict of a list": lambda v: {"race": v},
    "DataFrame": lambda v: pd.DataFrame(
        {"race": pd.Series(v, dtype=object), "sex": list("MF") * 4}
    ),
}


@pytest.mark.parametrize("form", FORMS, ids=list(FORMS))
@pytest.mark.parametrize("values", MIXED.values(), ids=list(MIXED))
def test_mixed_label_types_are_refused_in_group_metrics(values, form):
    with pytest.raises(DataError, match=r"mixes label types \(.*\)\; .* Cast the column"):
        fa.group_metrics(Y, Y, sensitive_features=FORMS[form](values), min_group_size=1)


def test_mixed_categories_are_refused():
    # pandas itself merges 1, True and 1.0 into one category; 1 and "1" stay two categories
    values = pd.Series(pd.Categorical([1, "1"] * 4, categories=[1, "1"]), name="race")
    with pytest.raises(DataError, match="'race' mixes label types"):
        fa.group_metrics(Y, Y, sensitive_features=values, min_group_size=1)


def test_the_message_names_the_column_and_shows_up_to_five_values_of_each_type():
    values = pd.Series([*range(8), *"abcdefg"], dtype=object, name="origin")
    with pytest.raises(DataError) as info:
        fa.group_metrics([0, 1] * 7 + [0], [0] * 15, sensitive_features=values)
    message = str(info.value)
    assert "sensitive feature 'origin' mixes label types" in message
    assert "int [0, 1, 2, 3, 4, ... and 3 more]" in message
    assert "str ['a', 'b', 'c', 'd', 'e', ... and 2 more]" in message


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["a", "b", None, "a"] * 2, dtype=object),  # missing is not a label type
        pd.Series([1, 2, None, 1] * 2, dtype=object),
        pd.Series([(1, 2), (3, 4)] * 4, dtype=object),  # one type of object
        [1, 2, 1, 2, 1, 2, 1, 2],
        [True, False] * 4,
        np.array([np.int64(1), 2] * 4, dtype=object),  # numpy and Python ints are one type
    ],
)
def test_one_label_type_is_accepted(values):
    gm = fa.group_metrics(
        Y, Y, sensitive_features=values, metrics=["selection_rate"], min_group_size=1,
        missing_groups="separate",
    )  # fmt: skip
    assert gm.by_group["count"].sum() == len(Y)
    # labels are distinct as text, so reports and policies can name every group
    labels = [str(v) for v in gm.by_group.index]
    assert len(set(labels)) == len(labels)


def test_the_same_rule_holds_in_the_other_analyses():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    y = (X["a"] > 0).astype(int)
    z = pd.Series([1, "1"] * 20, dtype=object, name="race")
    model = LogisticRegression().fit(X, y)
    with pytest.raises(DataError, match="'race' mixes label types"):
        fa.audit(model, X, y, sensitive_features=z)
    with pytest.raises(DataError, match="'z' mixes label types"):
        fa.debias.leakage(model.predict_proba(X)[:, 1], z.rename(None), y=y)
    with pytest.raises(DataError, match="mixes label types"):
        fa.metrics.demographic_parity_difference(y, y, sensitive_features=z)
