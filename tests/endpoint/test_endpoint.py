"""fa.models.Endpoint through real HTTP: exact numbers, faults, errors, secrets, cache."""

from __future__ import annotations

import json
import logging
import math
import pickle

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import ModelError
from fairaudit.models import Endpoint

TEST_ROWS = 1200  # rows of the adult_test fixture
SECRET = "tok-3f9a1c-never-shown"
QUERY_SECRET = "q-77b0e2-not-recorded"


def local_and_remote(model, X, ep):
    local = fa.wrap(model)
    remote = fa.wrap(ep)
    return (local.predict(X), local.predict_score(X)), (remote.predict(X), remote.predict_score(X))


def assert_bit_identical(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype == np.float64
    assert np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize(
    ("route", "protocol"),
    [
        ("/predict", "kserve-v1"),
        ("/invocations", "mlflow"),
        ("/v2/models/adult/infer", "open-inference"),
    ],
)
def test_endpoint_audit_equals_local_audit_exactly(
    server_requests, adult_server, adult_model, adult_test, route, protocol
):
    X, y = adult_test
    ep = Endpoint(
        adult_server + route, protocol=protocol, label="label", score="score", batch_size=100
    )
    before = server_requests(adult_server)
    kwargs = {"sensitive_features": "sex", "n_boot": 50, "random_state": 0, "min_group_size": 0}
    remote = fa.audit(ep, X, y, **kwargs)
    sent = server_requests(adult_server) - before
    local = fa.audit(adult_model, X, y, **kwargs)
    # one pass: labels and scores from the same answers, ceil(n / batch_size) requests
    assert sent == math.ceil(TEST_ROWS / 100) == ep.stats["requests"]
    pd.testing.assert_frame_equal(remote.by_group, local.by_group, check_exact=True)
    pd.testing.assert_frame_equal(remote.ci, local.ci, check_exact=True)
    assert remote.provenance["fingerprints"]["y_pred"] == local.provenance["fingerprints"]["y_pred"]
    assert (
        remote.provenance["fingerprints"]["y_score"] == local.provenance["fingerprints"]["y_score"]
    )
    assert remote.provenance["model"]["kind"] == "endpoint"
    assert remote.provenance["model"]["endpoint"]["url"] == adult_server + route


def test_scores_survive_the_json_round_trip_to_the_last_bit(adult_server, adult_model, adult_test):
    X, _ = adult_test
    ep = Endpoint(adult_server + "/predict", label="label", score="score", batch_size=256)
    (labels, scores), (r_labels, r_scores) = local_and_remote(adult_model, X, ep)
    assert np.array_equal(labels, r_labels)
    assert r_labels.dtype == labels.dtype
    assert_bit_identical(scores, r_scores)
    # and the round trip itself: Python writes the shortest repr, which parses back exactly
    assert all(float(json.dumps(float(s))) == s for s in scores)


def test_injected_503s_are_retried_and_numbers_stay_exact(faults, adult_model, adult_test):
    X, y = adult_test
    faults.every = 3
    ep = Endpoint(
        faults.base + "/flaky/predict", label="label", score="score", batch_size=64, backoff=0.01
    )
    remote = fa.audit(ep, X, y, sensitive_features="sex")
    local = fa.audit(adult_model, X, y, sensitive_features="sex")
    pd.testing.assert_frame_equal(remote.by_group, local.by_group, check_exact=True)
    n_batches = math.ceil(TEST_ROWS / 64)
    assert ep.stats["retries"] >= n_batches // 3
    assert faults.total == ep.stats["requests"] <= n_batches + ep.stats["retries"]
    assert faults.total == n_batches + ep.stats["retries"]


def test_slow_answers_past_the_timeout_are_retried(faults, adult_model, adult_test):
    X, _ = adult_test
    X = X.iloc[:300]
    faults.slow_s = 4.0
    ep = Endpoint(
        faults.base + "/slow/predict",
        label="label",
        score="score",
        batch_size=100,
        timeout=2.0,
        backoff=0.01,
        max_concurrency=1,
    )
    (labels, scores), (r_labels, r_scores) = local_and_remote(adult_model, X, ep)
    assert np.array_equal(labels, r_labels)
    assert_bit_identical(scores, r_scores)
    # every odd request is slow, so each batch needs at least two attempts (more if the
    # machine is so loaded that a fast answer also misses the timeout)
    assert ep.stats["retries"] >= 3
    assert ep.stats["requests"] == 3 + ep.stats["retries"] == faults.total


def test_429_honours_retry_after(faults, adult_model, adult_test):
    X, _ = adult_test
    ep = Endpoint(
        faults.base + "/ratelimit/predict",
        label="label",
        score="score",
        batch_size=TEST_ROWS,
        backoff=30.0,
    )  # would wait 15+ s without Retry-After
    assert np.array_equal(fa.wrap(ep).predict(X), adult_model.predict(X))
    assert ep.stats["retries"] == 1


def test_bare_scores_with_predict_proba(faults, adult_model, adult_test):
    X, _ = adult_test
    ep = Endpoint(faults.base + "/bare/predict", batch_size=500)
    m = fa.wrap(ep, response_method="predict_proba")
    assert m.output_kind == "score"
    assert_bit_identical(m.predict_score(X), adult_model.predict_proba(X)[:, 1])
    # labels from the scores (p > 0.5) agree with the model's own predict
    assert np.array_equal(m.predict(X), adult_model.predict(X))


def test_custom_request_and_response_callables(adult_server, adult_model, adult_test):
    X, _ = adult_test
    ep = Endpoint(
        adult_server + "/predict",
        request=lambda records: {"instances": records},
        response=lambda body: [p["score"] for p in body["predictions"]],
        batch_size=400,
    )
    m = fa.wrap(ep, response_method="predict_proba")
    assert_bit_identical(m.predict_score(X), adult_model.predict_proba(X)[:, 1])
    assert ep.describe()["request"].endswith("<lambda>")


def test_orthogonal_importance_through_an_endpoint(adult_server, adult_model, adult_test):
    X, _ = adult_test
    X = X.iloc[:150]
    ep = Endpoint(adult_server + "/predict", label="label", score="score", batch_size=4096)
    kwargs = {"n_repeats": 1, "random_state": 0}
    remote = fa.orthogonal_importance(ep, X, **kwargs)
    local = fa.orthogonal_importance(adult_model, X, **kwargs)
    pd.testing.assert_series_equal(remote.total, local.total, check_exact=True)
    pd.testing.assert_series_equal(remote.direct, local.direct, check_exact=True)


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "match"),
    [
        ("short", r"returned 99 items for a batch of 100 rows \(rows 0\.\.99\)"),
        ("long", r"returned 101 items for a batch of 100 rows"),
        ("html", r"not JSON \(text/html\): '<html><body>Gateway says hi"),
        ("malformed", r"not JSON"),
        ("nan", r"field 'score' holds values that are not finite .* positions \[1, 101, 201"),
        ("text", r"field 'score' .* not finite .* positions \[2, 102.*\"high\""),
        ("outside", r"field 'score' holds probabilities outside \[0, 1\] .* positions \[0, 100"),
        (
            "badlabel",
            r"field 'label' holds labels outside the model's classes \[0, 1\] .* positions \[3, 103.*classes=",
        ),
        (
            "missing",
            r"JSON field 'score' is missing from the items of 3 row\(s\), at positions \[1, 101, 201\]",
        ),
        (
            "badrequest",
            r"batch starting at row 0\): the endpoint answered HTTP 422 .*'field age: expected an integer'",
        ),
        ("servererror", r"HTTP 500 Internal Server Error: 'Internal Server Error'"),
    ],
)
def test_bad_answers_raise_model_error_naming_field_and_rows(faults, adult_test, fault, match):
    X, _ = adult_test
    ep = Endpoint(
        faults.base + f"/{fault}/predict",
        label="label",
        score="score",
        batch_size=100,
        max_concurrency=1,
        backoff=0.0,
    )
    with pytest.raises(ModelError, match=match) as info:
        fa.wrap(ep).predict_score(X.iloc[:300]) if fault != "badlabel" else fa.wrap(ep).predict(
            X.iloc[:300]
        )
    assert faults.base in str(info.value) or "field" in str(info.value)
    assert ep.stats["retries"] == 0  # none of these is retryable


