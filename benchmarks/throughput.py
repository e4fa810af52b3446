"""Training throughput against the machine's limit → docs/throughput.md.

    python benchmarks/throughput.py [--epochs 1]      # or: make throughput

Measured in one run, side by side, on the classroom data:

* FLOPs per clip, counted (PyTorch's ``FlopCounterMode``: convolutions and matrix
  products, forward and backward; both frameworks build the same network, so the count is
  theirs too; elementwise work is not counted, so achieved rates are slight underestimates);
* the machine's FP32 peak on the same cores: a 2048 × 2048 matrix product, one and two
  threads, with the kernel ISA pinned as for stored runs and unpinned;
* training throughput (clips per second, one epoch of the recipe after a warm-up) of each
  framework and recipe: **one process** with a thread per usable CPU (what a live run gets
  with ``DEFAULTS_LAB_THREADS`` set to the CPU count: by default a live run, a notebook or
  ``python -m utils.train``, trains on one thread,
  :data:`~utils.common.frameworks.LIVE_THREADS`) and the **grid** (one single-threaded
  process per CPU, all at once: the machine's total), each with the ISA pinned (as stored
  runs are) and unpinned (as live runs in the notebooks are);
* the evaluation pass of an epoch (validation + test predictions), now and as the trainer
  ran it before (the same outputs), and a whole epoch's clips/s, now over before;
* where a training step's time goes: the whole step against the convolution stack alone,
  and so how far any change outside that stack could take a step;
* a classroom notebook with its process limited to one CPU (Binder's case) and to all.

Each measurement runs in its own process: TensorFlow's thread pools are fixed when it
starts, and the ISA pins are read when the libraries load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.report import markdown_table  # noqa: E402
from utils.common.files import atomic_write_text  # noqa: E402
from utils.common.machine import PINNED_ENV, available_cpus, cpu_name  # noqa: E402
from utils.common.repo import REPO_ROOT, git_commit  # noqa: E402

REPORT = REPO_ROOT / "docs" / "throughput.md"

# One measurement, run as `python -c` in a fresh process; prints one JSON line.
_WORKER = r"""
import json, sys, time
import numpy as np
from utils.common.frameworks import set_threads
threads, framework, recipe_name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
epochs = int(sys.argv[4])
set_threads(threads)
from utils.networks.recipe import get_recipe
from utils.task.dataset import load_dataset
from utils.task.features import scale_features
from utils.training.trainer import epoch_batches, make_trainer
recipe = get_recipe(recipe_name)
ds = load_dataset("classroom", progress=False)
x = {s: scale_features(ds[s].x, ds.stats, recipe.input_scaling)
     for s in ("train", "valid", "test")}
trainer = make_trainer(framework, recipe, 0, x["train"], ds["train"].y)
rng = np.random.default_rng(0)
warm = epoch_batches(ds["train"].y, recipe, rng)[:8]
trainer.fit_epoch(warm, 0.01)
trainer.predict(x["valid"][:64])
clips, t0 = 0, time.perf_counter()
for _ in range(epochs):
    batches = epoch_batches(ds["train"].y, recipe, rng)
    trainer.fit_epoch(batches, 0.01)
    clips += sum(len(b) for b in batches)
train_s = time.perf_counter() - t0
def evaluate(**old):
    t0 = time.perf_counter()
    trainer.predict(x["valid"], **old); trainer.predict(x["test"], **old)
    return time.perf_counter() - t0
# The evaluation this trainer ran before: 250-clip batches, and Keras' eager call.
before = {"batch": 250} | ({"compiled": False} if framework == "keras" else {})
# One untimed call of each first: Keras traces its compiled pass for each new batch shape.
evaluate(**before), evaluate()
eval_before_s, eval_s = evaluate(**before), evaluate()
print(json.dumps({"clips": clips, "train_s": train_s, "eval_s": eval_s,
                  "eval_before_s": eval_before_s,
                  "eval_clips": len(x["valid"]) + len(x["test"])}))
