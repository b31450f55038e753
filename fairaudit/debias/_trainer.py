"""The adversarial training loop (:class:`AdversarialTrainer`) and the batches it iterates."""

from __future__ import annotations

import copy
import logging
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import nn

from fairaudit.debias._config import CONSTRAINTS, MODES
from fairaudit.debias._nn import GradientReversal, _bce, _device_of, project_out
from fairaudit.debias._schedules import AlphaSchedule, alpha_at, check_alpha_schedule
from fairaudit.exceptions import ModelError

__all__ = ["AdversarialTrainer", "TensorBatches"]

logger = logging.getLogger("fairaudit.debias._torch")

Callback = Callable[["AdversarialTrainer", int, dict[str, float]], bool | None]


class AdversarialTrainer:
    """Train any torch predictor against an adversary that tries to recover z from its output.

    The lower-level loop behind :class:`AdversarialDebiasingClassifier`: bring your own
    predictor, adversary, optimizers and DataLoader (batches of ``(x, y, z)``) to debias an
    existing torch model at training time.

    Parameters
    ----------
    predictor : torch.nn.Module
        Maps a batch ``x`` to an output (a logit for a binary classifier).
    adversary : torch.nn.Module
        Called as ``adversary(output, y)``; returns a prediction of z (logits, or values for a
        continuous z). :class:`ZhangAdversary` and :class:`ConcatAdversary` are ready-made.
    predictor_optimizer, adversary_optimizer : torch.optim.Optimizer
        Optimizers over the predictor's and the adversary's parameters.
    predictor_loss : callable, optional
        ``loss(output, y) -> scalar``; default binary cross-entropy on logits.
    adversary_loss : callable, optional
        ``loss(adversary_output, z) -> scalar``; default binary cross-entropy on logits.
    constraint : {"demographic_parity", "equalized_odds", "equal_opportunity"}
        ``"equal_opportunity"`` feeds the adversary only the rows with ``y == 1``. The adversary
        decides what it reads; ``y`` is always passed to it.
    mode : {"projection", "grl"}, default="projection"
        ``"projection"``: the predictor's gradient is
        ``grad_P - proj_{grad_A} grad_P - alpha * grad_A`` (Zhang et al. 2018), computed per
        parameter on the flattened gradients. ``"grl"``: a :class:`GradientReversal` layer
        between predictor and adversary, one backward pass (Ganin & Lempitsky 2015).
    alpha : float, default=1.0
        Weight of the adversary in the predictor's update.
    alpha_schedule : {"constant", "sqrt", "ramp"} or callable, default="constant"
        See :func:`fairaudit.debias._schedules.alpha_at`.
    adversary_steps : int, default=1
        Adversary updates per predictor update, all on the same batch. In projection mode
        the last one shares the predictor's backward pass: adversary and predictor move
        simultaneously from the same state, as in Zhang et al.
    warmup_epochs : int, default=0
        Epochs of the predictor alone before the adversary starts.
    lr_decay : {None, "inverse_time"}, default=None
        ``"inverse_time"`` sets each learning rate to ``initial / t`` (``t`` in fractional
        epochs of adversarial training, from 1), as the paper pairs with ``alpha_schedule="sqrt"``.
    callbacks : sequence of callable, default=()
        Each called after every epoch as ``callback(trainer, epoch, logs)``; returning True
        stops training.
    progress : bool or None, default=None
        Show a tqdm bar over epochs; None shows it only when stderr is a terminal.

    Attributes
    ----------
    history : list of dict
        One record per epoch: ``epoch``, ``alpha``, ``predictor_loss``, ``adversary_loss``
        (means over batches) and, with a validation loader, ``val_predictor_loss``,
        ``val_adversary_loss`` and ``val_objective``.
    best_epoch : int or None
        The epoch restored by early stopping.

    Notes
    -----
    Adam rescales every coordinate of the gradient it receives, so the update it applies is no
    longer orthogonal to the adversary's gradient: the projection then only shapes the
    direction Adam starts from. With plain SGD the update is exactly the projected gradient.

    References
    ----------
    Zhang, B. H., Lemoine, B. and Mitchell, M. (2018). Mitigating unwanted biases with
    adversarial learning. AIES.

    Examples
    --------
    >>> import torch
    >>> from fairaudit.debias import AdversarialTrainer, ZhangAdversary
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(64, 3, generator=g)
    >>> z = (x[:, 0] > 0).float()
    >>> y = ((x[:, 1] + x[:, 0]) > 0).float()
    >>> predictor = torch.nn.Linear(3, 1)
    >>> adversary = ZhangAdversary(1, constraint="demographic_parity")
    >>> trainer = AdversarialTrainer(
    ...     predictor, adversary,
    ...     predictor_optimizer=torch.optim.SGD(predictor.parameters(), lr=0.1),
    ...     adversary_optimizer=torch.optim.SGD(adversary.parameters(), lr=0.1),
    ...     constraint="demographic_parity", alpha=1.0)
    >>> loader = torch.utils.data.DataLoader(
    ...     torch.utils.data.TensorDataset(x, y, z), batch_size=16)
    >>> len(trainer.fit(loader, epochs=2).history)
    2
    """

    def __init__(
        self,
        predictor: nn.Module,
        adversary: nn.Module,
        *,
        predictor_optimizer: torch.optim.Optimizer,
        adversary_optimizer: torch.optim.Optimizer,
        predictor_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        adversary_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        constraint: str = "demographic_parity",
        mode: str = "projection",
        alpha: float = 1.0,
        alpha_schedule: AlphaSchedule = "constant",
        adversary_steps: int = 1,
        warmup_epochs: int = 0,
        lr_decay: str | None = None,
        callbacks: Sequence[Callback] = (),
        progress: bool | None = None,
    ) -> None:
        if not isinstance(predictor, nn.Module):
            raise TypeError(f"predictor must be a torch.nn.Module, got {type(predictor).__name__}.")
        if not isinstance(adversary, nn.Module):
            raise TypeError(f"adversary must be a torch.nn.Module, got {type(adversary).__name__}.")
        if constraint not in CONSTRAINTS:
            raise ValueError(f"constraint must be one of {list(CONSTRAINTS)}, got {constraint!r}.")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}.")
        if lr_decay not in (None, "inverse_time"):
            raise ValueError(f"lr_decay must be None or 'inverse_time', got {lr_decay!r}.")
        check_alpha_schedule(alpha_schedule)
        if int(adversary_steps) < 1:
            raise ValueError(f"adversary_steps must be >= 1, got {adversary_steps!r}.")
        if alpha < 0 or not math.isfinite(alpha):
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}.")
        self.predictor = predictor
        self.adversary = adversary
        self.predictor_optimizer = predictor_optimizer
        self.adversary_optimizer = adversary_optimizer
        self.predictor_loss = predictor_loss or _bce
        self.adversary_loss = adversary_loss or _bce
        self.constraint = constraint
        self.mode = mode
        self.alpha = float(alpha)
        self.alpha_schedule = alpha_schedule
        self.adversary_steps = int(adversary_steps)
        self.warmup_epochs = int(warmup_epochs)
        self.lr_decay = lr_decay
        self.callbacks = list(callbacks)
        self.progress = progress
        self.history: list[dict[str, float]] = []
        self.best_epoch: int | None = None
        self._grl = GradientReversal(self.alpha)
        self._initial_lr = [
            [group["lr"] for group in opt.param_groups]
            for opt in (predictor_optimizer, adversary_optimizer)
        ]

    # -- one batch -------------------------------------------------------------------------
    def _adversary_rows(
        self, output: torch.Tensor, y: torch.Tensor, z: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.constraint != "equal_opportunity":
            return output, y, z
        keep = y.reshape(-1) == 1
        return output[keep], y[keep], z[keep]

    def _adversary_loss(
        self, output: torch.Tensor, y: torch.Tensor, z: torch.Tensor
    ) -> torch.Tensor | None:
        output, y, z = self._adversary_rows(output, y, z)
        if output.shape[0] == 0:
            return None
        return self.adversary_loss(self.adversary(output, y), z)

    def _check_batch(self, x: torch.Tensor) -> None:
        device = _device_of(self.predictor)
        if device is not None and isinstance(x, torch.Tensor) and x.device != device:
            raise ModelError(
                f"the predictor's parameters are on device {device} but the batch is on "
                f"{x.device}; move the model with .to({str(x.device)!r}) or the data to "
                f"{str(device)!r}."
            )

    def train_step(
        self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, *, alpha: float | None = None
    ) -> dict[str, float]:
        """Update adversary and predictor on one batch; return the two losses.

        Parameters
        ----------
        x, y, z : torch.Tensor
            A batch of inputs, labels and sensitive values.
        alpha : float, optional
            Weight of the adversary for this step; default ``self.alpha``.

        Returns
        -------
        dict
            ``predictor_loss`` and ``adversary_loss`` (NaN when the batch had no row for the
            adversary).
        """
        self._check_batch(x)
        alpha = self.alpha if alpha is None else float(alpha)
        self.predictor.train()
        self.adversary.train()
        if self.mode == "grl":
            return self._grl_step(x, y, z, alpha)
        return self._projection_step(x, y, z, alpha)

    def _adversary_only_steps(
        self, output: torch.Tensor, y: torch.Tensor, z: torch.Tensor, n: int
    ) -> float:
        value = math.nan
        for _ in range(n):
            loss = self._adversary_loss(output.detach(), y, z)
            if loss is None:
                break
            self.adversary_optimizer.zero_grad()
            loss.backward()
            self.adversary_optimizer.step()
            value = float(loss.detach())
        return value

    def _projection_step(
        self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, alpha: float
    ) -> dict[str, float]:
        output = self.predictor(x)
        # the extra adversary steps first; the last one shares the predictor's backward pass
        self._adversary_only_steps(output, y, z, self.adversary_steps - 1)
        lp = self.predictor_loss(output, y)
        la = self._adversary_loss(output, y, z)
        params = [p for p in self.predictor.parameters() if p.requires_grad]
        grads_p = torch.autograd.grad(lp, params, retain_graph=la is not None, allow_unused=True)
        grads_a: Sequence[torch.Tensor | None] = [None] * len(params)
        if la is not None:
            adv_params = [p for p in self.adversary.parameters() if p.requires_grad]
            grads = torch.autograd.grad(la, params + adv_params, allow_unused=True)
            grads_a = grads[: len(params)]
            for p, g in zip(adv_params, grads[len(params) :], strict=True):
                p.grad = g
        for p, gp, ga in zip(params, grads_p, grads_a, strict=True):
            if gp is None:
                gp = torch.zeros_like(p)
            if ga is not None:
                gp = project_out(gp, ga) - alpha * ga
            p.grad = gp
        self.predictor_optimizer.step()
        self.predictor_optimizer.zero_grad()
        if la is not None:
            self.adversary_optimizer.step()
            self.adversary_optimizer.zero_grad()
        adv_value = float(la.detach()) if la is not None else math.nan
        return {"predictor_loss": float(lp.detach()), "adversary_loss": adv_value}

    def _grl_step(
        self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, alpha: float
    ) -> dict[str, float]:
        output = self.predictor(x)
        adv_value = self._adversary_only_steps(output, y, z, self.adversary_steps - 1)
        self._grl.lambda_ = alpha
        lp = self.predictor_loss(output, y)
        la = self._adversary_loss(self._grl(output), y, z)
        total = lp if la is None else lp + la
        self.predictor_optimizer.zero_grad()
        self.adversary_optimizer.zero_grad()
        total.backward()
        self.predictor_optimizer.step()
        self.adversary_optimizer.step()
        if la is not None:
            adv_value = float(la.detach())
        return {"predictor_loss": float(lp.detach()), "adversary_loss": adv_value}

    def _warmup_step(self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> dict[str, float]:
        self._check_batch(x)
        self.predictor.train()
        output = self.predictor(x)
        lp = self.predictor_loss(output, y)
        self.predictor_optimizer.zero_grad()
        lp.backward()
        self.predictor_optimizer.step()
        return {"predictor_loss": float(lp.detach()), "adversary_loss": math.nan}

    # -- epochs ----------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, loader: Iterable[Any]) -> dict[str, float]:
        """Mean predictor and adversary losses over a loader, without training.

        Parameters
        ----------
        loader : iterable of (x, y, z)
            Batches.

        Returns
        -------
        dict
            ``predictor_loss`` and ``adversary_loss``, weighted by batch size.
        """
        self.predictor.eval()
        self.adversary.eval()
        total_p = total_a = 0.0
        n_p = n_a = 0
        for x, y, z in loader:
            self._check_batch(x)
            output = self.predictor(x)
            total_p += float(self.predictor_loss(output, y)) * len(x)
            n_p += len(x)
            out_a, y_a, z_a = self._adversary_rows(output, y, z)
            if len(out_a):
                total_a += float(self.adversary_loss(self.adversary(out_a, y_a), z_a)) * len(out_a)
                n_a += len(out_a)
        return {
            "predictor_loss": total_p / n_p if n_p else math.nan,
            "adversary_loss": total_a / n_a if n_a else math.nan,
        }

    def _set_lr(self, t: float) -> None:
        for opt, initial in zip(
            (self.predictor_optimizer, self.adversary_optimizer), self._initial_lr, strict=True
        ):
            for group, lr0 in zip(opt.param_groups, initial, strict=True):
                group["lr"] = lr0 / t

    def _epochs_iter(self, epochs: int) -> Iterable[int]:
        show = self.progress
        if show is None:
            show = bool(getattr(sys.stderr, "isatty", lambda: False)())
        if not show:
            return range(epochs)
        from fairaudit._optional import import_optional

        tqdm = import_optional("tqdm.auto", purpose="progress=True").tqdm
        return tqdm(range(epochs), desc="adversarial training", unit="epoch")

    def fit(
        self,
        loader: Iterable[Any],
        *,
        epochs: int,
        val_loader: Iterable[Any] | None = None,
        patience: int | None = None,
    ) -> AdversarialTrainer:
        """Train for ``epochs`` epochs over ``loader`` (batches of ``(x, y, z)``).

        Parameters
        ----------
        loader : iterable of (x, y, z)
            Training batches, e.g. a ``torch.utils.data.DataLoader``; pass it a seeded
            ``generator`` for a reproducible order.
        epochs : int
            Number of epochs, warm-up included.
        val_loader : iterable of (x, y, z), optional
            Validation batches; their losses are recorded in ``history``.
        patience : int, optional
            With ``val_loader``: stop after this many adversarial epochs without improving the
            validation objective ``predictor_loss - alpha * adversary_loss`` (with the base
            ``alpha``), and restore the best weights.

        Returns
        -------
        AdversarialTrainer
            ``self``.
        """
        if int(epochs) < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs!r}.")
        if patience is not None and val_loader is None:
            raise ValueError("patience needs val_loader; pass a validation loader.")
        n_batches = None
        try:
            n_batches = len(loader)  # type: ignore[arg-type]
        except TypeError:
            n_batches = None
        adversarial_epochs = max(int(epochs) - self.warmup_epochs, 1)
        best: tuple[float, int, dict[str, Any], dict[str, Any]] | None = None
        waited = 0
        for epoch in self._epochs_iter(int(epochs)):
            warm = epoch < self.warmup_epochs
            sums = {"predictor_loss": 0.0, "adversary_loss": 0.0}
            counts = {"predictor_loss": 0, "adversary_loss": 0}
            alpha = 0.0
            for i, (x, y, z) in enumerate(loader):
                if warm:
                    logs = self._warmup_step(x, y, z)
                else:
                    done = epoch - self.warmup_epochs + (i / n_batches if n_batches else 0.0)
                    t = 1.0 + done
                    alpha = alpha_at(
                        self.alpha_schedule,
                        self.alpha,
                        t=t,
                        progress=min(done / adversarial_epochs, 1.0),
                    )
                    if self.lr_decay == "inverse_time":
                        self._set_lr(t)
                    logs = self.train_step(x, y, z, alpha=alpha)
                for key, value in logs.items():
                    if not math.isnan(value):
                        sums[key] += value
                        counts[key] += 1
            record: dict[str, float] = {"epoch": epoch, "alpha": alpha}
            for key in sums:
                record[key] = sums[key] / counts[key] if counts[key] else math.nan
            if val_loader is not None:
                val = self.evaluate(val_loader)
                record["val_predictor_loss"] = val["predictor_loss"]
                record["val_adversary_loss"] = val["adversary_loss"]
                adv = 0.0 if math.isnan(val["adversary_loss"]) else val["adversary_loss"]
                record["val_objective"] = val["predictor_loss"] - self.alpha * adv
            self.history.append(record)
            logger.debug("epoch %d: %s", epoch, record)
            stop = any(bool(cb(self, epoch, record)) for cb in self.callbacks)
            if patience is not None and not warm:
                score = record["val_objective"]
                if best is None or score < best[0]:
                    best = (
                        score,
                        epoch,
                        copy.deepcopy(self.predictor.state_dict()),
                        copy.deepcopy(self.adversary.state_dict()),
                    )
                    waited = 0
                else:
                    waited += 1
                    stop = stop or waited >= patience
            if stop:
                break
        if best is not None:
            self.best_epoch = best[1]
            self.predictor.load_state_dict(best[2])
            self.adversary.load_state_dict(best[3])
        self.predictor.eval()
        self.adversary.eval()
        return self


class TensorBatches:
    """Minibatches of ``(x, y, z)`` tensors in an order drawn from a local generator.

    Lighter than a ``DataLoader`` over a ``TensorDataset`` (one index per batch instead of a
    collate of single rows), and as reproducible. With ``weights``, each epoch draws ``n``
    rows with replacement, row i with probability ``weights[i] / sum(weights)``: every
    loss is then the weighted loss in expectation (importance resampling), with any model
    and loss function.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        z: torch.Tensor,
        *,
        batch_size: int,
        generator: torch.Generator | None = None,
        shuffle: bool = True,
        weights: torch.Tensor | None = None,
    ) -> None:
        self.x, self.y, self.z = x, y, z
        self.batch_size = int(batch_size)
        self.generator = generator
        self.shuffle = shuffle
        self.weights = weights

    def __len__(self) -> int:
        return (len(self.x) + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Any:
        n = len(self.x)
        if self.weights is not None:
            order = torch.multinomial(
                self.weights, n, replacement=True, generator=self.generator
            ).to(self.x.device)
            for start in range(0, n, self.batch_size):
                idx = order[start : start + self.batch_size]
                yield self.x[idx], self.y[idx], self.z[idx]
        elif self.shuffle:
            order = torch.randperm(n, generator=self.generator)
            for start in range(0, n, self.batch_size):
                idx = order[start : start + self.batch_size]
                yield self.x[idx], self.y[idx], self.z[idx]
        else:
            for start in range(0, n, self.batch_size):
                sl = slice(start, start + self.batch_size)
                yield self.x[sl], self.y[sl], self.z[sl]
