"""SGD-Nesterov and Adam in both frameworks, each with both frameworks' update rule.

Introduced in ``05_momentum.ipynb``. Every formula comes from
``docs/sources.md#framework-defaults`` (abbreviated FD §N).

* Nesterov momentum (FD §6). With η = learning rate, μ = momentum, g = gradient:

  - ``keras`` formula: the velocity stores lr-scaled gradients,
    v ← μv − ηg; θ ← θ + μv − ηg.
  - ``pytorch`` formula: the buffer stores raw gradients,
    b ← μb + g (b₁ = g₁); θ ← θ − η(g + μb).

  Put v = −ηb: at a constant η the two are the *same* recurrence and give the same
  iterates. When η changes they part: PyTorch rescales the whole history by today's η,
  Keras keeps coasting on velocity that was built with the old η.
* Adam ε (FD §8). ``keras``: ε̂ = 1e-7 added to the *uncorrected* √v,
  θ ← θ − η·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε̂). ``torch``: ε = 1e-8 added to the
  bias-corrected √v, θ ← θ − η/(1−β₁ᵗ) · m/(√v/√(1−β₂ᵗ) + ε). In PyTorch's form Keras
  uses ε_eff = ε̂/√(1−β₂ᵗ): about 3e-6 at t = 1, which matters when gradients are tiny.

Each framework gets each rule: the built-in optimizer where the framework already has it,
a small custom optimizer where it does not. :func:`make_torch_optimizer` and
:func:`make_keras_optimizer` read a :class:`~utils.networks.recipe.Recipe`; :func:`step_lr` gives
the learning rate of an epoch (:func:`plateau_lr`, of the next epoch from the validation F1
so far), and :func:`set_torch_lr` / :func:`set_keras_lr` set it between
epochs. Importing this module imports neither framework: the custom optimizers of each
are defined the first time one of its functions is called.

Examples
--------
>>> from dataclasses import replace
>>> from utils.networks.recipe import KERAS_2017
>>> r = replace(KERAS_2017, learning_rate=0.05, lr_schedule="step", lr_step_epochs=4)
>>> [round(step_lr(r, epoch), 6) for epoch in (0, 3, 4, 8)]
[0.05, 0.05, 0.005, 0.0005]
>>> import torch
>>> w = torch.zeros(3, requires_grad=True)
>>> opt = make_torch_optimizer(r, [w])
>>> type(opt).__name__
'KerasNesterovSGD'
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from utils.networks.recipe import Recipe

if TYPE_CHECKING:  # annotations only: each framework is imported when its function runs
    import keras
    import torch

__all__ = [
    "KERAS_ADAM_EPSILON",
    "TORCH_ADAM_EPSILON",
    "keras_optimizer_classes",
    "make_keras_optimizer",
    "make_torch_optimizer",
    "plateau_lr",
    "set_keras_lr",
    "set_torch_lr",
    "step_lr",
    "torch_optimizer_classes",
]

KERAS_ADAM_EPSILON = 1e-7  # FD §8: Keras ≥ 2.1.3, tf.keras and Keras 3 (ε-hat)
TORCH_ADAM_EPSILON = 1e-8  # FD §8: PyTorch (on the bias-corrected √v)
ADAM_BETAS = (0.9, 0.999)  # same default in both frameworks (FD §8)

_CHOICES = {
    "optimizer": ("sgd", "adam"),
    "momentum_formula": ("keras", "pytorch"),
    "lr_schedule": ("constant", "step", "plateau"),
    "adam_epsilon": ("keras", "torch"),
}


def _check(recipe: Recipe) -> None:
    """Raise ``ValueError`` for an optimizer field this module does not know.

    ``Recipe`` already validates itself; this guards duck-typed recipes and recipes changed
    with ``object.__setattr__``, so a typo never falls through to a default optimizer.
    """
    for name, allowed in _CHOICES.items():
        value = getattr(recipe, name, None)
        if value not in allowed:
            raise ValueError(f"recipe.{name} = {value!r}: expected one of {list(allowed)}")
    _check_lr(recipe.learning_rate)
    if not 0 <= recipe.momentum < 1:
        raise ValueError(f"recipe.momentum = {recipe.momentum!r}: expected 0 <= momentum < 1")


def _check_lr(lr: float) -> None:
    ok = isinstance(lr, numbers.Real) and not isinstance(lr, bool)
    if not (ok and math.isfinite(lr) and lr > 0):
        raise ValueError(f"learning rate must be a finite number > 0, got {lr!r}")


def step_lr(recipe: Recipe, epoch: int) -> float:
    """The learning rate η of a 0-based ``epoch``.

    Parameters
    ----------
    recipe : Recipe
        ``lr_schedule == "constant"``: ``learning_rate`` every epoch. ``"step"``:
        ``learning_rate * lr_decay ** (epoch // lr_step_epochs)``.
    epoch : int
        0-based epoch (or step, if the caller changes η per step).

    Returns
    -------
    float
        The learning rate to use for that epoch.

    Examples
    --------
    >>> from utils.networks.recipe import Recipe
    >>> step_lr(Recipe(learning_rate=0.1), 7)
    0.1
    """
    _check(recipe)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be an int >= 0, got {epoch!r}")
    if recipe.lr_schedule == "constant":
        return float(recipe.learning_rate)
    if recipe.lr_schedule == "plateau":
        raise ValueError("lr_schedule='plateau' follows validation F1, not the epoch count: "
                         "use plateau_lr with the F1 of the epochs so far")
    return float(recipe.learning_rate * recipe.lr_decay ** (epoch // recipe.lr_step_epochs))


def plateau_lr(recipe: Recipe, valid_f1: Sequence[float]) -> float:
    """The learning rate η of the next epoch under ``lr_schedule="plateau"``, from the
    validation micro-F1 of every epoch so far.

    η is multiplied by ``lr_decay`` each time F1 has gone ``lr_step_epochs`` epochs without
    beating its best (ties do not count, as for early stopping), and the count starts
    afresh after each drop. Unlike a fixed step, the drop comes when the run has stopped
    improving at the current η, not at an epoch chosen before training, so a run that is
    still learning fast is not slowed down (the trained step-decay runs use it).

    Parameters
    ----------
    recipe : Recipe
        Its ``learning_rate``, ``lr_decay`` and ``lr_step_epochs``.
    valid_f1 : sequence of float
        Validation micro-F1 of the epochs trained so far (empty before the first).

    Examples
    --------
    >>> from dataclasses import replace
    >>> from utils.networks.recipe import KERAS_2017
    >>> r = replace(KERAS_2017, learning_rate=0.05, lr_schedule="plateau", lr_step_epochs=2)
    >>> [round(plateau_lr(r, [0.5, 0.6, 0.6, 0.6][:n]), 6) for n in range(5)]
    [0.05, 0.05, 0.05, 0.05, 0.005]
    >>> round(plateau_lr(r, [0.5, 0.6, 0.6, 0.6, 0.6, 0.6]), 6)  # two more flat: again
    0.0005
    """
    _check(recipe)
    best, flat, drops = -math.inf, 0, 0
    for f1 in valid_f1:
        if f1 > best:
            best, flat = f1, 0
            continue
        flat += 1
        if flat >= recipe.lr_step_epochs:
            drops, flat = drops + 1, 0
    return float(recipe.learning_rate * recipe.lr_decay ** drops)


# --- PyTorch ------------------------------------------------------------------------------


@functools.cache
def torch_optimizer_classes() -> dict[str, type]:
    """The two custom PyTorch optimizers, defined on first use.

    Defined inside a function, like the Keras ones below, so that importing this module
    does not import PyTorch: a Keras-only process (notebook 10's kernel) stays hundreds of
    MB lighter. ``KerasNesterovSGD`` and ``KerasEpsAdam`` are also module attributes.

    Returns
    -------
    dict
        ``{"KerasNesterovSGD": cls, "KerasEpsAdam": cls}``.
    """
    import torch

    class _EachParameter(torch.optim.Optimizer):
        """What both optimizers share: the closure, the walk over parameters with a
        gradient, and the sparse-gradient refusal; :meth:`update` is the rule itself."""

        @torch.no_grad()
        def step(self, closure: Callable[[], float] | None = None) -> float | None:
            """One update of every parameter that has a gradient."""
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad.is_sparse:
                        raise RuntimeError(f"{type(self).__name__} does not support sparse "
                                           "gradients")
                    self.update(p, group, self.state[p])
            return loss

        def update(self, p: torch.Tensor, group: dict, state: dict) -> None:
            raise NotImplementedError

    class KerasNesterovSGD(_EachParameter):
        """SGD with Nesterov momentum in the Keras form (FD §6), for PyTorch.

        v ← μv − ηg; θ ← θ + μv − ηg, with v₀ = 0. The velocity holds lr-scaled gradients,
        so after a learning-rate drop the old velocity keeps its size and decays like μᵏ.

        Parameters
        ----------
        params : iterable
            Tensors or parameter-group dicts, as for any ``torch.optim.Optimizer``.
        lr : float
            η. Read from the parameter group at every step, so ``set_torch_lr`` and
            ``torch.optim.lr_scheduler`` work.
        momentum : float
            μ, in [0, 1).
        """

        def __init__(self, params: Iterable[Any], lr: float = 0.01, momentum: float = 0.9) -> None:
            _check_lr(lr)
            if not 0 <= momentum < 1:
                raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
            super().__init__(params, {"lr": lr, "momentum": momentum})

        def update(self, p: torch.Tensor, group: dict, state: dict) -> None:
            lr, mu = group["lr"], group["momentum"]
            if "velocity" not in state:
                state["velocity"] = torch.zeros_like(p)
            v = state["velocity"]
            v.mul_(mu).add_(p.grad, alpha=-lr)  # v ← μv − ηg
            p.add_(v, alpha=mu).add_(p.grad, alpha=-lr)  # θ ← θ + μv − ηg

    class KerasEpsAdam(_EachParameter):
        """Adam with Keras' ε-hat (FD §8), for PyTorch.

        m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
        θ ← θ − η·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε̂), with ε̂ = 1e-7 added to the *uncorrected* √v.

        Parameters
        ----------
        params : iterable
            Tensors or parameter-group dicts.
        lr : float
            η, read from the parameter group at every step.
        betas : tuple of float
            (β₁, β₂).
        eps : float
            ε̂.
        """

        def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                     betas: tuple[float, float] = ADAM_BETAS,
                     eps: float = KERAS_ADAM_EPSILON) -> None:
            _check_lr(lr)
            if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1 and eps >= 0):
                raise ValueError(f"KerasEpsAdam needs betas in [0, 1) and eps >= 0, got {betas}, "
                                 f"{eps}")
            super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

        def update(self, p: torch.Tensor, group: dict, state: dict) -> None:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            g = p.grad
            if "m" not in state:
                state["t"] = 0
                state["m"] = torch.zeros_like(p)
                state["v"] = torch.zeros_like(p)
            state["t"] += 1
            t, m, v = state["t"], state["m"], state["v"]
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            # Bias corrections folded into the step size; ε sees the raw √v (ε-hat).
            alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
            p.addcdiv_(m, v.sqrt().add_(eps), value=-alpha)

    return {"KerasNesterovSGD": KerasNesterovSGD, "KerasEpsAdam": KerasEpsAdam}


def __getattr__(name: str) -> type:
    # PEP 562: `from utils.networks.optimizers import KerasNesterovSGD` defines the class
    # (and imports PyTorch) only when it is asked for.
    if name in ("KerasNesterovSGD", "KerasEpsAdam"):
        return torch_optimizer_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_torch_optimizer(recipe: Recipe, params: Iterable[Any]) -> torch.optim.Optimizer:
    """The PyTorch optimizer a recipe asks for.

    Parameters
    ----------
    recipe : Recipe
        Reads ``optimizer``, ``learning_rate``; for ``sgd`` also ``momentum`` and
        ``momentum_formula``; for ``adam`` also ``adam_epsilon``. The schedule is applied by
        the caller with :func:`step_lr` and :func:`set_torch_lr`.
    params : iterable
        Model parameters or parameter groups.

    Returns
    -------
    torch.optim.Optimizer
        ``sgd``/``pytorch``: ``torch.optim.SGD(nesterov=True)``; ``sgd``/``keras``:
        :class:`KerasNesterovSGD`; ``adam``/``torch``: ``torch.optim.Adam(eps=1e-8)``;
        ``adam``/``keras``: :class:`KerasEpsAdam` (ε̂ = 1e-7).
    """
    import torch

    _check(recipe)
    lr = float(recipe.learning_rate)
    custom = torch_optimizer_classes()
    if recipe.optimizer == "sgd":
        if recipe.momentum_formula == "keras":
            return custom["KerasNesterovSGD"](params, lr=lr, momentum=recipe.momentum)
        # PyTorch refuses nesterov=True with momentum 0; both rules are then plain SGD.
        return torch.optim.SGD(params, lr=lr, momentum=recipe.momentum,
                               nesterov=recipe.momentum > 0)
    if recipe.adam_epsilon == "keras":
        return custom["KerasEpsAdam"](params, lr=lr, betas=ADAM_BETAS, eps=KERAS_ADAM_EPSILON)
    return torch.optim.Adam(params, lr=lr, betas=ADAM_BETAS, eps=TORCH_ADAM_EPSILON)


def set_torch_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set η in every parameter group (all optimizers here read it at each step)."""
    _check_lr(lr)
    for group in optimizer.param_groups:
        group["lr"] = float(lr)


# --- Keras --------------------------------------------------------------------------------


@functools.cache
def keras_optimizer_classes() -> dict[str, type]:
    """The two custom Keras optimizers, defined (and registered) on first use.

    Defined inside a function so that importing this module does not import Keras and
    TensorFlow. Both are registered as serialisable under the package ``defaults_lab``, so
    ``keras.optimizers.deserialize`` and ``keras.models.load_model`` find them.

    Returns
    -------
    dict
        ``{"PyTorchNesterovSGD": cls, "TorchEpsAdam": cls}``, usable as ``custom_objects``.
    """
    import keras
    from keras import ops

    register = keras.saving.register_keras_serializable(package="defaults_lab")

    @register
    class PyTorchNesterovSGD(keras.optimizers.Optimizer):
        """SGD with Nesterov momentum in the PyTorch form (FD §6), for Keras.

        b ← μb + g; θ ← θ − η(g + μb). The buffer starts at zero, which with no dampening
        gives PyTorch's b₁ = g₁. η multiplies the whole buffer at every step, so a
        learning-rate drop shrinks the accumulated momentum at once.
        """

        def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9,
                     name: str = "pytorch_nesterov_sgd", **kwargs: Any) -> None:
            super().__init__(learning_rate=learning_rate, name=name, **kwargs)
            if not 0 <= momentum < 1:
                raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
            self.momentum = float(momentum)

        def build(self, variables: list) -> None:
            if self.built:
                return
            super().build(variables)
            self.buffers = [self.add_variable_from_reference(v, name="momentum_buffer")
                            for v in variables]

        def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
            lr = ops.cast(learning_rate, variable.dtype)
            g = ops.cast(gradient, variable.dtype)
            mu = ops.cast(self.momentum, variable.dtype)
            b = self.buffers[self._get_variable_index(variable)]
            self.assign(b, ops.add(ops.multiply(b, mu), g))  # b ← μb + g
            self.assign_sub(variable, ops.multiply(lr, ops.add(g, ops.multiply(mu, b))))

        def get_config(self) -> dict:
            config = super().get_config()
            config.update({"momentum": self.momentum})
            return config

    @register
    class TorchEpsAdam(keras.optimizers.Optimizer):
        """Adam with PyTorch's ε (FD §8), for Keras.

        m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
        θ ← θ − η/(1−β₁ᵗ) · m/(√v/√(1−β₂ᵗ) + ε), ε = 1e-8 on the bias-corrected √v.
        """

        def __init__(self, learning_rate: float = 1e-3, beta_1: float = ADAM_BETAS[0],
                     beta_2: float = ADAM_BETAS[1], epsilon: float = TORCH_ADAM_EPSILON,
                     name: str = "torch_eps_adam", **kwargs: Any) -> None:
            super().__init__(learning_rate=learning_rate, name=name, **kwargs)
            if not (0 <= beta_1 < 1 and 0 <= beta_2 < 1 and epsilon >= 0):
                raise ValueError("TorchEpsAdam needs 0 <= beta_1, beta_2 < 1 and epsilon >= 0")
            self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

        def build(self, variables: list) -> None:
            if self.built:
                return
            super().build(variables)
            self.m = [self.add_variable_from_reference(v, name="m") for v in variables]
            self.v = [self.add_variable_from_reference(v, name="v") for v in variables]

        def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
            dtype = variable.dtype
            lr = ops.cast(learning_rate, dtype)
            g = ops.cast(gradient, dtype)
            b1, b2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
            # `iterations` counts finished steps; it is incremented after all variables.
            t = ops.cast(self.iterations + 1, dtype)
            i = self._get_variable_index(variable)
            m, v = self.m[i], self.v[i]
            self.assign(m, ops.add(ops.multiply(b1, m), ops.multiply(1 - b1, g)))
            self.assign(v, ops.add(ops.multiply(b2, v), ops.multiply(1 - b2, ops.square(g))))
            bc1 = 1 - ops.power(b1, t)
            bc2_sqrt = ops.sqrt(1 - ops.power(b2, t))
            # ε after the bias correction of √v: PyTorch's placement.
            denom = ops.add(ops.divide(ops.sqrt(v), bc2_sqrt), ops.cast(self.epsilon, dtype))
            self.assign_sub(variable, ops.divide(ops.multiply(ops.divide(lr, bc1), m), denom))

        def get_config(self) -> dict:
            config = super().get_config()
            config.update({"beta_1": self.beta_1, "beta_2": self.beta_2,
                           "epsilon": self.epsilon})
            return config

    return {"PyTorchNesterovSGD": PyTorchNesterovSGD, "TorchEpsAdam": TorchEpsAdam}