"""

# Where a training step's time goes: the whole step (forward, backward, optimizer) against
# the convolution stack alone (its three conv blocks: conv, BatchNorm where the recipe has
# it, max-pooling, ReLU; forward and backward), on one batch size: one thread (a grid
# worker; a live run by default) and every usable CPU (one process given them all).
_SHARES = r"""
import json, sys, time
import numpy as np
from utils.common.frameworks import set_threads
framework, recipe_name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
set_threads(int(sys.argv[4]))
from utils.networks.recipe import get_recipe
from utils.task.dataset import load_dataset
from utils.task.features import scale_features
from utils.training.trainer import epoch_batches, make_trainer
recipe = get_recipe(recipe_name)
ds = load_dataset("classroom", progress=False)
x = scale_features(ds["train"].x, ds.stats, recipe.input_scaling)
y = ds["train"].y
trainer = make_trainer(framework, recipe, 0, x, y)
batches = epoch_batches(y, recipe, np.random.default_rng(0))[:n]
if framework == "torch":
    import torch
    convs = trainer.model.convs
    xs = [torch.from_numpy(x[b][:, None]).contiguous(memory_format=torch.channels_last)
          for b in batches]
    def conv_step(i):
        convs(xs[i]).mean().backward()
else:
    import keras
    import tensorflow as tf
    sub = keras.Model(trainer.model.input, trainer.model.get_layer("relu2").output)
    @tf.function
    def conv_tf(xb):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(sub(xb, training=True))
        return tape.gradient(loss, sub.trainable_variables)
    xs = [x[b][..., None] for b in batches]
    def conv_step(i):
        conv_tf(xs[i])
def timed(fn):
    fn()
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) / len(batches)
step_s = timed(lambda: trainer.fit_epoch(batches, 0.01))
conv_s = timed(lambda: [conv_step(i) for i in range(len(batches))])
print(json.dumps({"step_ms": 1e3 * step_s, "conv_ms": 1e3 * conv_s}))
"""

_PEAK = r"""
import json, sys, time
import torch
torch.set_num_threads(int(sys.argv[1]))
n = 2048
a, b = torch.randn(n, n), torch.randn(n, n)
for _ in range(3):
    a @ b
t0, k = time.perf_counter(), 20
for _ in range(k):
    a @ b
dt = (time.perf_counter() - t0) / k
print(json.dumps({"gflops": 2 * n**3 / dt / 1e9, "isa": torch.backends.cpu.get_cpu_capability()}))
"""

_FLOPS = r"""
import json
import torch
from torch.utils.flop_counter import FlopCounterMode
from utils.networks.model_torch import bce_loss, build_model
from utils.networks.recipe import KERAS_2017
m = build_model(KERAS_2017, 0)
x = torch.randn(16, 1, 200, 40).contiguous(memory_format=torch.channels_last)
y = (torch.rand(16, 17) < 0.1).float()
with FlopCounterMode(display=False) as fc:
    with torch.no_grad():
        m(x)
fwd = fc.get_total_flops() / 16
with FlopCounterMode(display=False) as fc:
    bce_loss(m(x), y, "keras").backward()
train = fc.get_total_flops() / 16
with FlopCounterMode(display=False) as fc:
    m.convs(x).mean().backward()
print(json.dumps({"forward": fwd, "train": train, "conv_train": fc.get_total_flops() / 16}))
"""

# A classroom notebook with this process (and so its kernel) limited to the first N of the
# CPUs it may use, as Binder limits a session to about one CPU of a large host: the thread
# pools must follow the limit, not os.cpu_count().
_NOTEBOOK = r"""
import json, os, sys, tempfile, time
from pathlib import Path
n = int(sys.argv[2])
os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:n])
from utils.common.frameworks import default_threads
from utils.common.machine import available_cpus
from utils.lessons.notebooks import execute
t0 = time.perf_counter()
execute(Path(sys.argv[1]), Path(tempfile.mkdtemp()), smoke=False)
print(json.dumps({"seconds": time.perf_counter() - t0, "cpus": available_cpus(),
                  "threads": default_threads(), "os.cpu_count()": os.cpu_count()}))
