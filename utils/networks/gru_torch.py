"""A PyTorch GRU layer that can use Keras' gate activations, reset position and initialisers.

Introduced in ``06_gate_activation.ipynb``; the PyTorch CRNN uses :class:`GRULayer` as its
recurrent block so that each Keras-vs-PyTorch GRU default can be flipped on its own
(``docs/sources.md#framework-defaults``, FD §2-§5):

* gate activation (§3): ``"sigmoid"`` (PyTorch, tf.keras, Keras 3), ``"hard_sigmoid_keras2"``
  = clip(0.2x + 0.5, 0, 1) (Keras 2 default up to 2.2.5) and ``"hard_sigmoid_keras3"`` =
  clip(x/6 + 0.5, 0, 1) (what ``'hard_sigmoid'`` means in Keras 3 and PyTorch);
* where the reset gate acts (§4): ``reset_after=True`` (PyTorch, cuDNN, Keras 3) or ``False``
  (Keras 2, Cho et al.);
* initialisation (§2): :meth:`GRULayer.reset_parameters` with ``"torch"`` (U(±1/√H)
  everywhere) or ``"keras"`` (glorot-uniform kernel, orthogonal recurrent kernel, zero bias)
  for each of the three parameter groups.

Parameters use ``nn.GRU``'s names, shapes and gate order [r, z, n] (§5), so a state dict
can be copied between :class:`GRULayer` and a one-layer ``nn.GRU`` in either direction.
:func:`keras_to_torch_gru` and :func:`torch_to_keras_gru` convert to and from Keras'
layout: ``kernel`` (in, 3u) and ``recurrent_kernel`` (u, 3u) used as ``x @ W``, gate order
[z, r, h].

With sigmoid gates and ``reset_after=True`` the recipe is exactly ``nn.GRU``'s, and
:meth:`GRULayer.forward` calls the same fused kernel. Every other recipe runs a Python loop
over time steps. :func:`benchmark` measures what that loop costs.

Examples
--------
>>> import torch
>>> from utils.networks.gru_torch import GRULayer
>>> _ = torch.manual_seed(0)
>>> layer = GRULayer(4, 3, gate_activation="hard_sigmoid_keras2", reset_after=False)
>>> layer.reset_parameters(kernel="keras", recurrent="keras", bias="keras")
>>> layer(torch.randn(2, 5, 4)).shape
torch.Size([2, 5, 3])
>>> GRULayer(4, 3, bidirectional=True).fused  # sigmoid + reset_after: nn.GRU's kernel
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from utils.common.timing import median_times

__all__ = [
    "GATE_ACTIVATIONS",
    "GRULayer",
    "benchmark",
    "gate_fn",
    "keras_to_torch_gru",
    "torch_to_keras_gru",
]

GATE_ACTIVATIONS = ("sigmoid", "hard_sigmoid_keras2", "hard_sigmoid_keras3")
INIT_SCHEMES = ("torch", "keras")


# ---------------------------------------------------------------------------- gates


def _hard_sigmoid_keras2(x: Tensor) -> Tensor:
    # Slope 0.2, saturating at |x| >= 2.5 (Theano/TF/CNTK backends of Keras 2).
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


def gate_fn(name: str) -> Callable[[Tensor], Tensor]:
    """Return the gate (recurrent) activation called ``name``.

    Parameters
    ----------
    name : str
        One of :data:`GATE_ACTIVATIONS`: ``"sigmoid"``, ``"hard_sigmoid_keras2"``
        (clip(0.2x + 0.5, 0, 1), saturates beyond ±2.5) or ``"hard_sigmoid_keras3"``
        (clip(x/6 + 0.5, 0, 1), saturates beyond ±3; same as ``F.hardsigmoid``).

    Returns
    -------
    callable
        Elementwise function from a tensor to a tensor of the same shape.

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`GATE_ACTIVATIONS`.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([1.0])
    >>> [round(gate_fn(n)(x).item(), 4) for n in GATE_ACTIVATIONS]
    [0.7311, 0.7, 0.6667]
    """
    if name == "sigmoid":
        return torch.sigmoid
    if name == "hard_sigmoid_keras2":
        return _hard_sigmoid_keras2
    if name == "hard_sigmoid_keras3":
        return F.hardsigmoid
    raise ValueError(f"unknown gate activation {name!r}; expected one of {GATE_ACTIVATIONS}")


# ---------------------------------------------------------------------------- layouts


def _swap_rz(m: Tensor | np.ndarray, axis: int) -> Tensor | np.ndarray:
    """Swap the first two thirds of ``m`` along ``axis``: [z, r, h] <-> [r, z, n].

    The permutation is its own inverse, so one helper serves both directions.
    """
    u = m.shape[axis] // 3
    if isinstance(m, Tensor):
        z, r, h = m.split(u, dim=axis)
        return torch.cat([r, z, h], dim=axis)
    z, r, h = np.split(m, 3, axis=axis)
    return np.concatenate([r, z, h], axis=axis)


def keras_to_torch_gru(
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray | None,
    reset_after: bool,
    suffix: str = "",
) -> dict[str, Tensor]:
    """Convert Keras GRU weights to ``nn.GRU`` / :class:`GRULayer` parameters.

    Keras stores ``kernel`` (in, 3u) and ``recurrent_kernel`` (u, 3u), applied as ``x @ W``,
    with the gates in column blocks [z, r, h]. PyTorch stores ``weight_ih`` (3u, in) and
    ``weight_hh`` (3u, u), applied as ``W @ x``, with the gates in row blocks [r, z, n]. So
    each matrix has its first two column blocks swapped and is then transposed.

    Parameters
    ----------
    kernel : numpy.ndarray
        Keras ``kernel``, shape (input_size, 3u).
    recurrent_kernel : numpy.ndarray
        Keras ``recurrent_kernel``, shape (u, 3u).
    bias : numpy.ndarray or None
        Keras ``bias``: shape (2, 3u) when ``reset_after`` (row 0 input bias, row 1
        recurrent bias), shape (3u,) otherwise; ``None`` for ``use_bias=False`` (zeros).
    reset_after : bool
        The Keras layer's ``reset_after``. With ``False`` Keras has a single bias. Its
        candidate part adds outside the reset gate, so it goes to ``bias_ih`` and
        ``bias_hh`` is zero. The result is exact only for a :class:`GRULayer` with
        ``reset_after=False``; ``nn.GRU`` cannot express that recipe.
    suffix : str, optional
        Appended to the names, e.g. ``"_reverse"`` for the backward half of a
        bidirectional layer.

    Returns
    -------
    dict of str to torch.Tensor
        ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0`` (plus ``suffix``),
        contiguous, in the arrays' dtype; ready for ``load_state_dict(..., strict=False)``.

    Examples
    --------
    >>> import numpy as np
    >>> p = keras_to_torch_gru(np.zeros((5, 6)), np.zeros((2, 6)), np.zeros(6), False)
    >>> {k: tuple(v.shape) for k, v in p.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'weight_ih_l0': (6, 5), 'weight_hh_l0': (6, 2), 'bias_ih_l0': (6,), 'bias_hh_l0': (6,)}
    """
    kernel = np.asarray(kernel)
    recurrent_kernel = np.asarray(recurrent_kernel)
    units = recurrent_kernel.shape[0]
    if kernel.ndim != 2 or kernel.shape[1] != 3 * units:
        raise ValueError(f"kernel must have shape (input_size, {3 * units}), got {kernel.shape}")
    if recurrent_kernel.shape != (units, 3 * units):
        raise ValueError(
            f"recurrent_kernel must have shape (units, 3 * units), got {recurrent_kernel.shape}"
        )
    expected_bias = (2, 3 * units) if reset_after else (3 * units,)
    if bias is None:
        bias = np.zeros(expected_bias, dtype=kernel.dtype)
    bias = np.asarray(bias)
    if bias.shape != expected_bias:
        raise ValueError(
            f"bias must have shape {expected_bias} for reset_after={reset_after}, got {bias.shape}"
        )
    b_ih, b_hh = (bias[0], bias[1]) if reset_after else (bias, np.zeros_like(bias))

    def to_torch(a: np.ndarray) -> Tensor:
        return torch.from_numpy(np.ascontiguousarray(a))

    return {
        f"weight_ih_l0{suffix}": to_torch(_swap_rz(kernel, 1).T),
        f"weight_hh_l0{suffix}": to_torch(_swap_rz(recurrent_kernel, 1).T),
        f"bias_ih_l0{suffix}": to_torch(_swap_rz(b_ih, 0)),
        f"bias_hh_l0{suffix}": to_torch(_swap_rz(b_hh, 0)),
    }


def torch_to_keras_gru(
    params: Mapping[str, Tensor], reset_after: bool, suffix: str = ""
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert ``nn.GRU`` / :class:`GRULayer` parameters to Keras GRU weights.

    Inverse of :func:`keras_to_torch_gru`: keras → torch → keras gives back the same arrays.

    Parameters
    ----------
    params : mapping of str to torch.Tensor
        A state dict (or :func:`keras_to_torch_gru` output) holding ``weight_ih_l0``,
        ``weight_hh_l0``, ``bias_ih_l0`` and ``bias_hh_l0`` (each with ``suffix``).
    reset_after : bool
        Layout of the Keras layer to build. With ``True`` the bias is (2, 3u). With ``False``
        Keras has one bias vector of shape (3u,), and it is ``bias_ih + bias_hh``. That sum is
        exact for the ``reset_after=False`` recipe of :class:`GRULayer`, where every
        recurrent bias adds outside the reset gate.
    suffix : str, optional
        Name suffix, e.g. ``"_reverse"``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(kernel, recurrent_kernel, bias)`` in Keras' ``get_weights()`` order.

    Examples
    --------
    >>> import numpy as np
    >>> k, rk, b = np.ones((5, 6)), np.eye(2, 6), np.arange(12.0).reshape(2, 6)
    >>> back = torch_to_keras_gru(keras_to_torch_gru(k, rk, b, True), True)
    >>> all(np.array_equal(x, y) for x, y in zip(back, (k, rk, b)))
    True
    """

    def to_numpy(name: str) -> np.ndarray:
        return params[f"{name}_l0{suffix}"].detach().cpu().numpy()

    w_ih, w_hh = to_numpy("weight_ih"), to_numpy("weight_hh")
    b_ih, b_hh = to_numpy("bias_ih"), to_numpy("bias_hh")
    kernel = np.ascontiguousarray(_swap_rz(w_ih, 0).T)
    recurrent_kernel = np.ascontiguousarray(_swap_rz(w_hh, 0).T)
    if reset_after:
        bias = np.stack([_swap_rz(b_ih, 0), _swap_rz(b_hh, 0)])
    else:
        bias = _swap_rz(b_ih + b_hh, 0)
    return kernel, recurrent_kernel, bias