def test_unavailable_after_retries_names_the_url(faults, adult_test):
    X, _ = adult_test
    ep = Endpoint(
        faults.base + "/down/predict",
        score="score",
        retries=2,
        backoff=0.0,
        max_concurrency=1,
        batch_size=TEST_ROWS,
    )
    with pytest.raises(
        ModelError,
        match=r"/down/predict \(batch starting at row 0\): no usable answer after 3 attempt\(s\); last: HTTP 503",
    ):
        fa.wrap(ep).predict_score(X)
    assert faults.total == 3


def test_refused_connection_names_the_url(adult_test, free_port):
    X, _ = adult_test
    url = f"http://127.0.0.1:{free_port}/predict"
    ep = Endpoint(url, score="score", retries=1, backoff=0.0, timeout=2.0)
    with pytest.raises(
        ModelError, match=r"127\.0\.0\.1:\d+/predict .*after 2 attempt\(s\); last: ConnectError"
    ):
        fa.wrap(ep).predict(X.iloc[:10])


def test_401_is_not_retried_and_quotes_the_server(faults, adult_test):
    X, _ = adult_test
    ep = Endpoint(
        faults.base + "/unauthorized/predict",
        label="label",
        score="score",
        headers={"Authorization": "Bearer wrong-" + SECRET},
        max_concurrency=1,
    )
    with pytest.raises(
        ModelError, match=r"HTTP 401 Unauthorized: 'invalid token'\. Check the credentials"
    ) as info:
        fa.wrap(ep).predict(X.iloc[:10])
    assert SECRET not in str(info.value)
    assert faults.total == 1