def make_keras_optimizer(recipe: Recipe) -> keras.optimizers.Optimizer:
    """The Keras optimizer a recipe asks for (imports Keras).

    Parameters
    ----------
    recipe : Recipe
        Same fields as :func:`make_torch_optimizer`.

    Returns
    -------
    keras.optimizers.Optimizer
        ``sgd``/``keras``: ``keras.optimizers.SGD(nesterov=True)``, whose update is the
        Keras formula (FD §6; checked numerically in ``tests/test_optimizers.py``);
        ``sgd``/``pytorch``: ``PyTorchNesterovSGD``; ``adam``/``keras``:
        ``keras.optimizers.Adam(epsilon=1e-7)`` (ε-hat); ``adam``/``torch``:
        ``TorchEpsAdam`` (ε = 1e-8). The learning rate is a variable: change it with
        :func:`set_keras_lr`.
    """
    _check(recipe)
    import keras

    lr = float(recipe.learning_rate)
    classes = keras_optimizer_classes()
    if recipe.optimizer == "sgd":
        if recipe.momentum_formula == "keras":
            return keras.optimizers.SGD(learning_rate=lr, momentum=recipe.momentum,
                                        nesterov=True)
        return classes["PyTorchNesterovSGD"](learning_rate=lr, momentum=recipe.momentum)
    if recipe.adam_epsilon == "keras":
        return keras.optimizers.Adam(learning_rate=lr, beta_1=ADAM_BETAS[0],
                                     beta_2=ADAM_BETAS[1], epsilon=KERAS_ADAM_EPSILON)
    return classes["TorchEpsAdam"](learning_rate=lr)


def set_keras_lr(optimizer: keras.optimizers.Optimizer, lr: float) -> None:
    """Set η of a Keras optimizer between epochs (assigns its learning-rate variable).

    The optimizer must have been built with a float learning rate, as
    :func:`make_keras_optimizer` does; Keras refuses to overwrite a ``LearningRateSchedule``.
    """
    _check_lr(lr)
    optimizer.learning_rate = float(lr)