"""
NOTEBOOK = "03_pytorch_port.ipynb"


def _env(pinned: bool, threads: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PINNED_ENV}
    env.update(PINNED_ENV if pinned else {})
    env["OMP_NUM_THREADS"] = str(threads)
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


def _start(code: str, args: list[str], pinned: bool, threads: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO_ROOT,
                            env=_env(pinned, threads), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"measurement failed ({proc.args[3:]}): {err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def measure(epochs: int) -> dict:
    cpus = available_cpus()
    flops = _result(_start(_FLOPS, [], True, 1))
    peak = []
    for pinned in (True, False):
        for threads in sorted({1, cpus}):
            r = _result(_start(_PEAK, [str(threads)], pinned, threads))
            peak.append({"isa": r["isa"], "pinned": pinned, "threads": threads,
                         "gflops": r["gflops"]})
    runs = []
    for framework in ("torch", "keras"):
        for recipe in ("keras_2017", "pytorch"):
            for pinned in (True, False):
                # One process on every CPU (a live run's default is one thread: the
                # grid's rows give that rate, one process per CPU beside it).
                one = _result(_start(_WORKER, [str(cpus), framework, recipe, str(epochs)],
                                     pinned, cpus))
                # The grid: one single-threaded process per CPU, all at once.
                procs = [_start(_WORKER, ["1", framework, recipe, str(epochs)], pinned, 1)
                         for _ in range(cpus)]
                grid = [_result(p) for p in procs]
                for mode, rs, threads in (("one process", [one], cpus), ("grid", grid, 1)):
                    clips_s = sum(r["clips"] / r["train_s"] for r in rs)
                    peak_here = next(p["gflops"] for p in peak if p["pinned"] == pinned
                                     and p["threads"] == (cpus if mode == "one process" else 1))
                    peak_here *= 1 if mode == "one process" else cpus
                    runs.append({
                        "framework": framework, "recipe": recipe, "mode": mode,
                        "ISA pinned": pinned, "threads/process": threads,
                        "processes": len(rs), "clips/s": clips_s,
                        "GFLOP/s": clips_s * flops["train"] / 1e9,
                        "of peak": clips_s * flops["train"] / 1e9 / peak_here,
                        "eval clips/s": sum(r["eval_clips"] / r["eval_s"] for r in rs),
                        "eval clips/s before": sum(r["eval_clips"] / r["eval_before_s"]
                                                   for r in rs),
                        # A whole epoch as a run pays it: training, then evaluation.
                        "epoch ×": (sum(r["clips"] / (r["train_s"] + r["eval_s"]) for r in rs)
                                    / sum(r["clips"] / (r["train_s"] + r["eval_before_s"])
                                          for r in rs)),
                    })
    shares = []
    for threads, target in ((1, 1.5), (cpus, 2.0)):  # the grid's and one process's goals
        peak_t = next(p["gflops"] for p in peak if p["pinned"] and p["threads"] == threads)
        for framework in ("torch", "keras"):
            for recipe in ("keras_2017", "pytorch"):
                r = _result(_start(_SHARES, [framework, recipe, "60", str(threads)], True,
                                   threads))
                step, conv = r["step_ms"], r["conv_ms"]
                rest_allowed = step / target - conv  # what the faster step leaves the rest
                shares.append({
                    "framework": framework, "recipe": recipe, "threads": threads,
                    "step ms": step, "conv stack ms": conv, "conv share": conv / step,
                    "conv stack of peak": (16 * flops["conv_train"] / (conv / 1e3) / 1e9
                                           / peak_t),
                    "ceiling ×": step / conv, "goal ×": target,
                    "goal needs the rest cut by": 1 - rest_allowed / (step - conv),
                })
    limited = []
    for n in sorted({1, cpus}):
        env = _env(False, n)
        env.pop("OMP_NUM_THREADS")  # the notebook must find its thread count by itself
        proc = subprocess.Popen([sys.executable, "-c", _NOTEBOOK,
                                 str(REPO_ROOT / "notebooks" / NOTEBOOK), str(n)],
                                cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        r = _result(proc)
        limited.append({"notebook": NOTEBOOK, "CPUs allowed": n, **r})
    base = next(r["seconds"] for r in limited if r["CPUs allowed"] == cpus)
    for r in limited:
        r[f"time over {cpus} CPUs"] = r["seconds"] / base
    return {"cpus": cpus, "flops": flops, "peak": peak, "runs": runs, "shares": shares,
            "limited": limited}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1, help="epochs timed per measurement")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    r = measure(args.epochs)
    f = r["flops"]
    text = f"""# Training throughput and the machine's limit

