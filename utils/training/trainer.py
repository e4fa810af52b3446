"""Train the CRNN from a recipe in either framework: same data, same batches, same metric.

Introduced in ``02_keras_reference.ipynb``. :func:`train` is the single entry point:
recipe + dataset + seeds + framework → :class:`TrainResult`.

Every epoch it records the training loss, the validation micro-F1 (thresholds tuned on the
validation set) and the test micro-F1 at those thresholds, so the result at any epoch
budget can be read from one run. With ``recipe.patience`` > 0 the run stops once
validation F1 has not improved for that many epochs (``recipe.epochs`` is the cap) and
keeps the weights of its best validation epoch; with 0 it trains exactly ``recipe.epochs``
and keeps the last.

Two seeds: ``seed`` draws the initial weights, ``data_seed`` (default: ``seed``) the
minibatch order. For one data seed both frameworks, and any two recipes, see exactly the
same batches, so comparisons can be paired. On CPU the same seeds give the identical run.

Command line (last line ``test_f1=<x> seconds=<s>``)::

    python -m utils.train --framework keras --recipe keras_2017 --seed 0 [--preset classroom]
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from tqdm.auto import tqdm

from utils.common.frameworks import (
    ensure_threads,
    keras_backend,
    quiet_tensorflow,
    set_threads,
    threads_in_use,
)
from utils.common.machine import float_path
from utils.common.memory import peak_rss_mb
from utils.networks.optimizers import (
    make_keras_optimizer,
    make_torch_optimizer,
    plateau_lr,
    set_keras_lr,
    set_torch_lr,
    step_lr,
)
from utils.networks.recipe import Recipe, get_recipe
from utils.task.dataset import PRESETS, Dataset, load_dataset
from utils.task.features import scale_features
from utils.task.metrics import binarize, micro_f1, tune_class_thresholds
from utils.training.keras_backends import OTHER_BACKENDS, call_in, initial_weights, runs_here

FRAMEWORKS = ("keras", "torch")  # the lab's two frameworks (Keras on TensorFlow, PyTorch)
# ... and the Keras model on the two other Keras backends (notebook 10), each run in a
# process of its own (utils.training.keras_backends).
ALL_FRAMEWORKS = FRAMEWORKS + OTHER_BACKENDS
EpochCallback = Callable[[int, float, float], None]  # (epoch, train loss, valid F1)
# Evaluation batch per framework: speed only, the outputs are those of the 250-clip batches
# used before (tests/test_train.py checks it). PyTorch gives a clip the same output at
# any batch size, and its channels-last max-pooling slows down sharply once a batch's
# activations leave the cache. TensorFlow's outputs move in the last bits with the batch
# size, so Keras keeps 250 and gains its speed from a compiled forward pass instead.
EVAL_BATCH = {"torch": 64, "keras": 250}
STOP_REASONS = ("fixed", "patience", "cap")


def encode_probs(p: np.ndarray) -> str:
    """Test-set probabilities as compact text: float16, zlib, base64 (about 2 bytes a value
    before compression), enough to recompute F1 and bootstrap over clips later."""
    raw = np.ascontiguousarray(p, dtype="<f2")
    head = f"{raw.shape[0]}x{raw.shape[1]}:"
    return head + base64.b64encode(zlib.compress(raw.tobytes(), 9)).decode("ascii")


def decode_probs(text: str) -> np.ndarray:
    """Inverse of :func:`encode_probs`; ValueError for text it did not write.

    Examples
    --------
    >>> p = np.array([[0.1, 0.9], [0.5, 0.25]], dtype=np.float32)
    >>> decode_probs(encode_probs(p)).tolist()
    [[0.0999755859375, 0.89990234375], [0.5, 0.25]]
    """
    try:
        head, body = text.split(":", 1)
        rows, cols = (int(v) for v in head.split("x"))
        raw = zlib.decompress(base64.b64decode(body.encode("ascii"), validate=True))
        arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        return arr.reshape(rows, cols)
    except (ValueError, zlib.error) as e:
        raise ValueError(f"not encoded test probabilities ({e}): {text[:40]!r}") from None


@dataclass
class TrainResult:
    """Everything one training run produced (one row of a results table)."""

    framework: str
    recipe: str  # Recipe.to_string(): names the recipe exactly
    recipe_name: str
    seed: int  # the initial weights
    data_seed: int  # the minibatch order
    preset: str
    test_f1: float  # kept epoch; per-class thresholds tuned on validation (the author's method)
    test_f1_fixed: float  # kept epoch, a fixed 0.5 threshold
    valid_f1: float  # kept epoch
    seconds: float
    # This process's own peak resident memory when the run ended (VmHWM, not ru_maxrss:
    # utils.common.memory). A grid job resets it at its start, so there it is the job's peak;
    # elsewhere (a notebook) the peak since the process started.
    peak_rss_mb: float
    n_params: int
    best_epoch: int = 0  # 1-based epoch whose weights were kept
    stop_reason: str = "fixed"  # fixed budget, patience ran out, or the cap was reached
    epoch_loss: list[float] = field(default_factory=list)
    epoch_valid_f1: list[float] = field(default_factory=list)
    epoch_test_f1: list[float] = field(default_factory=list)  # thresholds of that epoch
    thresholds: list[float] = field(default_factory=list)
    test_probs: str = ""  # kept epoch's test probabilities (encode_probs)
    float_path: dict = field(default_factory=dict)  # utils.common.machine.float_path

    def to_dict(self) -> dict:
        return asdict(self)


# --- batches --------------------------------------------------------------------------------

def scaled_features(x: np.ndarray, stats, scaling: str, clips: int = 64) -> np.ndarray:
    """:func:`~utils.task.features.scale_features` of ``x``, ``clips`` clips at a time, into
    one float32 array: the same numbers (the scaling is elementwise), without the
    full-size temporaries (``x - mean``, then a float32 copy) that would sit beside the raw
    features and the result (notebook 09's kernel, which holds both frameworks, peaked
    there).

    Examples
    --------
    >>> from utils.task.features import feature_stats, scale_features
    >>> x = np.arange(24, dtype=np.float32).reshape(3, 4, 2)
    >>> s = feature_stats(x)
    >>> bool(np.array_equal(scaled_features(x, s, "standard", clips=2),
    ...                     scale_features(x, s, "standard")))
    True
    """
    if not len(x):
        return scale_features(x, stats, scaling)
    out = np.empty(x.shape, np.float32)
    for i in range(0, len(x), clips):
        out[i:i + clips] = scale_features(x[i:i + clips], stats, scaling)
    return out


def check_batch_size(batch_size: int, n_train: int, dataset: str = "") -> None:
    """Refuse a batch larger than the training split: class-balanced batching would make no
    batch at all (an epoch without a step), plain batching one short batch.

    Examples
    --------
    >>> check_batch_size(16, 160)
    >>> try:
    ...     check_batch_size(500, 160, "smoke")
    ... except ValueError as e:
    ...     print(str(e).split(":")[0])
    batch_size = 500 is larger than the training split of dataset 'smoke' (160 clips)
    """
    if batch_size > n_train:
        of = f" of dataset {dataset!r}" if dataset else ""
        raise ValueError(f"batch_size = {batch_size} is larger than the training split{of} "
                         f"({n_train} clips): expected a batch_size of at most {n_train}")


def epoch_batches(y: np.ndarray, recipe: Recipe, rng: np.random.Generator) -> list[np.ndarray]:
    """Clip indices of each minibatch of one epoch (``n_train // batch_size`` batches when
    class-balanced, all clips in shuffled batches otherwise).

    Class-balanced batches follow the original author's sampler
    (docs/sources.md#original-crnn): one queue of clips per class, the class order shuffled,
    one clip taken from each queue in turn, so every batch holds roughly equal numbers of
    clips of each class.

    Examples
    --------
    >>> from utils.networks.recipe import KERAS_2017
    >>> y = np.eye(17)[np.arange(200) % 17]
    >>> b = epoch_batches(y, KERAS_2017, np.random.default_rng(0))
    >>> len(b), len(b[0])
    (12, 16)
    """
    n, bs = len(y), recipe.batch_size
    check_batch_size(bs, n)
    if not recipe.balanced_batches:
        order = rng.permutation(n)
        return [order[i:i + bs] for i in range(0, n, bs)]
    queues = [rng.permutation(np.flatnonzero(y[:, c])) for c in range(y.shape[1])]
    classes = [c for c, q in enumerate(queues) if len(q)]  # a tiny split may lack a class
    pos = dict.fromkeys(classes, 0)
    picks: list[int] = []
    cycle: list[int] = []
    while len(picks) < (n // bs) * bs:
        if not cycle:
            cycle = list(rng.permutation(classes))
        c = cycle.pop()
        if pos[c] == len(queues[c]):  # queue exhausted: reshuffle and start again
            queues[c], pos[c] = rng.permutation(queues[c]), 0
        picks.append(int(queues[c][pos[c]]))
        pos[c] += 1
    order = np.array(picks)
    return [order[i:i + bs] for i in range(0, len(order), bs)]


# --- framework back ends ---------------------------------------------------------------------

class TorchTrainer:
    """One PyTorch model and optimizer built from a recipe: ``fit_epoch`` on given batches,
    ``predict`` probabilities. :func:`train` drives it; ``09_float_drift`` drives a pair."""

    def __init__(self, recipe: Recipe, seed: int, x_train: np.ndarray, y_train: np.ndarray):
        # PyTorch is imported here, not with this module: a Keras-only process never loads it.
        import torch

        from utils.networks.model_torch import bce_loss, build_model, count_parameters

        self.torch, self.loss_fn, self.recipe = torch, bce_loss, recipe
        # A GPU where there is one (Colab, a lent machine): fast live runs, but the stored
        # tables are CPU runs; a GPU run records its device and never re-derives a CPU row.
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = build_model(recipe, seed).to(self.device)
        self.opt = make_torch_optimizer(recipe, self.model.parameters())
        self.x = torch.from_numpy(x_train[:, None])
        self.y = torch.from_numpy(y_train)
        self.n_params = count_parameters(self.model)

    def fit_epoch(self, batches: list[np.ndarray], lr: float) -> float:
        torch = self.torch
        set_torch_lr(self.opt, lr)
        self.model.train()
        total, count = 0.0, 0
        for idx in batches:
            ii = torch.from_numpy(idx)
            xb = self.x[ii].to(self.device).contiguous(memory_format=torch.channels_last)
            loss = self.loss_fn(self.model(xb), self.y[ii].to(self.device),
                                self.recipe.loss_guard)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        return total / count

    def predict(self, x: np.ndarray, batch: int = EVAL_BATCH["torch"]) -> np.ndarray:
        torch = self.torch
        self.model.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(x), batch):
                xb = torch.from_numpy(x[i:i + batch, None]).to(self.device).contiguous(
                    memory_format=torch.channels_last)
                out.append(self.model(xb).cpu().numpy())
        return np.concatenate(out)

    def get_state(self) -> dict:
        """A copy of the weights (and BatchNorm statistics), to restore the best epoch."""
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def set_state(self, state: dict) -> None:
        self.model.load_state_dict(state)


class KerasTrainer:
    """The Keras twin of :class:`TorchTrainer`: same constructor, same two methods.

    On TensorFlow (the lab's Keras) one compiled step per batch; on JAX and PyTorch Keras'
    own ``train_on_batch``, which each backend compiles in its own way (``jax.jit``; eager
    autograd). ``weights`` replaces the seed's initial draw (:mod:`~utils.training.
    keras_backends` hands every backend TensorFlow's).
    """

    def __init__(self, recipe: Recipe, seed: int, x_train: np.ndarray, y_train: np.ndarray,
                 weights: list[np.ndarray] | None = None):
        import keras

        from utils.networks.model_keras import build_model, make_loss

        self.backend = keras.backend.backend()
        self.model = build_model(recipe, seed)
        if weights is not None:
            self.model.set_weights(weights)
        self.opt = make_keras_optimizer(recipe)
        self.x, self.y = x_train[..., None], y_train
        self.n_params = int(self.model.count_params())
        if self.backend != "tensorflow":
            self.model.compile(optimizer=self.opt, loss=make_loss(recipe.loss_guard))
            self.step = self.model.train_on_batch
            self._chain = _layer_chain(self.model) if self.backend == "torch" else None
            return
        self.opt.build(self.model.trainable_variables)
        tf = quiet_tensorflow()
        loss_fn = make_loss(recipe.loss_guard)
        model, opt = self.model, self.opt

        # A compiled step on numpy batches: fit() would wrap every epoch in a tf.data
        # pipeline, which costs time and logs noise on CPU.
        @tf.function(reduce_retracing=True)
        def step(xb, yb):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(loss_fn(yb, model(xb, training=True)))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        self.step = step
        # The same forward pass as a graph: identical outputs, without the eager per-layer
        # dispatch that made evaluation cost a quarter of an epoch.
        self._forward = tf.function(lambda xb: model(xb, training=False),
                                    reduce_retracing=True)

    def fit_epoch(self, batches: list[np.ndarray], lr: float) -> float:
        set_keras_lr(self.opt, lr)
        total, count = 0.0, 0
        for idx in batches:
            loss = self.step(self.x[idx], self.y[idx])
            total += float(loss) * len(idx)
            count += len(idx)
        return total / count

    def predict(self, x: np.ndarray, batch: int = EVAL_BATCH["keras"],
                compiled: bool = True) -> np.ndarray:
        """Probabilities of ``x``; ``compiled=False`` is the eager call this trainer used
        before (the same numbers, slower: ``make throughput`` times both)."""
        if self.backend == "torch" and self._chain is not None:
            forward = self._forward_chain
        elif self.backend != "tensorflow":  # the backend's compiled, gradient-free predict
            forward = self.model.predict_on_batch
        elif compiled:
            forward = self._forward
        else:
            def forward(xb):
                return self.model(xb, training=False)
        return np.concatenate([np.asarray(forward(x[i:i + batch, ..., None]))
                               for i in range(0, len(x), batch)])

    def _forward_chain(self, xb: np.ndarray) -> np.ndarray:
        """``predict_on_batch`` on PyTorch, one layer at a time, the per-clip layers (the
        convolution stack) in chunks of ``EVAL_BATCH["torch"]`` clips: the same outputs to
        the bit (tests/test_backends.py), a fraction of the memory.

        Keras' functional call keeps every layer's output until the last layer has run, and
        on eager PyTorch each convolution block's transposes and copies of 250 clips held
        about 200 MB at once: notebook 10's backend process peaked at evaluation. A
        convolution, pooling, ReLU or BatchNorm gives a clip the same output in any batch
        (as the native PyTorch model's evaluation relies on); the GRU and the dense layer
        do not (their matrix products round with the batch), so they see the whole batch,
        as before."""
        import torch
        from keras import ops

        per_clip, rest = self._chain
        step = EVAL_BATCH["torch"]
        with torch.no_grad():  # as predict_on_batch: no graph kept for a backward pass
            chunks = []
            for i in range(0, len(xb), step):
                h = ops.convert_to_tensor(xb[i:i + step])
                for layer in per_clip:
                    h = layer(h, training=False)
                chunks.append(h)
            h = torch.cat(chunks) if len(chunks) > 1 else chunks[0]
            del chunks
            for layer in rest:
                h = layer(h, training=False)
            return ops.convert_to_numpy(h)

    def get_state(self) -> list[np.ndarray]:
        """A copy of every weight (BatchNorm statistics included), to restore the best epoch."""
        return [np.array(w, copy=True) for w in self.model.get_weights()]

    def set_state(self, state: list[np.ndarray]) -> None:
        self.model.set_weights(state)


# Layers that compute each clip on its own, whatever else is in the batch (bit for bit on
# PyTorch: tests/test_backends.py); a recurrent or dense layer's matrix products do not.
PER_CLIP_LAYERS = ("Conv2D", "BatchNormalization", "MaxPooling2D", "ReLU", "Reshape")


def _layer_chain(model) -> tuple[list, list] | None:
    """The layers of ``model`` after its input, in order, where each reads the output of
    the one before (the lab's CRNN, a bidirectional GRU being one layer), split into the
    leading :data:`PER_CLIP_LAYERS` and the rest; None for any other model."""
    layers = model.layers
    if not layers or type(layers[0]).__name__ != "InputLayer":
        return None
    if not all(b.input is a.output for a, b in zip(layers, layers[1:])):
        return None
    n = 1
    while n < len(layers) and type(layers[n]).__name__ in PER_CLIP_LAYERS:
        n += 1
    return layers[1:n], layers[n:]


def make_trainer(framework: str, recipe: Recipe, seed: int, x_train: np.ndarray,
                 y_train: np.ndarray,
                 weights: list[np.ndarray] | None = None) -> KerasTrainer | TorchTrainer:
    """The trainer of ``framework``, with the framework made deterministic first (on CPU,
    the same seed then gives the identical run). ``keras`` is Keras on this process's
    backend (TensorFlow unless ``$KERAS_BACKEND`` says otherwise)."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}: expected one of {FRAMEWORKS}")
    ensure_threads(framework)  # one thread unless told otherwise, once per process
    if framework == "keras":
        import keras

        if keras.backend.backend() == "tensorflow":
            quiet_tensorflow().config.experimental.enable_op_determinism()
        return KerasTrainer(recipe, seed, x_train, y_train, weights)
    if weights is not None:
        raise ValueError("weights are for the Keras trainer (the PyTorch model copies them "
                         "with utils.training.parity.copy_keras_to_torch)")
    return TorchTrainer(recipe, seed, x_train, y_train)


def train(recipe: Recipe, data: Dataset | str = "classroom", seed: int = 0,
          framework: str = "keras", on_epoch: EpochCallback | None = None,
          progress: bool = True, model_out: list | None = None,
          data_seed: int | None = None, weights: list[np.ndarray] | None = None,
          ) -> TrainResult:
    """Train the CRNN of ``recipe`` in ``framework`` on ``data``.

    ``seed`` draws the initial weights and ``data_seed`` (default ``seed``) the batch order.
    ``model_out``, if given, receives the trained model (the kept epoch's weights), for
    notebooks that look inside it. ``keras-jax`` and ``keras-torch`` run in a process of
    their own (:mod:`~utils.training.keras_backends`), from TensorFlow's initial weights
    for ``seed``; ``on_epoch`` and ``model_out`` are not available there.
    """
    if framework not in ALL_FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}: expected one of {ALL_FRAMEWORKS}")
    data_seed = seed if data_seed is None else data_seed
    if framework in OTHER_BACKENDS:
        if on_epoch is not None or model_out is not None:
            raise ValueError(f"{framework} trains in a process of its own: on_epoch and "
                             f"model_out are not available")
        if not isinstance(data, str):
            data = data.preset.name  # the other process loads the dataset by its name
        weights = initial_weights(recipe, seed) if weights is None else weights
        if not runs_here(framework):
            return TrainResult(**call_in(
                framework.split("-", 1)[1], "train", recipe=recipe, data=data,
                seed=seed, data_seed=data_seed, framework=framework, weights=weights))
    elif not runs_here(framework):
        raise ValueError(f"this process's Keras runs on {keras_backend()}: framework "
                         f"{framework!r} is Keras on TensorFlow; ask for keras-"
                         f"{keras_backend()} instead")
    ds = load_dataset(data, progress=progress) if isinstance(data, str) else data
    t0 = time.perf_counter()
    x = {s: scale_features(ds[s].x, ds.stats, recipe.input_scaling)
         for s in ("train", "valid", "test")}
    y = {s: ds[s].y for s in ("train", "valid", "test")}
    preset = ds.preset.name
    if isinstance(data, str):
        # Training reads only the scaled copies: the raw features loaded here would double
        # the data's memory in every grid worker and backend process for the whole run.
        del ds
    check_batch_size(recipe.batch_size, len(y["train"]), preset)  # before building a model
    base = "keras" if framework in OTHER_BACKENDS else framework
    trainer = make_trainer(base, recipe, seed, x["train"], y["train"], weights)
    rng = np.random.default_rng(data_seed)  # the batch order: identical for both frameworks
    losses, valid_f1s, test_f1s = [], [], []
    best = None  # (valid F1, epoch index, its thresholds, its test probabilities, weights)
    reason = "patience" if recipe.patience else "fixed"
    bar = tqdm(range(recipe.epochs), desc=f"{framework} seed {seed}", unit="epoch",
               disable=not progress, leave=False, file=sys.stderr)
    for epoch in bar:
        lr = (plateau_lr(recipe, valid_f1s) if recipe.lr_schedule == "plateau"
              else step_lr(recipe, epoch))
        loss = trainer.fit_epoch(epoch_batches(y["train"], recipe, rng), lr)
        p_valid, p_test = trainer.predict(x["valid"]), trainer.predict(x["test"])
        thresholds = tune_class_thresholds(p_valid, y["valid"])
        f1 = micro_f1(y["valid"], binarize(p_valid, thresholds))
        losses.append(loss)
        valid_f1s.append(f1)
        test_f1s.append(micro_f1(y["test"], binarize(p_test, thresholds)))
        bar.set_postfix(loss=f"{loss:.4f}", valid_f1=f"{f1:.3f}")
        if on_epoch is not None:
            on_epoch(epoch, loss, f1)
        # A fixed budget keeps the last epoch; early stopping the best (first of equals).
        if not recipe.patience or best is None or f1 > best[0]:
            best = (f1, epoch, thresholds, p_test,
                    trainer.get_state() if recipe.patience else None)
        elif epoch - best[1] >= recipe.patience:
            break
    else:
        reason = "cap" if recipe.patience else "fixed"
    f1_kept, kept, thresholds, p_test, state = best
    if state is not None and kept != epoch:
        trainer.set_state(state)
    if model_out is not None:
        model_out.append(trainer.model)
    return TrainResult(
        framework=framework, recipe=recipe.to_string(), recipe_name=recipe.name, seed=seed,
        data_seed=data_seed, preset=preset,
        test_f1=micro_f1(y["test"], binarize(p_test, thresholds)),
        test_f1_fixed=micro_f1(y["test"], binarize(p_test, 0.5)),
        valid_f1=f1_kept, seconds=time.perf_counter() - t0,
        peak_rss_mb=peak_rss_mb(),
        n_params=trainer.n_params, best_epoch=kept + 1, stop_reason=reason,
        epoch_loss=losses, epoch_valid_f1=valid_f1s, epoch_test_f1=test_f1s,
        thresholds=[float(t) for t in thresholds], test_probs=encode_probs(p_test),
        float_path=float_path(framework, threads_in_use(base)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.train",
                                     description="Train the CRNN once; print the test F1.")
    parser.add_argument("--framework", choices=ALL_FRAMEWORKS, required=True,
                        help="keras (on TensorFlow), torch, or the Keras model on another "
                             "backend: keras-jax, keras-torch")
    parser.add_argument("--recipe", default="keras_2017",
                        help="a preset name (keras_2017, pytorch) or a JSON recipe string")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    parser.add_argument("--data-seed", type=int, default=None,
                        help="seed of the minibatch order (default: --seed)")
    parser.add_argument("--preset", default="classroom", help="embedded dataset preset")
    parser.add_argument("--epochs", type=int, default=None,
                        help="override the recipe's epochs (the cap when --patience > 0)")
    parser.add_argument("--patience", type=int, default=None,
                        help="override the recipe's patience (0: a fixed budget of epochs)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads per framework")
    args = parser.parse_args(argv)

    if args.preset not in PRESETS:
        parser.error(f"--preset {args.preset!r}: expected one of {sorted(PRESETS)}")
    for flag, value in (("--seed", args.seed), ("--data-seed", args.data_seed)):
        if value is not None and not 0 <= value < 2**31:  # a seed every framework accepts
            parser.error(f"{flag} {value}: expected an integer in [0, 2**31)")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads {args.threads}: expected an integer >= 1")
    try:
        recipe = get_recipe(args.recipe)
        overrides = {k: v for k, v in (("epochs", args.epochs), ("patience", args.patience))
                     if v is not None}
        recipe = replace(recipe, **overrides)
    except ValueError as e:
        parser.error(str(e))
    if args.threads:
        set_threads(args.threads)
    r = train(recipe, args.preset, args.seed, args.framework, data_seed=args.data_seed)
    print(f"framework={r.framework} recipe={r.recipe_name} seed={r.seed} "
          f"data_seed={r.data_seed} preset={r.preset} epochs={len(r.epoch_loss)} "
          f"kept={r.best_epoch} stop={r.stop_reason} valid_f1={r.valid_f1:.4f} "
          f"test_f1_fixed={r.test_f1_fixed:.4f} peak_rss_mb={r.peak_rss_mb:.0f}")
    print(f"test_f1={r.test_f1:.4f} seconds={r.seconds:.1f}")
    return 0
