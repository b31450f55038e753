"""Torch building blocks of adversarial debiasing: gradient reversal, projection, MLPs, adversaries."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "ConcatAdversary",
    "GradientReversal",
    "ZhangAdversary",
    "make_mlp",
    "project_out",
]

ADVERSARY_NEGATIVE_SLOPE = 0.2


class _ReverseGradient(torch.autograd.Function):
    """Identity forward; the gradient times ``-lambda_`` backward."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, lambda_: float) -> torch.Tensor:
        ctx.lambda_ = lambda_
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.lambda_ * grad_output, None


class GradientReversal(nn.Module):
    """Gradient-reversal layer (Ganin & Lempitsky 2015).

    The identity in the forward pass; in the backward pass it multiplies the incoming gradient
    by ``-lambda_``. Put it between a feature extractor (or predictor) and an adversary: one
    backward pass then trains the adversary to predict z while pushing the layers below it to
    remove the information the adversary uses.

    Parameters
    ----------
    lambda_ : float, default=1.0
        Strength of the reversal. Mutable: set ``layer.lambda_`` between steps to follow a
        schedule.

    Notes
    -----
    The layer has no parameters. ``AdversarialTrainer(mode="grl")`` uses it internally.

    References
    ----------
    Ganin, Y. and Lempitsky, V. (2015). Unsupervised domain adaptation by backpropagation.
    ICML.

    Examples
    --------
    >>> import torch
    >>> from fairaudit.debias import GradientReversal
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> y = GradientReversal(lambda_=0.5)(x)
    >>> y.sum().backward()
    >>> x.grad
    tensor([-0.5000, -0.5000])
    """

    def __init__(self, lambda_: float = 1.0) -> None:
        super().__init__()
        self.lambda_ = float(lambda_)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x`` unchanged (the reversal happens in the backward pass)."""
        return _ReverseGradient.apply(x, self.lambda_)

    def extra_repr(self) -> str:
        """Show ``lambda_`` in the module's repr."""
        return f"lambda_={self.lambda_}"


