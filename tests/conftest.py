"""Shared fixtures: run the real ``reasonkit`` entrypoint in a subprocess, with outputs in a
temp dir and the locally built tiny models cached once per machine (outputs/models)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODELS = Path(os.environ.get("REASONKIT_TEST_MODELS", REPO / "outputs" / "models"))


def run_rk(outputs: Path, *overrides: str, check: bool = True, timeout: int = 900,
           env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "reasonkit", f"paths.outputs={outputs}", f"paths.models={MODELS}", *overrides]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="session")
def tiny_models() -> Path:
    """Build (or reuse) the embedded teacher and student once for the whole session."""
    from reasonkit.models import tiny

    return Path(tiny.ensure("toy-teacher", MODELS)).parent if tiny.ensure("toy-student", MODELS) else MODELS


@pytest.fixture
def rk(tmp_path, tiny_models):
    def _run(*overrides: str, **kw):
        return run_rk(tmp_path / "outputs", *overrides, **kw)

    _run.outputs = tmp_path / "outputs"  # type: ignore[attr-defined]
    return _run