Generated by `make throughput` (`python benchmarks/throughput.py --epochs {args.epochs}`); do
not edit by hand. Commit {git_commit()}; {platform.machine()} {cpu_name()}, {r['cpus']}
usable CPUs; wall time {time.perf_counter() - t0:.0f} s.

Counted work of the classroom CRNN (convolutions and matrix products, PyTorch's
`FlopCounterMode`): **{f['forward'] / 1e6:.1f} MFLOP per clip forward, {f['train'] / 1e6:.1f}
MFLOP per clip for a training step** (forward + backward).

## Peak: a 2048 × 2048 FP32 matrix product

{markdown_table(r['peak'])}
## Training throughput (one epoch of 2 000 clips after a warm-up)

`one process`: a thread per usable CPU in one process (a live run trains on one thread
unless `DEFAULTS_LAB_THREADS` asks for more); `grid`: one single-threaded process per CPU,
all at once. `GFLOP/s` = clips/s × the counted training FLOPs per clip; `of peak` divides
it by the matrix-product peak of the same threads and ISA (for the grid: the single-thread peak ×
the processes). `eval clips/s`: the validation and test predictions of one epoch, now and
`before` (250-clip batches and, in Keras, the eager call: the same outputs, bit for bit).
`epoch ×`: clips/s of a whole epoch (training and evaluation, as every run pays it), now
over before, in the same processes.

{markdown_table(r['runs'], percent=['of peak'])}
## Where a training step goes (ISA pinned, batch 16)

The whole step (forward, backward, optimizer) against the convolution stack alone (three
conv blocks with their pooling, ReLU and BatchNorm, forward and backward), with one thread
(as a grid worker and, by default, a live run train) and every usable CPU (one process given
them all: `DEFAULTS_LAB_THREADS`). `conv stack of peak`:
the stack's counted FLOPs ({f['conv_train'] / 1e6:.1f} MFLOP per clip) per second over the
matrix-product peak of the same threads. `ceiling ×`: how much faster a step would be if
everything outside the stack took no time. `goal ×`: the speed-up asked of the grid (1.5×)
and of one process on every CPU (2×); `goal needs the rest cut by`: the share of the time
outside the stack that the goal would have to remove (100 % or more: out of reach without a faster
convolution stack).

{markdown_table(r['shares'], percent=['conv share', 'conv stack of peak',
                                      'goal needs the rest cut by'])}
## A classroom notebook on one CPU (as on Binder)

`{NOTEBOOK}` in classroom mode, its process limited (CPU affinity) to one CPU and to every
usable CPU: `cpus` and `threads` are what the lab's thread sizing
(`utils.common.frameworks.default_threads`) found inside that limit, `os.cpu_count()` what a
sizing from the host would have used.

{markdown_table(r['limited'])}"""
    atomic_write_text(REPORT, text)
    print(text)
    print(f"wrote {REPORT.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
