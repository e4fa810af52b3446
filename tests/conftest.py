"""Shared fixtures: one smoke-sized dataset cache for the whole test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def smoke_data_root(tmp_path_factory):
    """A data root holding a built ``smoke`` cache; also exported for notebook kernels."""
    from utils.task.dataset import DATA_ENV, build

    root = tmp_path_factory.mktemp("data")
    old = os.environ.get(DATA_ENV)
    os.environ[DATA_ENV] = str(root)
    build("smoke", progress=False)
    yield root
    if old is None:
        os.environ.pop(DATA_ENV, None)
    else:
        os.environ[DATA_ENV] = old