def project_out(grad: torch.Tensor, direction: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Remove from ``grad`` its component along ``direction``, on the flattened tensors.

    Parameters
    ----------
    grad, direction : torch.Tensor
        Two tensors of the same shape (a parameter's gradients of the predictor's loss and of
        the adversary's loss).
    eps : float, default=1e-12
        A ``direction`` with a smaller norm is treated as zero (nothing is removed).

    Returns
    -------
    torch.Tensor
        ``grad - <grad, u> u`` with ``u = direction / ||direction||``, both flattened, reshaped
        like ``grad``.

    Notes
    -----
    For a matrix-shaped parameter the projection must use the Frobenius inner product of the
    flattened tensors. ``torch.inner`` on two matrices computes the matrix of row inner
    products instead, which is not a projection.

    Examples
    --------
    >>> import torch
    >>> g = torch.tensor([[1.0, 1.0], [0.0, 2.0]])
    >>> d = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    >>> project_out(g, d)
    tensor([[0., 1.],
            [0., 2.]])
    """
    g = grad.reshape(-1)
    d = direction.reshape(-1)
    norm = torch.linalg.vector_norm(d)
    if norm <= eps:
        return grad
    u = d / norm
    return (g - torch.dot(g, u) * u).reshape(grad.shape)


def _init_linear(layer: nn.Linear, generator: torch.Generator | None) -> None:
    """Re-initialize ``layer`` as torch's default does, but from a local generator."""
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        if layer.bias is not None:
            bound = 1.0 / math.sqrt(layer.in_features) if layer.in_features > 0 else 0.0
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def make_mlp(
    n_inputs: int,
    n_outputs: int,
    hidden_layer_sizes: Sequence[int],
    *,
    generator: torch.Generator | None = None,
    activation: Callable[[], nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """Build a multi-layer perceptron; ``hidden_layer_sizes=()`` gives a linear model.

    ``activation`` builds the non-linearity after each hidden layer (default ReLU).
    """
    layers: list[nn.Module] = []
    width = n_inputs
    for size in hidden_layer_sizes:
        # skip_init: no draw from the global RNG; the weights come from ``generator`` below
        linear = nn.utils.skip_init(nn.Linear, width, int(size))
        _init_linear(linear, generator)
        layers += [linear, activation()]
        width = int(size)
    last = nn.utils.skip_init(nn.Linear, width, n_outputs)
    _init_linear(last, generator)
    layers.append(last)
    return nn.Sequential(*layers)


class ZhangAdversary(nn.Module):
    """The adversary of Zhang, Lemoine & Mitchell (2018) for a binary classifier.

    It reads the predictor's logit ``o`` through ``s = sigmoid((1 + |c|) o)`` with a learnable
    scale ``c``, and, for equalized odds, also ``s * y`` and ``s * (1 - y)`` (and ``y`` itself
    when ``with_y=True``), then predicts z with a linear model (or an MLP with LeakyReLU units).

    The hidden units are LeakyReLU, not ReLU: the predictor pushes the adversary's inputs to
    where its units are off, and a ReLU unit that is off on every row gets no gradient and
    never recovers. On UCI Adult the adversary then read only y, and its loss sat at H(z | y)
    while the predictor's output still revealed z.

    Parameters
    ----------
    n_outputs : int
        1 for a binary or continuous z, the number of levels for a multi-class z.
    constraint : str
        ``"demographic_parity"`` or ``"equal_opportunity"`` (input ``[s]``) or
        ``"equalized_odds"`` (input ``[s, s y, s (1 - y)]``, plus ``y``).
    with_y : bool, default=True
        Add ``y`` itself to the equalized-odds input. Without it the adversary cannot learn
        P(z | y) except through ``s``, which pushes the predictor to over-correct.
    hidden_layer_sizes : sequence of int, default=()
        Hidden layers of the adversary; empty for the paper's linear adversary.
    generator : torch.Generator, optional
        Source of the initial weights.
    """

    def __init__(
        self,
        n_outputs: int,
        *,
        constraint: str,
        with_y: bool = True,
        hidden_layer_sizes: Sequence[int] = (),
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.constraint = constraint
        self.with_y = bool(with_y)
        n_inputs = 1
        if constraint == "equalized_odds":
            n_inputs = 4 if self.with_y else 3
        self.c = nn.Parameter(torch.ones(1))
        self.net = make_mlp(
            n_inputs,
            n_outputs,
            hidden_layer_sizes,
            generator=generator,
            activation=_adversary_activation,
        )

    def forward(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return the adversary's logits for z from the predictor's logit and the label."""
        s = torch.sigmoid((1.0 + self.c.abs()) * output.reshape(-1, 1))
        if self.constraint == "equalized_odds":
            yy = y.reshape(-1, 1).to(s.dtype)
            parts = [s, s * yy, s * (1.0 - yy)]
            if self.with_y:
                parts.append(yy)
            s = torch.cat(parts, dim=1)
        return self.net(s)


class ConcatAdversary(nn.Module):
    """An adversary on the raw predictor output, concatenated with y for equalized odds.

    Parameters
    ----------
    n_inputs : int
        Width of the predictor's output.
    n_outputs : int
        1 for a binary or continuous z, the number of levels for a multi-class z.
    constraint : str
        With ``"equalized_odds"`` the input is ``[output, y]``, otherwise ``[output]``.
    hidden_layer_sizes : sequence of int, default=(16,)
        Hidden layers of the adversary (LeakyReLU units, see :class:`ZhangAdversary`).
    generator : torch.Generator, optional
        Source of the initial weights.
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        *,
        constraint: str,
        hidden_layer_sizes: Sequence[int] = (16,),
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.constraint = constraint
        width = n_inputs + (1 if constraint == "equalized_odds" else 0)
        self.net = make_mlp(
            width,
            n_outputs,
            hidden_layer_sizes,
            generator=generator,
            activation=_adversary_activation,
        )

    def forward(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return the adversary's output from the predictor's output (and y)."""
        h = output.reshape(output.shape[0], -1)
        if self.constraint == "equalized_odds":
            h = torch.cat([h, y.reshape(-1, 1).to(h.dtype)], dim=1)
        return self.net(h)


class MulticlassAdversary(nn.Module):
    """Adversary for a multi-class predictor (private: the estimators' default).

    It reads the predicted class probabilities ``p = softmax(output)``; for equalized odds,
    the products ``p * [y == k]`` for each class k and the one-hot ``y`` (the multi-class
    form of Zhang et al.'s ``[s y, s (1 - y), y]``), so that it can learn z given y.
    """

    def __init__(
        self,
        n_classes: int,
        n_outputs: int,
        *,
        constraint: str,
        hidden_layer_sizes: Sequence[int] = (16,),
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.constraint = constraint
        self.n_classes = int(n_classes)
        k = self.n_classes
        width = k * k + k if constraint == "equalized_odds" else k
        self.net = make_mlp(
            width,
            n_outputs,
            hidden_layer_sizes,
            generator=generator,
            activation=_adversary_activation,
        )

    def forward(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return the adversary's output from the predictor's logits (and y)."""
        p = torch.softmax(output.reshape(output.shape[0], self.n_classes), dim=1)
        if self.constraint != "equalized_odds":
            return self.net(p)
        onehot = nn.functional.one_hot(y.reshape(-1).long(), self.n_classes).to(p.dtype)
        inter = (p[:, :, None] * onehot[:, None, :]).reshape(p.shape[0], -1)
        return self.net(torch.cat([inter, onehot], dim=1))


def _adversary_activation() -> nn.Module:
    # Not ReLU: the predictor pushes the adversary's inputs to wherever its units are off; a
    # ReLU unit that is off for every row gets no gradient and never comes back, and once the
    # units that read the output are dead the adversary only sees y (see ZhangAdversary).
    return nn.LeakyReLU(ADVERSARY_NEGATIVE_SLOPE)


def _bce(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(
        output.reshape(-1), target.reshape(-1).to(output.dtype)
    )


def _mse(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(output.reshape(-1), target.reshape(-1).to(output.dtype))


def _cross_entropy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(output, target.reshape(-1).long())


def _device_of(module: nn.Module) -> torch.device | None:
    for p in module.parameters():
        return p.device
    return None


def _to_tensor(a: Any, *, dtype: torch.dtype | None, device: torch.device) -> torch.Tensor:
    # a copy: inputs may be read-only (memory-mapped), which torch does not support
    return torch.from_numpy(np.array(a, copy=True)).to(device=device, dtype=dtype)