def test_labels_outside_string_classes(faults, adult_test):
    X, _ = adult_test
    ep = Endpoint(faults.base + "/ok/predict", label="label", classes=["no", "yes"])
    with pytest.raises(ModelError, match=r"outside the model's classes \['no', 'yes'\]"):
        fa.wrap(ep, pos_label="yes").predict(X.iloc[:5])


def test_objects_without_field_names(faults, adult_test):
    X, _ = adult_test
    ep = Endpoint(faults.base + "/ok/predict")
    with pytest.raises(
        ModelError, match=r"returned JSON objects \(keys \['label', 'score'\]\).*label="
    ):
        fa.wrap(ep).predict(X.iloc[:5])


# -- secrets ----------------------------------------------------------------------------------


def test_headers_never_appear_in_reports_provenance_logs_or_repr(
    faults, adult_test, caplog, tmp_path
):
    X, y = adult_test
    X, y = X.iloc[:200], y.iloc[:200]
    faults.every = 2
    # the query string is sent but never recorded by fairaudit (httpx's own INFO log line
    # shows it, which is why secrets belong in headers)
    ep = Endpoint(
        faults.base + "/flaky/predict?api_key=" + QUERY_SECRET,
        label="label",
        score="score",
        headers={"Authorization": "Bearer " + SECRET},
        batch_size=50,
        backoff=0.0,
    )
    with caplog.at_level(logging.DEBUG):
        gm = fa.audit(ep, X, y, sensitive_features="sex")
    assert faults.seen_headers
    assert all(h["Authorization"] == "Bearer " + SECRET for h in faults.seen_headers)
    assert ep.stats["retries"] > 0  # the retry log lines were written
    records = [
        repr(ep),
        str(ep.describe()),
        json.dumps(gm.to_dict()),
        json.dumps(fa.wrap(ep).describe()),
        repr(fa.wrap(ep)),
    ]
    report = fa.Report(title="t").add(gm)
    report.save(tmp_path / "r.json")
    records.append((tmp_path / "r.json").read_text())
    for text in records:
        assert SECRET not in text
        assert QUERY_SECRET not in text
    # logs, ours and httpx/httpcore's down to DEBUG: never the header
    assert "retry 1/5" in caplog.text
    assert SECRET not in caplog.text
    assert all(
        QUERY_SECRET not in r.getMessage() for r in caplog.records if r.name.startswith("fairaudit")
    )
    assert gm.provenance["model"]["endpoint"]["url"] == faults.base + "/flaky/predict"
    # a pickled endpoint keeps working (the lock and client are rebuilt)
    clone = pickle.loads(pickle.dumps(ep))
    assert clone.stats == ep.stats


def test_credentials_in_the_url_are_refused():
    with pytest.raises(ValueError, match=r"carries credentials.*headers=") as info:
        Endpoint("https://alice:hunter2@models.example.com/predict")
    assert "hunter2" not in str(info.value)