# ---------------------------------------------------------------------------- layer


class GRULayer(nn.Module):
    """One GRU layer, batch first, with configurable gate activation and reset position.

    For every time step t, with ``g`` the gate activation and gate order [r, z, n]::

        r = g(W_ir x + b_ir + W_hr h + b_hr)
        z = g(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))     # reset_after=True  (PyTorch)
        n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)     # reset_after=False (Keras 2)
        h = (1 - z) * n + z * h

    With ``reset_after=False``, ``b_hn`` lies outside the reset gate and simply adds to
    ``b_in``. A Keras port therefore puts Keras' single bias into ``bias_ih`` and zeros into
    ``bias_hh`` (see :func:`keras_to_torch_gru`).

    Parameters
    ----------
    input_size : int
        Number of input features.
    hidden_size : int
        Number of units H per direction.
    gate_activation : str, optional
        One of :data:`GATE_ACTIVATIONS`; default ``"sigmoid"``.
    reset_after : bool, optional
        Apply the reset gate after the recurrent matmul (default, as ``nn.GRU``) or before it.
    bidirectional : bool, optional
        Add a backward direction; outputs are concatenated [forward, backward] on the
        feature axis, like ``nn.GRU``.

    Attributes
    ----------
    weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0 : torch.nn.Parameter
        Shapes (3H, input_size), (3H, H), (3H,), (3H,), as in ``nn.GRU``; the backward
        direction has the same names with suffix ``_reverse``.
    use_fused : bool
        Set to ``False`` to force the Python loop even where the fused kernel applies
        (used by the tests to check the loop against ``nn.GRU``).

    Examples
    --------
    >>> import torch
    >>> gru = torch.nn.GRU(4, 3, batch_first=True)
    >>> layer = GRULayer(4, 3)
    >>> _ = layer.load_state_dict(gru.state_dict())
    >>> x = torch.randn(2, 5, 4)
    >>> torch.equal(layer(x), gru(x)[0])
    True
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        gate_activation: str = "sigmoid",
        reset_after: bool = True,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        gate_fn(gate_activation)  # fail early on an unknown name
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.gate_activation = gate_activation
        self.reset_after = reset_after
        self.bidirectional = bidirectional
        self.use_fused = True
        self._suffixes = ("", "_reverse") if bidirectional else ("",)
        for sfx in self._suffixes:
            shapes = {
                "weight_ih": (3 * hidden_size, input_size),
                "weight_hh": (3 * hidden_size, hidden_size),
                "bias_ih": (3 * hidden_size,),
                "bias_hh": (3 * hidden_size,),
            }
            for name, shape in shapes.items():
                self.register_parameter(f"{name}_l0{sfx}", nn.Parameter(torch.empty(shape)))
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        """2 if bidirectional, else 1."""
        return len(self._suffixes)

    @property
    def fused(self) -> bool:
        """Whether :meth:`forward` uses ``nn.GRU``'s fused kernel (sigmoid + reset_after)."""
        return self.use_fused and self.reset_after and self.gate_activation == "sigmoid"

    def _direction_params(self, sfx: str) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return (
            getattr(self, f"weight_ih_l0{sfx}"),
            getattr(self, f"weight_hh_l0{sfx}"),
            getattr(self, f"bias_ih_l0{sfx}"),
            getattr(self, f"bias_hh_l0{sfx}"),
        )

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, gate_activation={self.gate_activation!r}, "
            f"reset_after={self.reset_after}, bidirectional={self.bidirectional}"
        )

    # ------------------------------------------------------------------------ init

    @torch.no_grad()
    def reset_parameters(
        self, kernel: str = "torch", recurrent: str = "torch", bias: str = "torch"
    ) -> None:
        """(Re)initialise the weights, one default at a time.

        Parameters
        ----------
        kernel : {"torch", "keras"}
            ``weight_ih``. ``"torch"``: U(±1/√H). ``"keras"``: glorot-uniform
            U(±√(6 / (input_size + 3H))) on the whole Keras (input_size, 3H) kernel.
        recurrent : {"torch", "keras"}
            ``weight_hh``. ``"torch"``: U(±1/√H). ``"keras"``: orthogonal (gain 1) on the
            whole Keras (H, 3H) recurrent kernel. Its rows are orthonormal; the per-gate
            (H, H) blocks are not orthogonal.
        bias : {"torch", "keras"}
            Both ``bias_ih`` and ``bias_hh``. ``"torch"``: U(±1/√H). ``"keras"``: zeros.

        Notes
        -----
        Keras matrices are drawn in Keras layout (x @ W, gates [z, r, h]) and then put in
        PyTorch layout: the z and r blocks are swapped, then the matrix is transposed. This is
        the same conversion as :func:`keras_to_torch_gru`. The glorot bound does not depend on
        the layout, but the orthogonality does.
        """
        for name, value in (("kernel", kernel), ("recurrent", recurrent), ("bias", bias)):
            if value not in INIT_SCHEMES:
                raise ValueError(f"{name}={value!r}; expected one of {INIT_SCHEMES}")
        hidden = self.hidden_size
        stdv = 1.0 / math.sqrt(hidden)
        for sfx in self._suffixes:
            w_ih, w_hh, b_ih, b_hh = self._direction_params(sfx)
            if kernel == "torch":
                w_ih.uniform_(-stdv, stdv)
            else:
                # Keras' fans are those of the concatenated (input, 3H) matrix.
                limit = math.sqrt(6.0 / (self.input_size + 3 * hidden))
                k = torch.empty(self.input_size, 3 * hidden, dtype=w_ih.dtype)
                w_ih.copy_(_swap_rz(k.uniform_(-limit, limit), 1).T)
            if recurrent == "torch":
                w_hh.uniform_(-stdv, stdv)
            else:
                w_hh.copy_(_swap_rz(_orthogonal_rows(hidden, 3 * hidden, w_hh.dtype), 1).T)
            for b in (b_ih, b_hh):
                if bias == "torch":
                    b.uniform_(-stdv, stdv)
                else:
                    b.zero_()

    # ------------------------------------------------------------------------ forward

    def forward(self, x: Tensor, h0: Tensor | None = None) -> Tensor:
        """Run the layer over a batch of sequences.

        Parameters
        ----------
        x : torch.Tensor
            Input of shape (batch, time, input_size).
        h0 : torch.Tensor, optional
            Initial state of shape (num_directions, batch, H), as in ``nn.GRU``; zeros if
            omitted.

        Returns
        -------
        torch.Tensor
            Hidden states of every step, shape (batch, time, num_directions * H).
        """
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"expected input of shape (batch, time, {self.input_size}), got {tuple(x.shape)}"
            )
        if h0 is None:
            h0 = x.new_zeros(self.num_directions, x.shape[0], self.hidden_size)
        if self.fused:
            flat = [p for sfx in self._suffixes for p in self._direction_params(sfx)]
            # Same call as nn.GRU.forward: one layer, no dropout, batch first.
            out, _ = torch._VF.gru(
                x, h0, flat, True, 1, 0.0, self.training, self.bidirectional, True
            )
            return out
        outs = [
            self._loop(x, h0[d], *self._direction_params(sfx), reverse=d == 1)
            for d, sfx in enumerate(self._suffixes)
        ]
        return outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)

    def _loop(
        self,
        x: Tensor,
        h: Tensor,
        w_ih: Tensor,
        w_hh: Tensor,
        b_ih: Tensor,
        b_hh: Tensor,
        reverse: bool,
    ) -> Tensor:
        """Step one direction through time; returns (batch, time, H)."""
        hidden = self.hidden_size
        gate = gate_fn(self.gate_activation)
        if self.reset_after:
            # b_hn must stay inside r * (...), so only b_ih goes into the projection.
            x_proj = F.linear(x, w_ih, b_ih)
        else:
            # Every recurrent bias adds outside the reset gate here: fold all of it in.
            x_proj = F.linear(x, w_ih, b_ih + b_hh)
        # One matmul for all steps; unbind gives per-step views whose backward is a single
        # stack. (x_proj[:, t] inside the loop would make backward quadratic in T.)
        x_rz = x_proj[..., : 2 * hidden].unbind(1)
        x_n = x_proj[..., 2 * hidden :].unbind(1)
        steps = range(len(x_rz) - 1, -1, -1) if reverse else range(len(x_rz))
        outputs: list[Tensor] = []
        if self.reset_after:
            w_hh_t = w_hh.t()
            for t in steps:
                gh_rz, gh_n = torch.addmm(b_hh, h, w_hh_t).split((2 * hidden, hidden), dim=1)
                r, z = gate(x_rz[t] + gh_rz).chunk(2, dim=1)
                n = torch.tanh(torch.addcmul(x_n[t], r, gh_n))
                h = torch.lerp(n, h, z)  # (1 - z) * n + z * h
                outputs.append(h)
        else:
            # The reset gate multiplies h before the candidate matmul: two matmuls per step.
            w_hrz_t, w_hn_t = w_hh[: 2 * hidden].t(), w_hh[2 * hidden :].t()
            for t in steps:
                r, z = gate(torch.addmm(x_rz[t], h, w_hrz_t)).chunk(2, dim=1)
                n = torch.tanh(torch.addmm(x_n[t], r * h, w_hn_t))
                h = torch.lerp(n, h, z)
                outputs.append(h)
        if reverse:
            outputs.reverse()
        return torch.stack(outputs, dim=1)


