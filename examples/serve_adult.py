"""Reference model server: the UCI Adult model behind HTTP, as a production team would serve it.

    python examples/serve_adult.py [--host 127.0.0.1] [--port 8000] [--model model.pkl]
                                   [--monitor-store monitor.db]

Routes (FastAPI + uvicorn):

- ``POST /predict`` (KServe v1 / TF Serving): ``{"instances": [record, ...]}`` ->
  ``{"predictions": [{"label": 0, "score": 0.12}, ...]}``;
- ``POST /invocations`` (MLflow scoring server): ``{"dataframe_split": {"columns": [...],
  "data": [[...], ...]}}`` -> ``{"predictions": [{"label": ..., "score": ...}, ...]}`` (what
  MLflow returns for a pyfunc model whose output is a DataFrame);
- ``POST /v2/models/adult/infer`` (Open Inference v2): one input tensor per column ->
  ``{"outputs": [{"name": "label", ...}, {"name": "score", ...}]}``;
- ``GET /health``: ``{"status": "ok"}``; ``GET /stats``: requests and rows served so far.

``label`` is the model's own ``predict`` and ``score`` its ``predict_proba`` for ``>50K``, as
JSON floats (Python writes the shortest repr, so a float64 survives the round trip exactly).

The model is a scikit-learn pipeline trained at start-up on the shipped Adult train split
(seeded, a few seconds, nothing downloaded), or loaded from ``--model`` (a pickle written by
:func:`train_adult_model` in a trusted place: never load pickles from elsewhere). Unlike
``docs/examples/audit_adult.py`` the model DOES read ``sex`` and ``race``, so that a flip test
has something to find. The app is built by :func:`create_app`, so that it can be extended
or served by any ASGI server. With ``--monitor-store`` (or ``create_app(monitor=...)``), every
prediction served on ``/predict`` is recorded into a :class:`fairaudit.monitor.FairnessMonitor`
by sex and race (one line: :func:`fairaudit.monitor.fastapi.record_predictions`), decision and
score (rounded to 3 decimals in a new store), so that ROC AUC, Brier score and calibration per
group follow once labels arrive (``fairaudit monitor ingest LABELS.csv --target y --id id``);
serve its gauges to Prometheus with ``fairaudit monitor serve --store monitor.db``.
"""

from __future__ import annotations

import argparse
import json
import pickle
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


def train_adult_model(random_state: int = 0, n_rows: int | None = None) -> Any:
    """Fit the reference pipeline (scaling + one-hot + logistic regression) on Adult train.

    ``n_rows`` fits on the first rows only (tests use it to start faster).
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    import fairaudit as fa

    train = fa.datasets.load_adult(split="train")
    X, y = train.X, train.y
    if n_rows is not None:
        X, y = X.iloc[:n_rows], y.iloc[:n_rows]
    categorical = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    numeric = [c for c in X.columns if c not in categorical]
    model = make_pipeline(
        ColumnTransformer(
            [
                ("num", StandardScaler(), numeric),
                ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
            ]
        ),
        LogisticRegression(max_iter=1000, random_state=random_state),
    )
    return model.fit(X, y)


def create_app(
    model: Any = None, *, feature_names: list[str] | None = None, monitor: Any = None
) -> Any:
    """Build the FastAPI app serving ``model`` (default: :func:`train_adult_model`).

    With ``monitor`` (a :class:`fairaudit.monitor.FairnessMonitor` whose sensitive features
    are columns of the served records), every prediction served on ``/predict`` is recorded.
    """
    if model is None:
        model = train_adult_model()
    features = list(feature_names or model.feature_names_in_)
    app = FastAPI(title="fairaudit reference server: UCI Adult")
    app.state.model = model
    app.state.lock = threading.Lock()
    app.state.stats = {"requests": 0, "rows": 0}
    if monitor is not None:
        from fairaudit.monitor.fastapi import record_predictions

        # the one line that watches the served model's fairness in production
        app.state.recorder = record_predictions(app, monitor)

    def predict(frame: pd.DataFrame) -> tuple[list[int], list[float]]:
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise ValueError(f"missing feature columns: {missing}")
        frame = frame[features]
        labels = np.asarray(model.predict(frame)).tolist()
        scores = model.predict_proba(frame)[:, 1].tolist()
        with app.state.lock:
            app.state.stats["rows"] += len(frame)
        return labels, scores

    def count() -> None:
        with app.state.lock:
            app.state.stats["requests"] += 1

    def error(status: int, message: str) -> Response:
        return JSONResponse({"error": message}, status_code=status)

    def ok(body: Any) -> Response:
        return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")

    async def read_json(request: Request) -> Any:
        return json.loads(await request.body())

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/stats")
    async def stats() -> dict[str, int]:
        with app.state.lock:
            return dict(app.state.stats)

    @app.post("/predict")
    async def predict_v1(request: Request) -> Response:
        count()
        try:
            body = await read_json(request)
            labels, scores = predict(pd.DataFrame(body["instances"]))
        except (ValueError, KeyError, TypeError) as exc:
            return error(400, f"bad request: {exc}")
        return ok(
            {"predictions": [{"label": a, "score": b} for a, b in zip(labels, scores, strict=True)]}
        )

    @app.post("/invocations")
    async def invocations(request: Request) -> Response:
        count()
        try:
            split = (await read_json(request))["dataframe_split"]
            labels, scores = predict(pd.DataFrame(split["data"], columns=split["columns"]))
        except (ValueError, KeyError, TypeError) as exc:
            return error(400, f"bad request: {exc}")
        return ok(
            {"predictions": [{"label": a, "score": b} for a, b in zip(labels, scores, strict=True)]}
        )

    @app.post("/v2/models/adult/infer")
    async def infer_v2(request: Request) -> Response:
        count()
        try:
            inputs = (await read_json(request))["inputs"]
            frame = pd.DataFrame({t["name"]: t["data"] for t in inputs})
            labels, scores = predict(frame)
        except (ValueError, KeyError, TypeError) as exc:
            return error(400, f"bad request: {exc}")
        n = len(labels)
        return ok(
            {
                "model_name": "adult",
                "outputs": [
                    {"name": "label", "shape": [n], "datatype": "INT64", "data": labels},
                    {"name": "score", "shape": [n], "datatype": "FP64", "data": scores},
                ],
            }
        )

    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the model with uvicorn (the command line of this script)."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", type=Path, help="pickled fitted pipeline (default: train one)")
    parser.add_argument(
        "--monitor-store", type=Path, help="record every prediction into this monitor store"
    )
    args = parser.parse_args(argv)
    model = None
    if args.model is not None:
        with args.model.open("rb") as fh:
            model = pickle.load(fh)
    monitor = None
    if args.monitor_store is not None:
        from fairaudit.monitor import FairnessMonitor

        if args.monitor_store.is_file():  # an existing store keeps its settings
            monitor = FairnessMonitor(args.monitor_store)
        else:
            monitor = FairnessMonitor(
                args.monitor_store, sensitive_features=["sex", "race"], score_decimals=3
            )
    app = create_app(model, monitor=monitor)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        if monitor is not None:
            app.state.recorder.close()


if __name__ == "__main__":
    main()
