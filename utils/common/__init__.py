"""What every layer shares.

- :mod:`~utils.common.repo` — the repository root and its git commit
- :mod:`~utils.common.files` — atomic writes
- :mod:`~utils.common.errors` — :class:`LabError`, the root of the lab's exceptions
- :mod:`~utils.common.machine` — usable CPUs (affinity, cgroup quota), the floating-point
  path of a run and the kernel-ISA pins that make PyTorch rows portable
- :mod:`~utils.common.frameworks` — import TensorFlow quietly, size both thread pools
- :mod:`~utils.common.versions` — pinned and installed package versions
- :mod:`~utils.common.timing` — median times of functions timed in turns
"""
