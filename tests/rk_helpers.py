"""Shared test helpers: run the real ``reasonkit`` entrypoint in a subprocess, with outputs in a
temp dir and the locally built tiny models cached once per machine (outputs/models)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


