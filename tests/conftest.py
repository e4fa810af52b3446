"""Shared fixtures: one data root for the whole test session, with the smoke dataset built in
it and, for the tests that need it, the classroom dataset."""

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


@pytest.fixture(scope="session")
def classroom_data_root(smoke_data_root):
    """The session's data root with the ``classroom`` cache built there too.

    A classroom build takes a minute: the tests that need the classroom data share this one
    instead of each building their own. The root starts empty, so whatever it holds was built
    in this session by the code under test, never a cache left from before.
    """
    from utils.task.dataset import DATA_ENV, build, check_cache

    with pytest.MonkeyPatch.context() as mp:  # this root, whatever a test has set meanwhile
        mp.setenv(DATA_ENV, str(smoke_data_root))
        if check_cache("classroom") is not None:  # a test before may have loaded it already
            build("classroom", progress=False)
    return smoke_data_root
