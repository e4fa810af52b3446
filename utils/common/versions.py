"""The pinned versions of the lab's packages and the versions installed.

Versions are read with :mod:`importlib.metadata`, so nothing here imports TensorFlow or
PyTorch (each costs seconds and memory).

Examples
--------
>>> read_pins()["torch"]
'2.13.0'
>>> same_release("2.13.0", "2.13.0+cpu")
True
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from utils.common.repo import REPO_ROOT

REQUIREMENTS = REPO_ROOT / "requirements.txt"
# Packages whose versions change the lab's numbers or plots: checked in every first cell.
KEY_PACKAGES = ("torch", "tensorflow-cpu", "keras", "jax", "librosa", "numpy", "scipy",
                "scikit-learn", "matplotlib", "pandas", "ipywidgets")


def read_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """``name==version`` lines of a requirements file as {normalised name: version}.

    Raises ValueError naming the file and line for any requirement that is not pinned.
    """
    pins: dict[str, str] = {}
    for lineno, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        if "==" not in line:
            raise ValueError(f"{path} line {lineno}: expected an exact pin name==version, "
                             f"found {raw!r}")
        name, version = (s.strip() for s in line.split("==", 1))
        pins[normalise(name)] = version
    return pins


def normalise(name: str) -> str:
    """PEP 503 name normalisation: ``PyYAML`` and ``sed_eval`` → ``pyyaml``, ``sed-eval``."""
    return name.lower().replace("_", "-").replace(".", "-")


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def same_release(pinned: str, installed: str | None) -> bool:
    """``2.13.0`` matches ``2.13.0+cpu``: a local build label is not a different release."""
    return installed is not None and installed.split("+")[0] == pinned.split("+")[0]


def check_versions(packages: tuple[str, ...] = KEY_PACKAGES) -> list[tuple[str, str, str | None]]:
    """(package, pinned, installed) for each key package."""
    pins = read_pins()
    rows = []
    for name in packages:
        installed = installed_version(name)
        if name == "tensorflow-cpu" and installed is None:  # GPU machines have plain TF
            installed = installed_version("tensorflow")
        rows.append((name, pins[normalise(name)], installed))
    return rows
