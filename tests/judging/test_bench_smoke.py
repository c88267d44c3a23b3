"""Smoke test of benchmarks/judge_bench.py on a tiny workload (the real run is by hand)."""
import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "judge_bench.py"


def test_bench_runs_and_records(tmp_path):
    spec = importlib.util.spec_from_file_location("judge_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert len(bench.pathological()) >= 50
    out = tmp_path / "bench.json"
    res = bench.main(["--problems", "8", "--samples", "4", "--pathological", "3",
                      "--pathological-timeout", "1.0", "--baseline-pathological", "0",
                      "--skip-no-fast", "--think-chars", "200", "600", "--workers", "2",
                      "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["baseline"]["samples"] == saved["reasonkit"]["samples"] == 32
    assert saved["reasonkit"]["verdicts_per_s"] > 0 and saved["speedup"] > 0
    assert saved["agreement"]["compared"] == 32
    p = saved["pathological"]
    assert p["inputs"] == 3 and p["all_within_timeout"], p
    assert "cpu" in saved["machine"]
    md = out.with_suffix(".md").read_text()
    assert "verdicts/s" in md and "Pathological" in md
    assert res["speedup"] == saved["speedup"]