# -- bad arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"protocol": "kserve"},
            ValueError,
            r"protocol='kserve' is not a known protocol\. Did you mean 'kserve-v1'\?",
        ),
        (
            {"protocol": "grpc"},
            ValueError,
            r"Known: \['kserve-v1', 'mlflow', 'open-inference', 'records'\]",
        ),
        ({"batch_size": 0}, ValueError, r"batch_size must be >= 1, got 0"),
        ({"batch_size": 2.5}, TypeError, r"batch_size must be an int"),
        ({"max_concurrency": 0}, ValueError, r"max_concurrency must be >= 1"),
        ({"timeout": 0}, ValueError, r"timeout must be > 0"),
        ({"retries": -1}, ValueError, r"retries must be >= 0"),
        (
            {"headers": {"X-Key": 3}},
            TypeError,
            r"headers must map str to str; the header\(s\) \['X-Key'\]",
        ),
        ({"headers": "Bearer x"}, TypeError, r"headers must be a mapping"),
        ({"label": 1}, TypeError, r"label must be a field name"),
        ({"classes": [1]}, ValueError, r"classes must list at least two distinct labels"),
        ({"request": "json"}, TypeError, r"request must be a callable"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Endpoint("http://127.0.0.1:1/predict", **kwargs)


@pytest.mark.parametrize("url", ["ftp://host/x", "127.0.0.1:8000/predict", "http:///predict"])
def test_bad_urls(url):
    with pytest.raises(ValueError, match="http:// or https:// URL with a host"):
        Endpoint(url)


def test_wrap_options_for_endpoints():
    ep = Endpoint("http://127.0.0.1:1/p", score="score")
    with pytest.raises(ValueError, match="batch_size is set on the Endpoint"):
        fa.wrap(ep, batch_size=10)
    with pytest.raises(ValueError, match="names only a score field"):
        fa.wrap(ep, response_method="predict")
    with pytest.raises(ValueError, match="decision_function"):
        fa.wrap(ep, response_method="decision_function")
    with pytest.raises(ValueError, match=r"pos_label=2 is not one of the endpoint's classes"):
        fa.wrap(ep, pos_label=2)
    assert fa.wrap(Endpoint("http://127.0.0.1:1/p", label="l")).output_kind == "label"


def test_infinite_feature_values_are_refused_before_sending(faults):
    ep = Endpoint(faults.base + "/ok/predict", label="label")
    with pytest.raises(fa.exceptions.DataError, match="column 'age' has infinite values"):
        fa.wrap(ep).predict(pd.DataFrame({"age": [1.0, np.inf]}))
    assert faults.total == 0


# -- cache ------------------------------------------------------------------------------------


def test_cache_resumes_an_interrupted_audit(faults, adult_model, adult_test, tmp_path):
    X, y = adult_test
    cache = tmp_path / "answers.sqlite"
    faults.fail_after = 4
    url = faults.base + "/interrupt/predict"
    ep = Endpoint(url, label="label", score="score", batch_size=100, max_concurrency=1, cache=cache)
    with pytest.raises(ModelError, match="HTTP 400 Bad Request: 'quota exhausted'"):
        fa.audit(ep, X, y, sensitive_features="sex")
    assert ep.stats["rows_sent"] == 400
    assert faults.total == 5  # nothing more was sent after the failing batch
    # the quota is back: a new process (a new Endpoint) resumes from the cache
    faults.fail_after = 10**9
    faults.reset()
    ep2 = Endpoint(
        url, label="label", score="score", batch_size=100, max_concurrency=1, cache=cache
    )
    remote = fa.audit(ep2, X, y, sensitive_features="sex")
    # the 400 rows sent, and later rows identical to one of them (Adult has duplicate rows)
    hits = ep2.stats["cache_hits"]
    assert 400 <= hits < 420
    assert faults.total == math.ceil((TEST_ROWS - hits) / 100)
    assert ep2.stats["rows_sent"] == TEST_ROWS - hits
    local = fa.audit(adult_model, X, y, sensitive_features="sex")
    pd.testing.assert_frame_equal(remote.by_group, local.by_group, check_exact=True)
    # everything is cached now: a reordered copy of X sends nothing
    faults.reset()
    ep3 = Endpoint(url, label="label", score="score", cache=cache)
    shuffled = X.sample(frac=1.0, random_state=0)[list(reversed(X.columns))]
    assert_bit_identical(
        fa.wrap(ep3).predict_score(shuffled), adult_model.predict_proba(shuffled[X.columns])[:, 1]
    )
    assert faults.total == 0
    assert ep3.stats["cache_hits"] == TEST_ROWS


def test_cache_file_that_is_not_sqlite(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database, " * 100)
    ep = Endpoint("http://127.0.0.1:1/p", label="l", cache=path)
    with pytest.raises(ValueError, match=r"cannot be used as an SQLite cache file"):
        ep.query(pd.DataFrame({"a": [1]}))