def _orthogonal_rows(rows: int, cols: int, dtype: torch.dtype) -> Tensor:
    """A (rows, cols) matrix with orthonormal rows (rows <= cols), drawn from Haar measure.

    QR of a (cols, rows) Gaussian matrix gives orthonormal columns. Fixing the signs of R's
    diagonal makes the distribution uniform. The transpose then has orthonormal rows.
    """
    a = torch.randn(cols, rows, dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
    return q.t().to(dtype)


# ---------------------------------------------------------------------------- benchmark


def _fwd_bwd(layer: nn.Module, x: Tensor) -> Callable[[], None]:
    """One forward + backward of ``layer`` on ``x``, gradients cleared first."""

    def step() -> None:
        layer.zero_grad(set_to_none=True)
        x.grad = None
        out = layer(x)
        out = out[0] if isinstance(out, tuple) else out
        out.sum().backward()

    return step


def benchmark(
    shape: tuple[int, int, int] = (32, 50, 160), hidden: int = 32, repeats: int = 20
) -> dict:
    """Time forward + backward of :class:`GRULayer` against ``nn.GRU`` on the CPU or device.

    Every variant gets the same weights and input; each time is the median of ``repeats``
    calls (rounded up to whole blocks of five) after a warm-up, the baseline and the
    variants timed in turns (:func:`~utils.common.timing.median_times`). Thread settings
    are left as they are.

    Parameters
    ----------
    shape : tuple of int
        Input shape (batch, time, features).
    hidden : int
        Hidden size H.
    repeats : int
        Timed calls per variant (rounded up to a multiple of five above five).

    Returns
    -------
    dict
        ``"nn.GRU"``: median seconds of the baseline; ``"seconds"`` and ``"ratios"``:
        dicts keyed ``"<activation>/reset_after=<bool>"`` with the median seconds and the
        ratio to ``nn.GRU``; the fused recipe also appears with the suffix ``"/loop"``,
        timed with the Python loop forced. Also ``"shape"``, ``"hidden"``, ``"repeats"``.

    Examples
    --------
    >>> r = benchmark(shape=(2, 3, 4), hidden=2, repeats=1)
    >>> sorted(r["ratios"])[:2]
    ['hard_sigmoid_keras2/reset_after=False', 'hard_sigmoid_keras2/reset_after=True']
    """
    batch, steps, features = shape
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, steps, features, generator=gen).requires_grad_(True)
    ref = nn.GRU(features, hidden, batch_first=True)
    steps_of: dict[str, Callable[[], None]] = {"nn.GRU": _fwd_bwd(ref, x)}
    for act in GATE_ACTIVATIONS:
        for reset_after in (True, False):
            key = f"{act}/reset_after={reset_after}"
            layer = GRULayer(features, hidden, act, reset_after)
            layer.load_state_dict(ref.state_dict())
            steps_of[key] = _fwd_bwd(layer, x)
            if layer.fused:
                loop = GRULayer(features, hidden, act, reset_after)
                loop.load_state_dict(ref.state_dict())
                loop.use_fused = False
                steps_of[f"{key}/loop"] = _fwd_bwd(loop, x)
    # In turns, blocks of up to five calls: the baseline and every variant see the same
    # stretches of the machine's speed, so a drift does not move the ratios.
    block = min(5, repeats)
    times = median_times(steps_of, rounds=-(-repeats // block), block=block, warmup=3)
    base = times.pop("nn.GRU")
    seconds = times
    return {
        "shape": tuple(shape),
        "hidden": hidden,
        "repeats": repeats,
        "nn.GRU": base,
        "seconds": seconds,
        "ratios": {k: v / base for k, v in seconds.items()},
    }
