"""The classifier's defaults on UCI Adult do what the constraint says (no tuning by the user)."""

from __future__ import annotations

import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

import fairaudit as fa  # noqa: E402
from fairaudit.debias import AdversarialDebiasingClassifier  # noqa: E402


@pytest.mark.slow
def test_equalized_odds_defaults_meet_the_bar_on_adult():
    # notebooks/04's setup: train on adult.data, test on adult.test, sex as z and not an
    # input, numeric columns standardized, the rest one-hot encoded. One seed, full data, the
    # defaults (alpha="auto" -> 25, adversary_steps="auto" -> 5, epochs=10).
    train = fa.datasets.load_adult(split="train")
    test = fa.datasets.load_adult(split="test")
    x_train, x_test = train.X.drop(columns=["sex"]), test.X.drop(columns=["sex"])
    numeric = x_train.select_dtypes("number").columns.tolist()
    categorical = [c for c in x_train.columns if c not in numeric]
    prep = make_column_transformer(
        (StandardScaler(), numeric),
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
    )
    X_train, X_test = prep.fit_transform(x_train), prep.transform(x_test)
    y_test = test.y.to_numpy()
    z_test = test.sensitive["sex"].to_numpy()
    start = time.perf_counter()
    clf = AdversarialDebiasingClassifier(constraint="equalized_odds", random_state=0)
    clf.fit(X_train, train.y.to_numpy(), sensitive_features=train.sensitive["sex"].to_numpy())
    pred = clf.predict(X_test)
    elapsed = time.perf_counter() - start
    rates = {}
    for group in ("Female", "Male"):
        m = z_test == group
        rates[group] = (pred[m & (y_test == 0)].mean(), 1 - pred[m & (y_test == 1)].mean())
    fpr_gap = abs(rates["Female"][0] - rates["Male"][0])
    fnr_gap = abs(rates["Female"][1] - rates["Male"][1])
    accuracy = float((pred == y_test).mean())
    print(
        f"alpha_={clf.alpha_} FPR gap {fpr_gap:.4f} FNR gap {fnr_gap:.4f} "
        f"accuracy {accuracy:.4f} ({elapsed:.0f} s)"
    )
    assert clf.alpha_ == 25.0
    assert fpr_gap <= 0.02
    assert fnr_gap <= 0.05
    assert accuracy >= 0.82
    # cross-check the gaps with fairaudit's group metrics
    gm = fa.group_metrics(
        y_test,
        pred,
        sensitive_features=z_test,
        metrics=["false_positive_rate", "false_negative_rate"],
    )
    assert gm.by_group.loc["Female", "false_positive_rate"] == pytest.approx(rates["Female"][0])
    assert np.isfinite(gm.by_group.to_numpy(dtype=float)).all()
