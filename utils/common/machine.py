"""The machine a run happens on: how many CPUs it may use, and which floating-point path
its kernels take.

Introduced in ``09_float_drift.ipynb``; the grid runner and ``verify`` rely on it.

Two facts decide whether a stored row can be re-derived bit for bit elsewhere:

* **The kernel ISA.** PyTorch's ATen kernels, oneDNN and MKL pick AVX2 or AVX-512 code at
  run time from the CPU they find, and the two sum in different orders. All three let the
  ISA be capped by environment variables read at load time, so stored runs cap it at AVX2
  (:data:`PINNED_ENV`), which practically every x86-64 CPU since 2015 has: on one machine a
  pinned PyTorch row then re-derives digit for digit whatever ISA the caller asks for.
* **What cannot be pinned.** TensorFlow's Eigen kernels choose their blocking from the
  CPU's cache sizes, and oneDNN and MKL may block differently on another CPU model even at
  one ISA; no setting fixes that. :func:`float_path` records the CPU model, its caches, the
  ISAs, the libraries and the threads in each row; a rerun on the same path must be
  identical, and ``verify`` falls back to a statistical check where the paths differ.

The CPU count follows what the process may really use (its affinity and its cgroup quota,
as on Binder, where ``os.cpu_count()`` reports the whole host), not ``os.cpu_count()``.

Examples
--------
>>> available_cpus() >= 1
True
>>> key = path_key({"framework": "torch", "torch": "2.13.0", "torch_isa": "AVX2",
...                 "onednn_max_isa": "AVX2", "mkl_instructions": "AVX2", "threads": 1,
...                 "cpu": "AMD EPYC", "cpu_family_model": "26/2", "caches": "a/b/c"})
>>> key
'torch 2.13.0 | AMD EPYC (26/2) | caches a/b/c | ATen AVX2 | oneDNN AVX2 | MKL AVX2 | 1 thread(s)'
"""

from __future__ import annotations

import os
import platform
import sys
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from threadpoolctl import threadpool_info

# Read by ATen, oneDNN (both spellings) and MKL when the libraries load: they must be in the
# environment before ``import torch`` / ``import tensorflow``, so workers inherit them.
PINNED_ENV = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "DNNL_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
}
# Frameworks whose kernel path the pins fix completely (on one thread).
PINNABLE = frozenset({"torch"})
# XLA (Keras on JAX) generates its CPU code at run time; this flag caps the ISA it targets.
XLA_PIN_FLAG = "--xla_cpu_max_isa=AVX2"


def is_pinned() -> bool:
    """Whether this process's environment carries :data:`PINNED_ENV`."""
    return all(os.environ.get(k) == v for k, v in PINNED_ENV.items())


def _cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs granted by the cgroup CPU quota (v2 ``cpu.max`` or v1 ``cfs_quota_us``), or None."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def available_cpus() -> int:
    """CPUs this process may really use: its affinity mask, capped by the cgroup quota.

    A container given one CPU of a 64-core host reports 64 in ``os.cpu_count()``; sizing
    thread pools from that oversubscribes the one CPU many times over.
    """
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        n = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        n = min(n, max(1, int(quota)))  # a quota of 1.5 CPUs runs two threads badly
    return max(1, n)


@contextmanager
def pinned_environment():
    """Set :data:`PINNED_ENV` for the duration (child processes started inside inherit it);
    the caller's own values are restored afterwards."""
    old = {k: os.environ.get(k) for k in PINNED_ENV}
    os.environ.update(PINNED_ENV)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def pin_before_import() -> None:
    """Pin the kernel ISA in this process; refuse if PyTorch already loaded unpinned.

    Raises
    ------
    RuntimeError
        If ``torch`` was imported before with another CPU capability: its kernels are
        chosen at load time and the run would silently take another path.
    """
    os.environ.update(PINNED_ENV)
    torch = sys.modules.get("torch")
    if torch is not None:
        isa = torch.backends.cpu.get_cpu_capability()
        if isa != "AVX2" and _cpu_flags() >= {"avx2", "fma"}:
            raise RuntimeError(f"PyTorch was imported before the kernel ISA was pinned (it "
                               f"runs {isa}, stored runs use AVX2): start a new process, or "
                               f"set ATEN_CPU_CAPABILITY=avx2 before importing torch")


