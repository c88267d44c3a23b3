"""Yardstick 2c: the R1-distill dumps, judge=math vs raw math-verify. The dumps state no license,
so no row is copied here: they are read from ``../shared`` (relative to the repository root; or
``$REASONKIT_SHARED``), and cases/r1_disagreements.json holds only row numbers and our hand
classification of each disagreement."""
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "cases" / "r1_disagreements.json"


def _shared() -> Path | None:
    for c in ([Path(os.environ["REASONKIT_SHARED"])] if os.environ.get("REASONKIT_SHARED") else []) + \
            [ROOT.parent / "shared"]:
        if all((c / "benchmarks/generations" / f).is_file()
               for f in ("deepseek-r1-distill-qwen-14b-math500.jsonl", "deepseek-r1-distill-qwen-1.5b-gsm8k.jsonl")):
            return c / "benchmarks"
    return None


@pytest.mark.slow
def test_no_disagreement_where_math_verify_is_right():
    shared = _shared()
    if shared is None:
        pytest.skip(f"R1-distill dumps not found under {ROOT.parent / 'shared'}/benchmarks/generations "
                    "(or $REASONKIT_SHARED): they are not copied into tests/ (no license)")
    spec = importlib.util.spec_from_file_location("judge_fidelity", ROOT / "benchmarks/judge_fidelity.py")
    fid = importlib.util.module_from_spec(spec)
    sys.modules["judge_fidelity"] = fid  # its pool pickles functions by module name
    spec.loader.exec_module(fid)
    res = fid.r1(shared, procs=2)
    known = json.loads(CASES.read_text())["rows"]
    seen = {f"{key}:{d['row']}": d for key, v in res.items() for d in v["disagreements"]}
    unread = {k: (d["gold"], d["extracted"], d["raw_extracted"]) for k, d in seen.items() if k not in known}
    assert not unread, f"disagreements not yet classified in {CASES.name}: {unread}"
    mv_right = {k: known[k]["why"] for k in seen if known[k]["class"] == "math-verify right"}
    assert not mv_right, mv_right
    # the list stays true: a row that no longer differs (or differs the other way) leaves it
    stale = [k for k, v in known.items() if k not in seen or seen[k]["judge"] != v["judge"]]
    assert not stale, f"rows in {CASES.name} that no longer disagree as recorded: {stale}"
