"""The real entrypoint, end to end, on the tiny local models (CPU)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rk_helpers import MODELS, REPO

pytestmark = pytest.mark.slow


def artifacts(outputs: Path) -> dict[str, list[Path]]:
    root = outputs / "artifacts"
    return {d.name: sorted(p for p in d.iterdir() if p.is_dir()) for d in root.iterdir() if d.is_dir()}


def manifest(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text())


def test_pipeline_runs_caches_and_reruns_only_downstream(rk):
    out = rk.outputs
    p1 = rk("debug=tiny")
    arts = artifacts(out)
    assert set(arts) == {"generate", "judge", "select", "format", "train", "eval", "eval_cell", "report"}
    assert len(arts.pop("eval_cell")) == 3  # one artifact per (model, benchmark) cell
    for stage, paths in arts.items():
        assert len(paths) == 1 and (paths[0] / "_SUCCESS").exists(), stage
    gen = manifest(arts["generate"][0])
    assert gen["metrics"]["samples"] == 24 * 2
    judge = manifest(arts["judge"][0])["metrics"]
    kept = manifest(arts["select"][0])["metrics"]["kept"]
    assert kept == judge["correct"] > 0
    ev = manifest(arts["eval"][0])["metrics"]
    assert set(ev) == {"teacher/toy", "student/toy", "trained/toy"}
    assert (arts["train"][0] / "model" / "config.json").exists()
    assert (arts["train"][0] / "train_config.yaml").exists()
    report = (out / "reports" / "demo.md").read_text()
    assert "teacher traces" in report
    # one report row per eval cell, named as the eval stage names it ("<row>/<benchmark>"), with its avg@2
    lines = {ln.split(" | ")[0].lstrip("| "): ln for ln in report.splitlines() if ln.startswith("| eval: ")}
    assert set(lines) == {f"eval: {row}" for row in ev}
    for row, m in ev.items():
        assert f"| avg@2 ± s.e. | {100 * m['avg@2']:.1f}% ± {100 * m['avg@2_se']:.1f} (" in lines[f"eval: {row}"], row
    assert "reasonkit results" in p1.stdout

    # same command again: nothing recomputed
    stamps = {s: (p[0] / "_SUCCESS").stat().st_mtime_ns for s, p in arts.items()}
    p2 = rk("debug=tiny")
    assert "nothing to compute" in p2.stderr + p2.stdout
    assert "(reused)" in p2.stdout
    assert {s: (p[0] / "_SUCCESS").stat().st_mtime_ns for s, p in artifacts(out).items() if s in stamps} == stamps

    # one selection option changed: generate and judge reused, selection and downstream rerun
    rk("debug=tiny", "selection.max_per_problem=1")
    arts3 = artifacts(out)
    for stage in ("generate", "judge"):
        assert len(arts3[stage]) == 1, stage
    for stage in ("select", "format", "train", "eval", "report"):
        assert len(arts3[stage]) == 2, stage
    # the eval grid recomputes only the trained model's cell; teacher and student cells are reused
    assert len(arts3["eval_cell"]) == 4


def test_single_stage_without_inputs_names_expected_path(rk):
    p = rk("debug=tiny", "stage=judge", check=False)
    assert p.returncode != 0
    assert "needs the 'generate' artifact" in p.stderr and "artifacts/generate/toy-teacher-toy-" in p.stderr


def test_bad_dataset_line_refused_before_any_work(rk, tmp_path):
    good = {"id": "a", "prompt": "What is 1+1?", "answer": "2"}
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps(good) + "\n" + json.dumps({"id": "b", "prompt": "2+2?", "answer": ["4"]}) + "\n")
    test = tmp_path / "test.jsonl"
    test.write_text(json.dumps(good) + "\n")
    p = rk("dataset=jsonl", f"dataset.files.train={train}", f"dataset.files.test={test}", check=False)
    assert p.returncode != 0
    assert f"{train}:2: field 'answer'" in p.stderr and "expected a non-empty string, a number or null" in p.stderr
    assert not (rk.outputs / "artifacts").exists() or not any((rk.outputs / "artifacts").rglob("_SUCCESS"))


def test_two_processes_compute_an_artifact_once(rk, tmp_path):
    out = rk.outputs
    cmd = [sys.executable, "-m", "reasonkit", f"paths.outputs={out}", f"paths.models={MODELS}", "debug=tiny",
           "stage=generate"]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), logs
    joined = "\n".join(logs)
    assert joined.count("[generate] computing") == 1
    assert joined.count("computed by another process") + joined.count("already complete") == 1


def test_generate_resumes_after_kill_9(rk):
    """Kill a real generation mid-run; the rerun loses and duplicates nothing."""
    out = rk.outputs
    over = ["stage=generate", "dataset.sizes.train=160", "sampler.batch_size=8", "sampler.n=4"]
    cmd = [sys.executable, "-m", "reasonkit", f"paths.outputs={out}", f"paths.models={MODELS}", *over]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300

    def on_disk() -> dict[str, dict]:
        """Every complete record in every part file (finished or .partial) right now."""
        recs = {}
        for f in sorted((out / "artifacts").glob("generate/*/part-*.jsonl*")):
            for line in f.read_text().splitlines():
                if line.endswith("}"):
                    r = json.loads(line)
                    recs[r["id"]] = r
        return recs

    while time.time() < deadline:
        if (out / "artifacts").exists() and len(on_disk()) >= 40:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("generation never produced 40 records")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = on_disk()
    art = next((out / "artifacts" / "generate").glob("*/"))
    assert not (art / "_SUCCESS").exists() and 40 <= len(before) < 640
    rk(*over)
    recs = [json.loads(x) for f in sorted(art.glob("part-*.jsonl")) for x in f.read_text().splitlines()]
    ids = [r["id"] for r in recs]
    assert len(ids) == len(set(ids)) == 160 * 4
    assert set(ids) == {f"toy-train-{i:05d}_{k}" for i in range(160) for k in range(4)}
    final = {r["id"]: r for r in recs}
    assert all(final[i] == r for i, r in before.items())  # what was on disk survived unchanged
    m = manifest(art)["metrics"]
    assert m["generated_now"] == 640 - len(before)
