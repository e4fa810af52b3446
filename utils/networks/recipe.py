"""The recipe: every default that differs between Keras and PyTorch, as one dataclass.

Introduced in ``02_keras_reference.ipynb``. Both frameworks' model builders and trainers
take the same :class:`Recipe`; a toggle is ``dataclasses.replace(recipe, field=value)``.
Each field's comment gives the formula and the section of
``docs/sources.md#framework-defaults`` (abbreviated FD §N) it comes from.

Two named recipes (:data:`RECIPES`): :data:`KERAS_2017` (Keras 2.x defaults, as the 2017
model had them) and :data:`PYTORCH` (PyTorch defaults). They share every hyper-parameter a
researcher would write down (learning rate, momentum, batch size, epochs, architecture) and
differ only in what the frameworks chose for him.

Examples
--------
>>> from dataclasses import replace
>>> r = replace(PYTORCH, gate_activation="hard_sigmoid_keras2")
>>> Recipe.from_string(r.to_string()) == r
True
>>> diff(PYTORCH, r)
{'gate_activation': ('sigmoid', 'hard_sigmoid_keras2')}
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cache
from typing import Any, Literal, NoReturn, get_args, get_type_hints

Init = Literal["keras", "torch"]


@dataclass(frozen=True)
class Recipe:
    """One training recipe; every field is a default that a framework chose.

    Initialisation (FD §1–§2)
        ``kernel_init``: conv/dense kernels. ``keras`` = Glorot-uniform
        U(±√(6/(fan_in+fan_out))); ``torch`` = kaiming_uniform(a=√5) = U(±1/√fan_in).
        ``bias_init``: conv/dense biases. ``keras`` = zeros; ``torch`` = U(±1/√fan_in).
        ``gru_input_init``: GRU input kernel. ``keras`` = Glorot-uniform on the concatenated
        (input, 3·units) matrix; ``torch`` = U(±1/√H).
        ``gru_recurrent_init``: ``keras`` = orthogonal on the concatenated (units, 3·units)
        matrix; ``torch`` = U(±1/√H).
        ``gru_bias_init``: ``keras`` = zeros; ``torch`` = U(±1/√H) on both bias vectors.
    GRU (FD §3–§4)
        ``gate_activation``: ``sigmoid``; ``hard_sigmoid_keras2`` = clip(0.2x + 0.5, 0, 1)
        (Keras 2.0–2.2 default, Theano); ``hard_sigmoid_keras3`` = clip(x/6 + 0.5, 0, 1)
        (Keras 3 and PyTorch ``hardsigmoid``: the Keras name stayed, the slope changed).
        ``reset_after``: False = reset gate before the recurrent matmul (Keras 2, Cho et
        al.); True = after it (cuDNN, PyTorch, Keras 3).
    Optimizer (FD §6, §8)
        ``optimizer``: ``sgd`` (Nesterov momentum) or ``adam``.
        ``momentum_formula``: ``keras``: v ← μv − ηg, θ ← θ + μv − ηg;
        ``pytorch``: b ← μb + g, θ ← θ − η(g + μb). Same iterates at a constant η.
        ``lr_schedule``: ``constant``; ``step`` (η × ``lr_decay`` every ``lr_step_epochs``);
        ``plateau`` (η × ``lr_decay`` whenever validation micro-F1 has gone
        ``lr_step_epochs`` epochs without improving, counted afresh after each drop).
        ``adam_epsilon``: ``keras`` = 1e-7 added to the uncorrected √v (ε-hat);
        ``torch`` = 1e-8 added to the bias-corrected √v.
    Input and normalisation (thread answer 3; FD §7)
        ``input_scaling``: ``unit`` [0, 1], ``pm128`` [−128, 128], ``standard`` z-scores.
        ``batchnorm``: ``none``; ``keras`` (momentum 0.99, ε 1e-3); ``torch`` (0.1, 1e-5).
    Loss (FD §12)
        ``loss_guard``: ``keras`` clips p to [1e-7, 1 − 1e-7]; ``torch`` clamps log(p) ≥ −100.
    Training and architecture (docs/sources.md#original-crnn): equal in both presets
        ``learning_rate``, ``momentum``, ``batch_size``, ``epochs``.
        ``patience``: 0 trains exactly ``epochs`` epochs and keeps the last weights (a fixed
        budget). A positive patience trains until validation micro-F1 has not improved for
        ``patience`` epochs, with ``epochs`` as the cap, and keeps the weights of the best
        validation epoch (early stopping, as the DCASE 2017 baseline did).
        ``pooling``: frame → clip: ``max``, ``mean`` or ``linear_softmax`` Σp²/Σp.
        ``balanced_batches``: the original author's class-balanced minibatches.
        ``model_size``: ``classroom`` or ``paper``; ``bidirectional`` GRU.

    Every field's type and range is checked on construction (also through
    :meth:`from_dict`, :meth:`from_string` and ``dataclasses.replace``): a bool is not a
    number, ``epochs`` must be an int (``3.0`` is refused), ``0 < lr_decay <= 1``. A bad
    value raises ``ValueError`` naming the field, the value and what was expected. Integers
    given for float fields are stored as floats.
    """

    name: str = field(default="custom", compare=False)  # a label only, not part of identity
    kernel_init: Init = "keras"
    bias_init: Init = "keras"
    gru_input_init: Init = "keras"
    gru_recurrent_init: Init = "keras"
    gru_bias_init: Init = "keras"
    gate_activation: Literal["sigmoid", "hard_sigmoid_keras2", "hard_sigmoid_keras3"] = (
        "hard_sigmoid_keras2")
    reset_after: bool = False
    optimizer: Literal["sgd", "adam"] = "sgd"
    momentum_formula: Literal["keras", "pytorch"] = "keras"
    learning_rate: float = 0.05
    momentum: float = 0.9
    lr_schedule: Literal["constant", "step", "plateau"] = "constant"
    lr_step_epochs: int = 4
    lr_decay: float = 0.1
    adam_epsilon: Init = "keras"
    input_scaling: Literal["unit", "pm128", "standard"] = "standard"
    batchnorm: Literal["none", "keras", "torch"] = "none"
    loss_guard: Init = "keras"
    pooling: Literal["max", "mean", "linear_softmax"] = "linear_softmax"
    balanced_batches: bool = True
    batch_size: int = 16
    epochs: int = 12
    patience: int = 0
    bidirectional: bool = False
    model_size: Literal["classroom", "paper"] = "classroom"

    def __post_init__(self) -> None:
        hints = _field_hints()
        for f in fields(self):
            value = getattr(self, f.name)
            hint = hints[f.name]
            allowed = get_args(hint)
            if allowed:
                # A bool equals 0/1 and 1.0 == 1: compare types too, so True is no choice.
                if not any(type(value) is type(a) and value == a for a in allowed):
                    _bad(f.name, value, f"one of {list(allowed)}")
            elif hint is bool:
                if not isinstance(value, bool):
                    _bad(f.name, value, "True or False")
            elif hint is str:
                if not isinstance(value, str):
                    _bad(f.name, value, f"a string, found {type(value).__name__}")
            elif hint is int:
                # bool is an Integral, and 3.0 is no epoch count: both are type errors.
                if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                    _bad(f.name, value, f"an integer, found {type(value).__name__}")
                object.__setattr__(self, f.name, int(value))
            elif hint is float:
                if isinstance(value, bool) or not isinstance(value, numbers.Real):
                    _bad(f.name, value, f"a number, found {type(value).__name__}")
                if not math.isfinite(value):
                    _bad(f.name, value, "a finite number")
                object.__setattr__(self, f.name, float(value))
        for name, ok, expected in _RANGES:
            value = getattr(self, name)
            if not ok(value):
                _bad(name, value, expected)
        # Stopping by patience needs `patience` epochs without gain after the best one,
        # which is epoch 1 at the earliest: a cap of `patience` epochs never allows it.
        if self.patience and self.epochs <= self.patience:
            _bad("epochs", self.epochs, f"a cap above patience = {self.patience} epochs "
                                        f"(the run could never stop by patience)")

    # --- serialisation: a results row names its recipe exactly -------------------------
    def to_dict(self) -> dict:
        return asdict(self)

    def to_string(self) -> str:
        """Compact JSON of the fields that differ from ``Recipe()`` (sorted, stable).

        The ``name`` label is left out: two recipes with the same string are the same.
        """
        base = _default_recipe()
        changed = {f.name: getattr(self, f.name) for f in fields(self)
                   if f.name != "name" and getattr(self, f.name) != getattr(base, f.name)}
        return json.dumps(changed, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict) -> Recipe:
        """A recipe from ``{field: value}``; every value is checked as by the constructor."""
        if not isinstance(d, dict):
            raise ValueError(f"a recipe needs a dict of fields, got {type(d).__name__} {d!r}")
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown recipe fields {sorted(unknown)}; expected some of "
                             f"{[f.name for f in fields(cls)]}")
        return cls(**d)

    @classmethod
    def from_string(cls, s: str) -> Recipe:
        try:
            d = json.loads(s)
        except json.JSONDecodeError as e:
            raise ValueError(f"recipe string is not JSON: {s!r} ({e})") from e
        if not isinstance(d, dict):
            raise ValueError(f"recipe string must be a JSON object, got {s!r}")
        return cls.from_dict(d)


def _bad(name: str, value: object, expected: str) -> NoReturn:
    raise ValueError(f"recipe field {name!r} = {value!r}: expected {expected}")


# (field, test, what is expected): checked after the types, on every construction.
_RANGES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("learning_rate", lambda v: v > 0, "a number > 0"),
    ("momentum", lambda v: 0 <= v < 1, "a number in [0, 1)"),
    ("lr_decay", lambda v: 0 < v <= 1, "a factor in (0, 1] (the step schedule multiplies "
                                       "the learning rate by it)"),
    ("lr_step_epochs", lambda v: v >= 1, "an integer >= 1"),
    ("batch_size", lambda v: v >= 1, "an integer >= 1"),
    ("epochs", lambda v: v >= 1, "an integer >= 1"),
    ("patience", lambda v: v >= 0, "an integer >= 0 (0: a fixed budget of `epochs` epochs)"),
)


# Read once: a results summary builds tens of thousands of recipes, and resolving the
# annotations is most of what each check costs.
@cache
def _field_hints() -> dict[str, Any]:
    return get_type_hints(Recipe)


@cache
def _default_recipe() -> Recipe:
    return Recipe()


KERAS_2017 = Recipe(name="keras_2017")
# Only what PyTorch chose differently; every written-down hyper-parameter is shared.
PYTORCH = replace(
    KERAS_2017, name="pytorch", kernel_init="torch", bias_init="torch",
    gru_input_init="torch", gru_recurrent_init="torch", gru_bias_init="torch",
    gate_activation="sigmoid", reset_after=True, momentum_formula="pytorch",
    adam_epsilon="torch", loss_guard="torch",
)
RECIPES: dict[str, Recipe] = {r.name: r for r in (KERAS_2017, PYTORCH)}

# The stopping rule of the trained-model grids: early stopping on validation micro-F1 with
# this patience, capped at this many epochs (calibrated on the classroom data: the stored
# reference grid reports how many runs stopped by patience rather than by the cap).
TRAINED = {"patience": 15, "epochs": 200}


def trained(recipe: Recipe) -> Recipe:
    """``recipe`` trained until it has learned (:data:`TRAINED`), its name kept.

    Examples
    --------
    >>> r = trained(KERAS_2017)
    >>> (r.patience, r.epochs, r.name, r.to_string())
    (15, 200, 'keras_2017', '{"epochs":200,"patience":15}')
    """
    return replace(recipe, **TRAINED)

# Which fields are "framework defaults" (the ladder's rungs) and which are choices a
# researcher writes down himself.
DEFAULT_FIELDS = ("kernel_init", "bias_init", "gru_input_init", "gru_recurrent_init",
                  "gru_bias_init", "gate_activation", "reset_after", "momentum_formula",
                  "adam_epsilon", "loss_guard")

# The ladder (notebook 08): one default per rung, in the order the thread's author tried
# them (initialisation, the Nesterov formula, the gate activation; docs/sources.md#qa-thread),
# then the remaining GRU and epsilon defaults. Together the rungs cover DEFAULT_FIELDS.
LADDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("conv/dense init", ("kernel_init", "bias_init")),
    ("GRU init", ("gru_input_init", "gru_recurrent_init", "gru_bias_init")),
    ("Nesterov formula", ("momentum_formula",)),
    ("gate activation", ("gate_activation",)),
    ("reset_after", ("reset_after",)),
    ("epsilons", ("adam_epsilon", "loss_guard")),
)


class Ladder(tuple):
    """The rungs of a ladder, ``(label, recipe)`` pairs from ``"start"`` to the last step.

    Iterates like a list of pairs; :meth:`rung` names a rung by the step that led to it, so
    code says ``TORCH_LADDER.rung("GRU init")`` rather than a position.
    """

    def rung(self, label: str) -> Recipe:
        """The recipe after the step ``label`` (``"start"``: before any step).

        Raises ValueError naming the labels there are.
        """
        for name, recipe in self:
            if name == label:
                return recipe
        raise ValueError(f"no ladder rung {label!r}: expected one of {self.labels()}")

    def labels(self) -> list[str]:
        return [name for name, _ in self]

    def recipes(self) -> list[Recipe]:
        return [recipe for _, recipe in self]


def ladder(start: Recipe, end: Recipe) -> Ladder:
    """Rungs from ``start`` to ``end``, switching one :data:`LADDER` default per rung.

    Returns ``[("start", start), (step label, recipe), ..., (last label, end)]`` as a
    :class:`Ladder`; the rung named after step ``i`` has the first ``i`` steps switched to
    ``end``'s values. ``start`` and ``end`` must differ only in :data:`DEFAULT_FIELDS`.

    Examples
    --------
    >>> rungs = ladder(PYTORCH, KERAS_2017)
    >>> rungs.labels()[:3]
    ['start', 'conv/dense init', 'GRU init']
    >>> rungs.rung("epsilons") == KERAS_2017
    True
    >>> diff(rungs.rung("GRU init"), rungs.rung("Nesterov formula"))
    {'momentum_formula': ('pytorch', 'keras')}
    """
    other = set(diff(start, end)) - set(DEFAULT_FIELDS)
    if other:
        raise ValueError(f"a ladder switches framework defaults only; {sorted(other)} "
                         f"differ too")
    rungs, r = [("start", start)], start
    for i, (label, names) in enumerate(LADDER, start=1):
        r = replace(r, name=f"{start.name}+{i}", **{n: getattr(end, n) for n in names})
        rungs.append((label, r))
    rungs[-1] = (rungs[-1][0], end)
    return Ladder(rungs)


def get_recipe(name_or_string: str) -> Recipe:
    """A named recipe (:data:`RECIPES`), or a recipe string from :meth:`Recipe.to_string`."""
    if not isinstance(name_or_string, str):
        raise ValueError(f"recipe {name_or_string!r}: expected a recipe name "
                         f"{sorted(RECIPES)} or a JSON recipe string")
    if name_or_string in RECIPES:
        return RECIPES[name_or_string]
    if name_or_string.lstrip().startswith("{"):
        return Recipe.from_string(name_or_string)
    raise ValueError(f"unknown recipe {name_or_string!r}: expected one of {sorted(RECIPES)} "
                     f"or a JSON recipe string")


def diff(a: Recipe, b: Recipe) -> dict[str, tuple]:
    """Fields (except ``name``) where ``b`` differs from ``a``: {field: (a value, b value)}."""
    return {f.name: (getattr(a, f.name), getattr(b, f.name)) for f in fields(a)
            if f.name != "name" and getattr(a, f.name) != getattr(b, f.name)}


def recipe_table(*recipes: Recipe) -> list[dict]:
    """Rows ``{"field", <recipe name>: value, ...}``, one per field, for display."""
    return [{"field": f.name, **{r.name: getattr(r, f.name) for r in recipes}}
            for f in fields(Recipe) if f.name != "name"]
