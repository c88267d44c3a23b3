"""Shared fixtures (helpers live in rk_helpers.py: several conftest.py files exist, so tests import
helpers from a uniquely named module)."""
from __future__ import annotations

from pathlib import Path

import pytest

from rk_helpers import MODELS, run_rk


@pytest.fixture(scope="session")
def tiny_models() -> Path:
    """Build (or reuse) the embedded teacher and student once for the whole session."""
    from reasonkit.models import tiny

    tiny.ensure("toy-teacher", MODELS)
    tiny.ensure("toy-student", MODELS)
    return MODELS


@pytest.fixture
def rk(tmp_path, tiny_models):
    def _run(*overrides: str, **kw):
        return run_rk(tmp_path / "outputs", *overrides, **kw)

    _run.outputs = tmp_path / "outputs"  # type: ignore[attr-defined]
    return _run


@pytest.fixture(autouse=True)
def _fresh_hydra():
    """Every test starts with Hydra uninitialised: a test that composes in-process (or runs the
    CLI's main) must not make a later test's ``initialize_config_dir`` fail, whatever the order."""
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    yield
