"""The FastAPI hook: served predictions land in the monitor."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
import pytest

from fairaudit.monitor import FairnessMonitor
from fairaudit.monitor.fastapi import record_predictions

fastapi = pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")


def create_app():
    """A small model server with the same bodies as examples/serve_adult.py (KServe v1)."""
    app = fastapi.FastAPI()

    @app.post("/predict")
    def predict(body: dict):
        if "instances" not in body:
            raise fastapi.HTTPException(status_code=400, detail="no instances")
        return {
            "predictions": [
                {"label": int(r["age"] > 40), "score": r["age"] / 100} for r in body["instances"]
            ]
        }

    @app.post("/other")
    def other(body: dict):
        return {"predictions": [1] * len(body["instances"])}

    return app


def post_all(app, requests: list[tuple[str, object]]) -> list[int]:
    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            codes = []
            for path, body in requests:
                if isinstance(body, bytes):
                    r = await client.post(path, content=body)
                else:
                    r = await client.post(path, json=body)
                codes.append(r.status_code)
            return codes

    return asyncio.run(run())


def _records(rng, n):
    return [
        {"age": int(a), "sex": str(s), "id": f"r{i}"}
        for i, (a, s) in enumerate(
            zip(rng.integers(18, 80, n), rng.choice(["F", "M"], n), strict=True)
        )
    ]


def test_buffered_hook_records_every_served_prediction(tmp_path, rng):
    app = create_app()
    mon = FairnessMonitor(tmp_path / "s.db", sensitive_features=["sex"], min_group_size=1)
    recorder = record_predictions(app, mon, flush_interval=0.05)
    records = _records(rng, 300)
    chunks = [records[i : i + 30] for i in range(0, 300, 30)]
    codes = post_all(app, [("/predict", {"instances": c}) for c in chunks])
    recorder.close()
    assert codes == [200] * 10
    frame = mon.counts().set_index("sex")
    for sex in ("F", "M"):
        ages = np.array([r["age"] for r in records if r["sex"] == sex])
        assert frame.loc[sex, "unlabeled_positive"] == int((ages > 40).sum())
        assert frame.loc[sex, "unlabeled_negative"] == int((ages <= 40).sum())
    assert recorder.stats["requests"] == 10
    assert recorder.stats["rows"] == 300
    mon.close()


def test_unbuffered_hook_writes_before_the_response_and_ids_join_labels(tmp_path, rng):
    app = create_app()
    mon = FairnessMonitor(tmp_path / "s.db", sensitive_features=["sex"], min_group_size=1)
    recorder = record_predictions(app, mon, flush_interval=0, id_key="id")
    records = _records(rng, 20)
    post_all(app, [("/predict", {"instances": records})])
    assert mon.counters["rows_received"] == 20  # durable before close()
    assert mon.update_labels([r["id"] for r in records[:5]], [1] * 5) == 5
    recorder.close()
    mon.close()


def test_other_routes_errors_and_unreadable_bodies_are_not_recorded(tmp_path, rng, caplog):
    app = create_app()
    mon = FairnessMonitor(tmp_path / "s.db", sensitive_features=["sex"], min_group_size=1)
    recorder = record_predictions(app, mon, flush_interval=0)
    records = _records(rng, 4)
    with caplog.at_level(logging.WARNING, logger="fairaudit.monitor.fastapi"):
        codes = post_all(
            app,
            [
                ("/other", {"instances": records}),  # another route
                ("/predict", {"rows": records}),  # a 400 from the app
                ("/predict", {"instances": [{"age": 50}]}),  # no sex: skipped, logged
            ],
        )
    assert codes == [200, 400, 200]
    assert mon.counters["rows_received"] == 0
    assert recorder.stats["skipped"] == 1
    assert "could not read a served prediction" in caplog.text
    recorder.close()
    mon.close()


def test_custom_extract(tmp_path):
    app = fastapi.FastAPI()

    @app.post("/score")
    def score(body: dict):
        return {"decisions": ["approve" if x > 0 else "deny" for x in body["x"]]}

    mon = FairnessMonitor(
        tmp_path / "s.db", sensitive_features=["g"], pos_label="approve", min_group_size=1
    )

    def extract(request, response):
        return response["decisions"], {"g": request["group"]}, None

    recorder = record_predictions(app, mon, path="/score", extract=extract, flush_interval=0)
    post_all(app, [("/score", {"x": [1, -1, 2], "group": ["a", "a", "b"]})])
    recorder.close()
    assert mon.current().by_group["selection_rate"].tolist() == [0.5, 1.0]
    mon.close()


def test_bad_arguments(tmp_path):
    mon = FairnessMonitor(tmp_path / "s.db", sensitive_features=["g"])
    with pytest.raises(TypeError, match="FastAPI or Starlette app"):
        record_predictions(object(), mon)
    with pytest.raises(ValueError, match="path must be a route"):
        record_predictions(create_app(), mon, path="predict")
    with pytest.raises(ValueError, match="flush_interval"):
        record_predictions(create_app(), mon, flush_interval=-1)
    mon.close()


def test_reference_server_records_into_a_monitor(tmp_path):
    """examples/serve_adult.py with a monitor: served predictions land in the store."""
    import sys
    from pathlib import Path

    import fairaudit as fa

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    try:
        import serve_adult
    finally:
        sys.path.pop(0)
    model = serve_adult.train_adult_model(random_state=0, n_rows=2000)
    mon = FairnessMonitor(tmp_path / "m.db", sensitive_features=["sex", "race"], min_group_size=0)
    app = serve_adult.create_app(model, monitor=mon)
    test = fa.datasets.load_adult(split="test").X.iloc[:50]
    records = [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in test.to_dict("records")
    ]
    assert post_all(app, [("/predict", {"instances": records})]) == [200]
    app.state.recorder.close()  # flushes what the background writer holds
    gm = mon.current()
    assert int(gm.by_group["count"].sum()) == 50
    expected = model.predict(test)
    assert gm.overall["selection_rate"] == pytest.approx(expected.mean())
    # the served score is recorded too (the model's predict_proba, exact float round trip)
    frame = mon.counts()
    assert int(frame["scored"].sum()) == 50
    proba = model.predict_proba(test)[:, 1]
    total = float((frame["scored"] * frame["mean_score"]).sum())
    assert total == pytest.approx(proba.sum(), rel=1e-12)


def test_served_scores_are_recorded_and_late_labels_give_roc_auc(tmp_path, rng):
    import pandas as pd

    import fairaudit as fa

    app = create_app()
    mon = FairnessMonitor(
        tmp_path / "s.db", sensitive_features=["sex"], min_group_size=1, score_decimals=2
    )
    recorder = record_predictions(app, mon, flush_interval=0.05, id_key="id")
    records = _records(rng, 200)
    post_all(app, [("/predict", {"instances": records[i : i + 50]}) for i in range(0, 200, 50)])
    recorder.close()
    outcomes = rng.integers(0, 2, 200)
    mon.update_labels([r["id"] for r in records], outcomes)
    ages = np.array([r["age"] for r in records])
    expected = fa.group_metrics(
        outcomes,
        (ages > 40).astype(int),
        y_score=np.round(ages / 100, 2),
        sensitive_features=pd.Series([r["sex"] for r in records], name="sex"),
        metrics=["selection_rate", "roc_auc", "brier_score", "calibration_error"],
        ci_method="wilson",
    )
    pd.testing.assert_frame_equal(mon.current().by_group, expected.by_group)
    mon.close()


def test_custom_extract_may_return_scores_and_score_key_none_records_none(tmp_path):
    app = create_app()
    mon = FairnessMonitor(tmp_path / "s.db", sensitive_features=["sex"], min_group_size=1)

    def extract(request, response):
        rows = request["instances"]
        return [1] * len(rows), {"sex": [r["sex"] for r in rows]}, None, [0.5] * len(rows)

    recorder = record_predictions(app, mon, extract=extract, flush_interval=0)
    post_all(app, [("/predict", {"instances": _records(np.random.default_rng(0), 3)})])
    recorder.close()
    assert int(mon.counts()["scored"].sum()) == 3
    mon.close()
    app = create_app()
    mon = FairnessMonitor(tmp_path / "t.db", sensitive_features=["sex"], min_group_size=1)
    recorder = record_predictions(app, mon, score_key=None, flush_interval=0)
    post_all(app, [("/predict", {"instances": _records(np.random.default_rng(0), 3)})])
    recorder.close()
    assert "scored" not in mon.counts()
    mon.close()