def _cpu_info() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            k, _, v = line.partition(":")
            info.setdefault(k.strip(), v.strip())
            if not line.strip():  # the first processor's block is enough
                break
    except OSError:
        pass
    return info


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or the platform's best guess."""
    return _cpu_info().get("model name") or platform.processor() or platform.machine()


def _cpu_flags() -> set[str]:
    return set(_cpu_info().get("flags", "").split())


def _cache_sizes() -> str:
    """L1d/L2/L3 sizes as the kernels see them (oneDNN, MKL and Eigen block by them), from
    the kernel's description of CPU 0; ``?`` where it gives none."""
    sizes = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind in ("Data", "Unified"):
            sizes[level] = size
    return "/".join(sizes.get(level, "?") for level in ("1", "2", "3"))


def float_path(framework: str, threads: int) -> dict[str, object]:
    """What decides the floating-point path of a run of ``framework`` in this process.

    Call after the framework is imported (its dispatch is read from the live library).
    """

    info = _cpu_info()
    flags = _cpu_flags()
    fp: dict[str, object] = {
        "framework": framework,
        "cpu": cpu_name(),
        "cpu_family_model": f"{info.get('cpu family', '?')}/{info.get('model', '?')}",
        "isa_flags": " ".join(sorted(flags & {"avx", "avx2", "fma", "avx512f", "avx512_bf16",
                                              "amx_tile", "asimd", "sve"})),
        "caches": _cache_sizes(),
        "threads": threads,
        "onednn_max_isa": os.environ.get("ONEDNN_MAX_CPU_ISA")
        or os.environ.get("DNNL_MAX_CPU_ISA") or "native",
        "mkl_instructions": os.environ.get("MKL_ENABLE_INSTRUCTIONS", "native"),
    }
    try:

        fp["blas"] = ", ".join(sorted({f"{p.get('internal_api')} {p.get('architecture', '')}"
                                       .strip() for p in threadpool_info()
                                       if p.get("user_api") == "blas"}))
    except ImportError:
        fp["blas"] = "?"
    if framework == "torch":
        import torch

        fp["torch"] = torch.__version__.split("+")[0]
        fp["torch_isa"] = torch.backends.cpu.get_cpu_capability()
        fp["device"] = "cuda" if torch.cuda.is_available() else "cpu"
    elif framework in ("keras-jax", "keras-torch"):  # Keras on another backend (notebook 10)
        fp["keras"] = metadata.version("keras")
        fp["keras_backend"] = framework.split("-", 1)[1]
        if fp["keras_backend"] == "jax":
            import jax

            fp["jax"] = metadata.version("jax")
            fp["xla_flags"] = os.environ.get("XLA_FLAGS", "")
            fp["device"] = jax.default_backend()  # "cpu" with the lab's CPU build
            # XLA sizes its CPU thread pool from the CPUs it may run on, whatever the lab's
            # thread count, and its results follow that pool: a part of the path.
            fp["xla_cpus"] = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                              else os.cpu_count())
        else:
            import torch

            fp["torch"] = torch.__version__.split("+")[0]
            fp["torch_isa"] = torch.backends.cpu.get_cpu_capability()
            fp["device"] = "cuda" if torch.cuda.is_available() else "cpu"
    else:
        fp["tensorflow"] = metadata.version("tensorflow-cpu") if _has("tensorflow-cpu") \
            else metadata.version("tensorflow")
        fp["keras_backend"] = os.environ.get("KERAS_BACKEND", "tensorflow")
        fp["tf_onednn_opts"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default")
        fp["device"] = "cpu"  # the Keras trainer runs on the CPU build of TensorFlow
    return fp


def _has(dist: str) -> bool:
    try:
        metadata.version(dist)
        return True
    except metadata.PackageNotFoundError:
        return False


def path_key(fp: dict) -> str:
    """The part of a :func:`float_path` that must match for a rerun to be bit-identical.

    Both frameworks: the CPU model and its caches (kernels block by them), the threads and
    the library versions; PyTorch (and Keras on PyTorch) also the three ISAs, TensorFlow its
    oneDNN setting, Keras on JAX the ISA cap given to XLA and the CPUs its thread pool was
    sized from. An empty dict (a row stored
    before paths were recorded) gives ``"unrecorded"``.
    """
    if not fp:
        return "unrecorded"
    threads = f"{fp['threads']} thread(s)"
    cpu = f"{fp['cpu']} ({fp['cpu_family_model']}) | caches {fp['caches']}"
    if fp["framework"] == "torch":
        # A GPU row is never a CPU re-derivation: the device is part of the key.
        device = " | cuda" if fp.get("device") == "cuda" else ""
        return (f"torch {fp['torch']} | {cpu} | ATen {fp['torch_isa']} | oneDNN "
                f"{fp['onednn_max_isa']} | MKL {fp['mkl_instructions']} | {threads}{device}")
    if fp["framework"] == "keras-jax":
        xla = " ".join(f for f in str(fp["xla_flags"]).split() if "isa" in f) or "native ISA"
        device = "" if fp.get("device", "cpu") == "cpu" else f" | {fp['device']}"
        pool = fp.get("xla_cpus", "unrecorded")  # rows stored before it was recorded
        return (f"keras {fp['keras']} on jax {fp['jax']} | {cpu} | XLA {xla}, pool of {pool} "
                f"CPU(s) | {threads}{device}")
    if fp["framework"] == "keras-torch":
        device = " | cuda" if fp.get("device") == "cuda" else ""
        return (f"keras {fp['keras']} on torch {fp['torch']} | {cpu} | ATen {fp['torch_isa']} | "
                f"oneDNN {fp['onednn_max_isa']} | MKL {fp['mkl_instructions']} | {threads}"
                f"{device}")
    return (f"tensorflow {fp['tensorflow']} | {cpu} | oneDNN {fp['onednn_max_isa']} opts "
            f"{fp['tf_onednn_opts']} | {threads}")


def paths_differ(a: dict, b: dict) -> bool:
    """Whether two recorded :func:`float_path` s differ in their :func:`path_key`, a cache
    size that one run's kernel did not give (``?``) being read as the other's: unknown is
    not evidence of another path. Two unrecorded paths (``{}``) do not differ; one recorded
    and one not do.

    Examples
    --------
    >>> fp = {"framework": "keras", "cpu": "X", "cpu_family_model": "1/1", "threads": 1,
    ...       "caches": "48K/1024K/32768K", "tensorflow": "2.21.0", "onednn_max_isa": "AVX2",
    ...       "tf_onednn_opts": "default"}
    >>> paths_differ(fp, {**fp, "caches": "?/?/?"}), paths_differ(fp, {**fp, "caches": "32K/?/?"})
    (False, True)
    >>> paths_differ(fp, {**fp, "cpu_family_model": "2/2"})
    True
    >>> paths_differ({}, {}), paths_differ(fp, {})
    (False, True)
    """
    if a and b:
        ca, cb = str(a["caches"]).split("/"), str(b["caches"]).split("/")
        if len(ca) == len(cb):
            a = {**a, "caches": "/".join(y if x == "?" else x for x, y in zip(ca, cb))}
            b = {**b, "caches": "/".join(x if y == "?" else y for x, y in zip(ca, cb))}
    return path_key(a) != path_key(b)
