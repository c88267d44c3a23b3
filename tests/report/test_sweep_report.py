"""The tiny LLH-selection sweep end to end: ``reasonkit -m selection=...`` → one table, plots,
partial tables, reuse, a W&B report run, and the dynamics stage on a member's checkpoints."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rk_helpers import MODELS, REPO, run_rk

pytestmark = pytest.mark.slow

STRATEGIES = ("llh_highest_mean", "llh_lowest_mean", "llh_random")
PLOTS = ("accuracy_vs_step", "train_loss", "score_distributions")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, tiny_models):
    out = tmp_path_factory.mktemp("sweep") / "outputs"
    cmd = [sys.executable, "-m", "reasonkit", "-m", f"paths.outputs={out}", f"paths.models={MODELS}",
           f"selection={','.join(STRATEGIES)}", "debug=tiny"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=REPO)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-6000:]
    sweep_dir = next((out / "multirun").glob("*/*"))
    return out, sweep_dir, p


def _report_dir(out: Path, sweep_dir: Path) -> Path:
    return out / "reports" / "demo" / "-".join(sweep_dir.parts[-2:])


def _selection_of_eval(eval_dir: Path) -> str:
    """Walk eval → train → format → select through the manifests (independently of the report)."""
    d = eval_dir
    for stage in ("train", "format", "select"):
        d = Path(json.loads((d / "manifest.json").read_text())["inputs"][stage])
    return yaml.safe_load((d / "config.yaml").read_text())["selection"]["name"]


def test_sweep_builds_one_table_with_a_row_per_strategy(sweep):
    out, sweep_dir, p = sweep
    rep = _report_dir(out, sweep_dir)
    t = json.loads((rep / "table.json").read_text())
    members = [r for r in t["rows"] if r["kind"] == "member"]
    assert [r["label"] for r in members] == [f"selection={s}" for s in STRATEGIES]
    assert [r["label"].split(" ")[0] for r in t["rows"] if r["kind"] == "baseline"] == ["teacher", "student"]
    assert all(not r["missing"] for r in t["rows"])
    cols = [c["name"] for c in t["columns"]]
    assert cols[0] == "toy/avg@2" and "toy/pass@2" in cols and "toy/maj@2" in cols
    # each row holds its own strategy's eval numbers (mapped without the report's code)
    truth = {}
    for ev in (out / "artifacts" / "eval").glob("*/metrics.json"):
        cells = json.loads(ev.read_text())["cells"]
        truth[_selection_of_eval(ev.parent)] = next(c for c in cells if (c["row"], c["benchmark"]) == ("trained", "toy"))
    for s, r in zip(STRATEGIES, members):
        assert r["values"]["toy/avg@2"]["mean"] == truth[s]["avg@2"]
        assert r["values"]["toy/avg@2"]["se"] == truth[s]["avg@2_se"]
    # the baseline rows hold the teacher's and base student's cells (shared by every member's eval)
    base = {c["row"]: c for ev in (out / "artifacts" / "eval").glob("*/metrics.json")
            for c in json.loads(ev.read_text())["cells"] if c["benchmark"] == "toy"}
    for r in (r for r in t["rows"] if r["kind"] == "baseline"):
        cell = base[r["label"].split(" ")[0]]
        assert r["values"]["toy/avg@2"]["mean"] == cell["avg@2"] and r["values"]["toy/avg@2"]["se"] == cell["avg@2_se"]
    best = max(truth[s]["avg@2"] for s in STRATEGIES)
    assert [r["values"]["toy/avg@2"]["best"] for r in members] == [truth[s]["avg@2"] == best for s in STRATEGIES]
    for name in ("table.md", "table.tex", "table.csv") + tuple(f"{s}.{e}" for s in PLOTS for e in ("png", "pdf")):
        assert (rep / name).stat().st_size > 0, name
    assert r"\toprule" in (rep / "table.tex").read_text()
    assert f"selection={STRATEGIES[0]}" in p.stdout and "demo: sweep" in p.stdout
    # each member's own report went to the sweep's folder; none wrote the shared demo.md
    assert len(list((rep / "runs").glob("*.md"))) == 3 and not (out / "reports" / "demo.md").exists()


def test_rerun_reuses_and_partial_sweep_says_what_is_missing(sweep):
    out, sweep_dir, _ = sweep
    p = run_rk(out, "stage=report", f"report.sweep={sweep_dir}")
    assert "(reused)" in p.stdout
    n_reports = len(list((out / "artifacts" / "report").iterdir()))
    # take one member's eval away: the table is rebuilt with that row marked missing
    job = sweep_dir / "1"
    evals = sorted((out / "artifacts" / "eval").glob("*/_SUCCESS"))
    gone = next(e for e in evals if _selection_of_eval(e.parent) == STRATEGIES[1])
    gone.rename(gone.with_name("_SUCCESS.off"))
    try:
        p = run_rk(out, "stage=report", f"report.sweep={sweep_dir}", "tracking=wandb",
                   env={"WANDB_MODE": "offline", "WANDB_SILENT": "true"})
    finally:
        gone.with_name("_SUCCESS.off").rename(gone)
    assert len(list((out / "artifacts" / "report").iterdir())) > n_reports
    t = json.loads((_report_dir(out, sweep_dir) / "table.json").read_text())
    row = next(r for r in t["rows"] if r["label"] == f"selection={STRATEGIES[1]}")
    assert row["values"] == {} and any(m.startswith("eval: ") and "not complete" in m for m in row["missing"])
    assert "Missing (partial table)" in (_report_dir(out, sweep_dir) / "table.md").read_text()
    assert f"selection={STRATEGIES[1]}: eval:" in p.stdout
    assert (job / ".hydra").exists()
    from reasonkit.tracking.reader import find_runs

    runs = [r for r in find_runs(out) if r.job_type == "report"]
    assert len(runs) == 1 and runs[0].exit_code == 0
    rows = runs[0].table("sweep_table")
    assert [r["run"] for r in rows if r["kind"] == "member"] == [f"selection={s}" for s in STRATEGIES]
    assert any(k.startswith("plots/") for h in runs[0].history for k in h)


def test_dynamics_scores_every_checkpoint_incrementally(sweep):
    out, sweep_dir, _ = sweep
    args = ("stage=dynamics", f"selection={STRATEGIES[0]}", "debug=tiny")
    run_rk(out, *args)
    art = next((out / "artifacts" / "dynamics").glob("*/_SUCCESS")).parent
    m = json.loads((art / "manifest.json").read_text())["metrics"]
    assert m["checkpoints"] == [0, 2, 4] and m["scored"] == [0, 2, 4] and m["reused"] == []
    summary = json.loads((art / "summary.json").read_text())
    assert {(r["type"], r["step"]) for r in summary} == {(t, s) for t in ("train-selected", "random")
                                                          for s in (0, 2, 4)}
    # step 0 is the base student: the same numbers the score stage computed for these samples
    scores = {r["id"]: r for f in next((out / "artifacts" / "score").glob("*/_SUCCESS")).parent.glob("part-*.jsonl")
              for r in map(json.loads, f.read_text().splitlines())}
    step0 = [json.loads(line) for line in (art / "steps" / "step-0000000.jsonl").read_text().splitlines()]
    assert step0
    for r in step0:
        assert r["llh_sum"] == pytest.approx(scores[r["id"].split("/", 1)[1]]["llh_sum"], rel=1e-4, abs=1e-4)
    # a crash after step 2 was scored but before its summary: only that checkpoint is scored again
    (art / "steps" / "step-0000002.json").unlink()
    (art / "_SUCCESS").unlink()
    run_rk(out, *args)
    m = json.loads((art / "manifest.json").read_text())["metrics"]
    assert m["scored"] == [2] and m["reused"] == [0, 4]
    assert json.loads((art / "summary.json").read_text()) == summary
    for ext in ("png", "pdf"):
        assert (art / f"dynamics.{ext}").stat().st_size > 0
    # the sweep report now finds that member's dynamics and draws them
    run_rk(out, "stage=report", f"report.sweep={sweep_dir}")
    assert (_report_dir(out, sweep_dir) / "dynamics.png").exists()


def test_bad_pool_file_is_one_line(sweep, tmp_path):
    out, _, _ = sweep
    bad = tmp_path / "pool.jsonl"
    bad.write_text(json.dumps({"prompt": "1+1?", "response": "2", "type": "para"}) + "\n"
                   + json.dumps({"prompt": "2+2?", "response": 4, "type": "para"}) + "\n")
    p = run_rk(out, "stage=dynamics", f"selection={STRATEGIES[0]}", "debug=tiny",
               f"dynamics.pools=[{{source: file, path: '{bad}'}}]", check=False)
    assert p.returncode != 0
    assert f"{bad}:2: field 'response': expected a non-empty string" in p.stderr
    shutil.rmtree(tmp_path, ignore_errors=True)
