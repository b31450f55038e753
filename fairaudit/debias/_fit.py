"""One estimator fit: build the default networks or check the user's, train, predict."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from fairaudit.debias._config import FitConfig, FitResult
from fairaudit.debias._nn import (
    ConcatAdversary,
    MulticlassAdversary,
    ZhangAdversary,
    _bce,
    _cross_entropy,
    _device_of,
    _mse,
    _to_tensor,
    make_mlp,
)
from fairaudit.debias._trainer import AdversarialTrainer, TensorBatches
from fairaudit.exceptions import ModelError

__all__ = ["fit_networks", "predict_output"]


def _check_user_module(module: Any, *, name: str, device: torch.device) -> nn.Module:
    if not isinstance(module, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(module).__name__}.")
    module = copy.deepcopy(module)
    found = _device_of(module)
    if found is not None and found != device:
        raise ModelError(
            f"{name} has its parameters on device {found} but the estimator's device is "
            f"{device}; pass device={str(found)!r} or move the module with "
            f".to({str(device)!r})."
        )
    return module


def _check_output(out: torch.Tensor, *, name: str, n_rows: int, n_outputs: int) -> None:
    ok = out.ndim in (1, 2) and out.shape[0] == n_rows
    width = 1 if out.ndim == 1 else out.shape[1]
    if not ok or width != n_outputs:
        raise ModelError(
            f"{name} returned shape {tuple(out.shape)} for {n_rows} rows; expected "
            f"({n_rows}, {n_outputs})" + (f" or ({n_rows},)" if n_outputs == 1 else "") + "."
        )


def fit_networks(
    est: FitConfig,
    X: Any,
    y: Any,
    z: Any,
    *,
    task: str,
    z_kind: str,
    n_z_outputs: int,
    seed: int,
    sample_weight: Any = None,
    n_classes: int = 2,
) -> FitResult:
    """Build the networks of a fit, train them, return them and the history.

    ``sample_weight`` (validated, float64, or None) resamples the training rows of every
    epoch in proportion to the weights; the early-stopping hold-out is not weighted.
    """
    device = torch.device(est.device)
    generator = torch.Generator().manual_seed(seed)
    xt = _to_tensor(X, dtype=torch.float32, device=device)
    yt = _to_tensor(y, dtype=torch.float32, device=device)
    zt = _to_tensor(z, dtype=None, device=device)
    if z_kind != "multiclass":
        zt = zt.to(torch.float32)
    n_features = xt.shape[1]
    # a multi-class predictor returns one logit per class; binary and regression one value
    n_out = n_classes if task == "multiclass" else 1

    predictor: nn.Module
    if est.predictor is None:
        predictor = make_mlp(n_features, n_out, est.hidden_layer_sizes, generator=generator).to(
            device
        )
    else:
        predictor = _check_user_module(est.predictor, name="predictor", device=device)
    constraint = est.constraint
    if est.adversary is not None:
        adversary = _check_user_module(est.adversary, name="adversary", device=device)
    elif task == "multiclass":
        adversary = MulticlassAdversary(
            n_classes,
            n_z_outputs,
            constraint=constraint,
            hidden_layer_sizes=est.adversary_hidden_layer_sizes,
            generator=generator,
        ).to(device)
    elif task == "binary" and est.adversary_input != "concat":
        adversary = ZhangAdversary(
            n_z_outputs,
            constraint=constraint,
            with_y=est.adversary_input == "zhang_y",
            hidden_layer_sizes=est.adversary_hidden_layer_sizes,
            generator=generator,
        ).to(device)
    else:
        adversary = ConcatAdversary(
            1,
            n_z_outputs,
            constraint=constraint,
            hidden_layer_sizes=est.adversary_hidden_layer_sizes,
            generator=generator,
        ).to(device)

    with torch.no_grad():
        probe = predictor(xt[:2])
        _check_output(probe, name="predictor", n_rows=min(2, len(xt)), n_outputs=n_out)
        adv_out = adversary(probe.reshape(len(probe), -1), yt[:2])
        _check_output(adv_out, name="adversary", n_rows=min(2, len(xt)), n_outputs=n_z_outputs)

    if est.optimizer == "sgd":
        opt_p: torch.optim.Optimizer = torch.optim.SGD(
            predictor.parameters(), lr=est.learning_rate, foreach=True
        )
        opt_a: torch.optim.Optimizer = torch.optim.SGD(
            adversary.parameters(), lr=est.adversary_learning_rate, foreach=True
        )
    else:
        # foreach: one kernel per step for all parameters (small networks are overhead-bound)
        opt_p = torch.optim.Adam(predictor.parameters(), lr=est.learning_rate, foreach=True)
        opt_a = torch.optim.Adam(
            adversary.parameters(), lr=est.adversary_learning_rate, foreach=True
        )
    adversary_loss = {"binary": _bce, "multiclass": _cross_entropy, "continuous": _mse}[z_kind]
    predictor_loss = {"binary": _bce, "multiclass": _cross_entropy, "regression": _mse}[task]

    trainer = AdversarialTrainer(
        predictor,
        adversary,
        predictor_optimizer=opt_p,
        adversary_optimizer=opt_a,
        predictor_loss=predictor_loss,
        adversary_loss=adversary_loss,
        constraint=constraint,
        mode=est.mode,
        alpha=est.alpha,
        alpha_schedule=est.alpha_schedule,
        adversary_steps=est.adversary_steps,
        warmup_epochs=est.warmup_epochs,
        lr_decay=est.lr_decay,
        callbacks=est.callbacks,
        progress=est.progress,
    )
    n = len(xt)
    val_loader = None
    patience = None
    if est.early_stopping:
        order = torch.randperm(n, generator=generator)
        n_val = max(1, round(est.validation_fraction * n))
        if n - n_val < 1:
            raise ValueError(
                f"early_stopping holds out {n_val} of {n} rows, leaving none to train on; "
                "lower validation_fraction or pass more rows."
            )
        val_idx, train_idx = order[:n_val], order[n_val:]
        val_loader = TensorBatches(
            xt[val_idx], yt[val_idx], zt[val_idx], batch_size=4096, shuffle=False
        )
        patience = est.n_iter_no_change
        xt, yt, zt = xt[train_idx], yt[train_idx], zt[train_idx]
        if sample_weight is not None:
            sample_weight = sample_weight[train_idx.numpy()]
    weights = None
    # equal weights are no weights: keep the permutation order (same model as without)
    if sample_weight is not None and not (sample_weight == sample_weight[0]).all():
        weights = torch.from_numpy(sample_weight.astype("float64"))
    loader = TensorBatches(
        xt, yt, zt, batch_size=est.batch_size, generator=generator, weights=weights
    )
    trainer.fit(loader, epochs=est.epochs, val_loader=val_loader, patience=patience)
    return FitResult(
        predictor=predictor,
        adversary=adversary,
        history=trainer.history,
        best_epoch=trainer.best_epoch,
    )


@torch.no_grad()
def predict_output(predictor: nn.Module, X: Any, *, batch_size: int) -> Any:
    """Run ``predictor`` over ``X`` in batches: float64, shape (n,) or (n, n_classes)."""
    predictor.eval()
    device = _device_of(predictor) or torch.device("cpu")
    xt = _to_tensor(X, dtype=torch.float32, device=device)
    parts = [predictor(xt[i : i + batch_size]) for i in range(0, len(xt), batch_size)]
    out = torch.cat(parts) if parts else torch.empty(0)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out.reshape(-1)
    return out.cpu().double().numpy()
