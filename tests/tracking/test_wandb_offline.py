"""WandbTracker against real wandb 0.31 in offline mode; every assertion reads the run files back.

One subprocess logs four stage runs (generate with a sample table, train with a loss curve, eval
with a table, a judge run that fails) with fake credentials in its environment and one on its
command line; the tests then parse the ``.wandb`` files and scan every file written.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from reasonkit.tracking.reader import find_runs

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def _fake_secrets() -> dict[str, str]:
    # Random per session, so no expected value can be written into the code under test.
    return {
        "WANDB_API_KEY": secrets.token_hex(20),
        "OPENAI_API_KEY": "sk-" + secrets.token_urlsafe(24),
        "HF_TOKEN": "hf_" + secrets.token_hex(17),
        "MY_SERVICE_PASSWORD": secrets.token_urlsafe(12),
    }


def _curve() -> list[tuple[int, dict]]:
    return [(s, {"train/loss": round(2.0 / (s + 1), 6), "train/lr": 1e-3 * (10 - s) / 10}) for s in range(10)]


def _long() -> str:
    return " ".join(f"w{i}" for i in range(14000))


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    out = tmp_path_factory.mktemp("wandb")
    sec = _fake_secrets()
    samples = [{"id": f"p{i}_0", "response": f"answer {i}" + (f" key={sec['HF_TOKEN']}" if i == 1 else ""),
                "correct": i % 2 == 0, "meta": {"len": i}} for i in range(3)]
    spec = {
        "experiment": "exp-track",
        "tracking": {"backend": "wandb", "mode": "offline", "project": "rk-test", "tags": ["unit"]},
        "launch": {"sweep": "4242", "job_num": 1, "overrides": ["selection=random"],
                   "slurm_job_id": "4243", "slurm_array_job_id": "4242", "slurm_array_task_id": 1},
        "runs": [
            {"stage": "generate", "name": "gen-abc", "metrics": {"generate/samples": 12},
             "config": {"model": {"name": "tiny-teacher", "pad_token": "<pad>"},
                        "sampler": {"n": 4, "server": {"url": f"http://h:8000/v1?key={sec['OPENAI_API_KEY']}",
                                                       "api_key": sec["OPENAI_API_KEY"],
                                                       "headers": {"Authorization": f"Bearer {sec['HF_TOKEN']}"}}},
                        "db": f"user:{sec['MY_SERVICE_PASSWORD']}@host"},
             "tables": {"samples": samples},
             "print_env": "WANDB_API_KEY"},
            {"stage": "train", "name": "train-def", "config": {"trainer": {"args": {"max_steps": 10}}},
             "curve": _curve()},
            # A 70 kB value spans three 32 KiB blocks: the reader must reassemble chunked records.
            {"stage": "eval", "name": "eval-ghi", "config": {"eval": {"n": 2}}, "metrics": {"eval/notes": _long()},
             "tables": {"eval": [{"row": "ckpt-5", "acc": 0.25}, {"row": "ckpt-10", "acc": 0.5}]}},
            {"stage": "judge", "name": "judge-jkl", "config": {"judge": {"name": "math"}}, "fail": True},
        ],
    }
    spec_path = out / "spec.json"
    spec_path.write_text(json.dumps(spec))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(sec, PYTHONPATH=str(ROOT), WANDB_SILENT="true")
    # A secret is also printed during a run (console capture is off by default) and passed on the
    # command line (wandb records sys.argv in the run metadata).
    proc = subprocess.run([sys.executable, str(HERE / "_log_runs.py"), str(out / "wb"), str(spec_path),
                           f"--token={sec['OPENAI_API_KEY']}"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = {r.job_type: r for r in find_runs(out / "wb")}
    return {"dir": out / "wb", "runs": runs, "spec": spec, "secrets": sec, "samples": samples,
            "stdout": proc.stdout}


def test_one_run_per_stage_grouped_by_experiment_and_sweep(logged):
    runs = logged["runs"]
    assert sorted(runs) == ["eval", "generate", "judge", "train"]
    for stage, run in runs.items():
        assert run.job_type == stage
        assert run.project == "rk-test"
        assert run.group == "exp-track-4242"          # experiment + sweep (the array job id)
        assert "unit" in run.tags and "sweep:4242" in run.tags
        assert run.config["_launch"]["overrides"] == ["selection=random"]
        assert f"run_id={run.run_id}" in logged["stdout"]
    assert runs["generate"].name == "gen-abc"


def test_config_is_logged_with_secrets_redacted(logged):
    cfg = logged["runs"]["generate"].config
    server = cfg["sampler"]["server"]
    assert cfg["model"] == {"name": "tiny-teacher", "pad_token": "<pad>"}  # not a credential
    assert cfg["sampler"]["n"] == 4
    assert server["api_key"] == "<redacted>"
    assert server["headers"]["Authorization"] == "<redacted>"
    assert server["url"] == "http://h:8000/v1?key=<redacted:OPENAI_API_KEY>"
    assert cfg["db"] == "user:<redacted:MY_SERVICE_PASSWORD>@host"


def test_stage_metrics_and_training_curve_read_back(logged):
    gen, train = logged["runs"]["generate"], logged["runs"]["train"]
    assert gen.metric("generate/samples") == [12]
    expected = _curve()
    steps = [row["_step"] for row in train.history if "train/loss" in row]
    assert steps == [s for s, _ in expected]
    assert train.metric("train/loss") == [m["train/loss"] for _, m in expected]
    assert train.metric("train/lr") == pytest.approx([m["train/lr"] for _, m in expected])
    assert train.summary["train/loss"] == expected[-1][1]["train/loss"]
    ev = logged["runs"]["eval"]
    assert ev.metric("eval/notes") == [_long()]
    assert ev.path.stat().st_size > 2 * 32 * 1024


def test_sample_and_eval_tables_read_back(logged):
    rows = logged["runs"]["generate"].table("samples")
    want = logged["samples"]
    assert [r["id"] for r in rows] == [s["id"] for s in want]
    assert [r["correct"] for r in rows] == [s["correct"] for s in want]
    assert rows[0]["response"] == want[0]["response"]
    assert rows[1]["response"] == "answer 1 key=<redacted:HF_TOKEN>"
    assert json.loads(rows[2]["meta"]) == {"len": 2}                 # nested values as JSON text
    assert logged["runs"]["eval"].table("eval") == [{"row": "ckpt-5", "acc": 0.25},
                                                    {"row": "ckpt-10", "acc": 0.5}]


def test_finish_runs_on_success_and_on_failure(logged):
    runs = logged["runs"]
    assert runs["judge"].exit_code == 1
    assert "judge-jkl: stage failed on purpose" in logged["stdout"]
    assert f"WANDB_API_KEY={logged['secrets']['WANDB_API_KEY']}" in logged["stdout"]  # it was printed
    for stage in ("generate", "train", "eval"):
        assert runs[stage].exit_code == 0


def test_no_secret_in_any_written_file(logged):
    files = [p for p in logged["dir"].rglob("*") if p.is_file()]
    assert len(files) >= 8
    blobs = {p: p.read_bytes() for p in files}
    # The scan must be able to see logged text at all: a non-secret config value is found.
    assert any(b"tiny-teacher" in b for b in blobs.values())
    for name, value in logged["secrets"].items():
        hits = [str(p) for p, b in blobs.items() if value.encode() in b]
        assert not hits, f"{name} leaked into {hits}"


def test_mode_and_dir_come_from_yaml_and_env(tmp_path, monkeypatch):
    from omegaconf import OmegaConf

    from reasonkit.tracking import build_tracker

    monkeypatch.setenv("WANDB_MODE", "disabled")
    root = OmegaConf.create({"paths": {"outputs": str(tmp_path)},
                             "tracking": OmegaConf.load(ROOT / "conf/tracking/wandb.yaml")})
    tracker = build_tracker(root)
    assert tracker.cfg.mode == "disabled" and tracker.cfg.dir == str(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "sometimes")
    with pytest.raises(ValueError, match=r"tracking.mode='sometimes'.*expected one of"):
        build_tracker(root)
    with pytest.raises(ValueError, match=r"unknown keys \['projet'\]"):
        build_tracker({"backend": "wandb", "projet": "x"})
