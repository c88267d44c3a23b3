import json
import shutil
from pathlib import Path

import pytest

from reasonkit.judging import JudgeConfig, to_config
from reasonkit.judging.mathcheck import MathChecker

CASES = Path(__file__).parent / "cases"


def load_cases(name: str) -> list[dict]:
    return json.loads((CASES / name).read_text())


@pytest.fixture(scope="session", autouse=True)
def checker():
    """One verifier pool for the session, started first: the forkserver it starts preloads
    math-verify, so every later pool's workers start in milliseconds instead of re-importing
    sympy."""
    c = MathChecker(to_config({"workers": 2, "timeout_s": 3.0, "fast_path": True}))
    c.pool.run([("1", "2")])
    yield c
    c.close()


def make_samples(problems: dict[str, tuple[str | None, list[str]]]) -> list[dict]:
    """{problem_id: (gold, [responses])} → Sample-shaped dicts, grouped by problem."""
    out = []
    for pid, (gold, responses) in problems.items():
        for k, r in enumerate(responses):
            out.append({"id": f"{pid}_{k}", "problem_id": pid, "k": k, "prompt": f"q {pid}",
                        "answer": gold, "response": r, "model": "m", "sampling": {}, "seed": k})
    return out


@pytest.fixture
def bwrap():
    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap is not installed: run scripts/install_sandbox.sh (judge=code needs it)")
    return shutil.which("bwrap")


def cfg(**kw) -> JudgeConfig:
    return to_config(kw)
