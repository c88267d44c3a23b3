"""Every study under experiments/ runs end to end on the embedded default (tiny models, toy task)
as one `reasonkit -m` over its rows, and the stages its rows share are computed exactly once.

Why count log lines and artifact folders: "computed once" is a property of the runner's cache,
visible only from outside (one `computing` line, the other rows `reusing` the same folder).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rk_helpers import MODELS, REPO

EXPERIMENTS = REPO / "experiments"
LINE = re.compile(r"\[(\w+)\] (computing|reusing) (\S+)")


@dataclass
class Study:
    name: str
    # rows that run end to end in the CI sweep
    rows: list[str]
    # stages every CI row reads from one artifact
    shared: tuple[str, ...]
    overrides: tuple[str, ...] = ()
    # rows the toy task cannot feed end to end: (row, pipeline, why[, extra overrides]); run to
    # `pipeline` after the sweep, in the same outputs, so they must reuse the sweep's shared artifacts
    partial: list[tuple] = field(default_factory=list)
    # models of `generators` (each its own generate artifact, computed once, beside the merge)
    generators: int = 0


STUDIES = [
    Study("pseudo_label", ["gold_label", "vote", "judge_vote"], ("generate",),
          ("judge.min_count=2", "judge.llm_vote.sampling.max_tokens=64"),
          [("llm_judge", "[generate,judge]", "the toy teacher cannot write a JSON verdict"),
           ("llm_vote", "[generate,judge]", "the toy teacher cannot write JSON answer counts")]),
    Study("rejection_sampling", ["sft_rejection", "sft_pass_band", "sft_rewrite", "dpo_silc", "simpo_silc",
                                 "sharegpt_export"],
          ("generate", "judge"), ("sampler.n=4", "transform.sampling.max_tokens=64"),
          [("dpo_short_long", "[generate,judge,select]",
            "the toy teacher's correct responses of one problem all have the same length"),
           ("sft_difficulty", "[generate,judge,select]",
            "the toy teacher cannot write a difficulty label: every problem is unlabelled and dropped")]),
    # the checkpoint is picked on a 3-row slice of the real MATH-500 file, reported there and on toy
    Study("critique_ft", ["cft", "sft_baseline"], ("generate", "judge"),
          ("sampler.n=4", "paths.benchmarks=tests/fixtures/benchmarks", "eval.source=local",
           "eval.benchmarks=[math500,dataset]", "eval.sampling.max_tokens=64"), generators=2),
    Study("r1_traces", ["sft_r1_correct", "sft_r1_all", "size_1000", "size_2000", "size_4000"],
          ("generate", "judge"), (),
          # its own generate (the dataset's solutions), so it runs beside the sweep, end to end
          [("baseline_reference", "[generate,judge,select,format,train,eval,report]",
            "no teacher: generate writes the reference solutions"),
           ("expert_iteration", "[generate,judge,select,format,train,eval,report]",
            "under the R1 template the 4-step round-1 student solves no toy problem, so round 2 would "
            "keep nothing to train on: CI asks the toy prompt", ("teacher.system_prompt=null",))]),
    Study("llh_selection", ["llh_highest_mean", "llh_highest_sum", "llh_lowest_mean", "llh_lowest_sum",
                            "random_s1", "random_s2", "random_s3", "random_s4", "random_s5"],
          ("generate", "judge", "score")),
]


def _reasonkit(out: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    cmd = [sys.executable, "-m", "reasonkit", *args, "debug=tiny", f"paths.outputs={out}",
           f"paths.models={MODELS}"]
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=REPO)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return proc, time.time() - t0


def _pipeline(study: str, row: str) -> list[str]:
    from omegaconf import OmegaConf

    from reasonkit.config import RootConfig

    preset = OmegaConf.load(EXPERIMENTS / study / f"{row}.yaml")
    return list(preset.get("pipeline", RootConfig().pipeline))


def _events(proc: subprocess.CompletedProcess) -> dict[str, list[tuple[str, str]]]:
    """stage → [(computing|reusing, artifact path)] in log order."""
    ev: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for m in LINE.finditer(proc.stdout + proc.stderr):
        ev[m.group(1)].append((m.group(2), m.group(3)))
    return ev


def test_every_preset_is_covered():
    """A new preset cannot be left out of CI silently: each is a CI row or a documented partial row."""
    for s in STUDIES:
        presets = {p.stem for p in (EXPERIMENTS / s.name).glob("*.yaml")}
        covered = set(s.rows) | {p[0] for p in s.partial}
        assert presets == covered, f"{s.name}: presets {sorted(presets)} vs covered {sorted(covered)}"
        assert (EXPERIMENTS / s.name / "README.md").exists()
        for p in (EXPERIMENTS / s.name).glob("*.yaml"):
            first, second = p.read_text().splitlines()[:2]
            assert first == "# @package _global_" and second.startswith("# "), p


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES, ids=lambda s: s.name)
def test_study_runs_and_shares_stages(study: Study, tmp_path: Path, tiny_models):
    out = tmp_path / "outputs"
    rows = ",".join(f"{study.name}/{r}" for r in study.rows)
    proc, dt = _reasonkit(out, "-m", f"experiment={rows}", *study.overrides)
    print(f"\n[{study.name}] {len(study.rows)} rows in {dt:.0f}s")
    ev = _events(proc)
    n = len(study.rows)
    for stage in study.shared:
        # generate with `generators`: each model's artifact and the merge, computed once each
        extra = study.generators if stage == "generate" else 0
        computed = [p for kind, p in ev[stage] if kind == "computing"]
        used = {p for _, p in ev[stage]}
        # score is read only by the rows that rank by log-likelihood
        assert len(computed) == 1 + extra == len(set(computed)), f"{stage} computed {len(computed)} times: {computed}"
        assert len(used) == 1 + extra, f"{stage}: rows used different artifacts {used}"
        if stage != "score":
            assert len(ev[stage]) == n + extra, f"{stage}: {len(ev[stage])} of {n} rows planned it"
        assert len([d for d in (out / "artifacts" / stage).iterdir() if d.is_dir()]) == 1 + extra
    # every row computed its own end (report per row, plus the sweep's table); export rows stop
    # at format (their preset's pipeline has no report)
    with_report = [r for r in study.rows if "report" in _pipeline(study.name, r)]
    reports = [p for kind, p in ev["report"] if kind == "computing"]
    assert len(reports) == len(with_report) + 1, reports
    tables = list((out / "reports").glob("*/*/table.json"))
    assert len(tables) == 1, tables
    assert tables[0].read_text().count("experiment=") >= n
    print(tables[0].with_name("table.md").read_text())

    if study.generators:
        _check_generators(out, study.generators)
    for row, pipeline, why, *extra in study.partial:
        args = (f"experiment={study.name}/{row}", f"pipeline={pipeline}", *study.overrides, *(extra[0] if extra else ()))
        proc, dt = _reasonkit(out, *args)
        print(f"[{study.name}] partial row {row} ({why}) in {dt:.0f}s")
        ev = _events(proc)
        if row == "baseline_reference":
            assert [k for k, _ in ev["generate"]] == ["computing"] and "reference-" in ev["generate"][0][1]
            continue
        if row == "expert_iteration":
            _check_rounds(out, ev, proc)
            again, _ = _reasonkit(out, *args)  # a rerun finds every round's artifacts
            assert {k for e in _events(again).values() for k, _ in e} == {"reusing"}, _events(again)
            continue
        for stage in set(study.shared) & set(pipeline.strip("[]").split(",")):
            assert [k for k, _ in ev[stage]] == ["reusing"], f"{row}: {stage} not reused: {ev[stage]}"
        if ev["transform"]:  # the row's LLM transform ran once, each unparsed reply recorded
            (kind, path), = ev["transform"]
            m = json.loads((Path(path) / "manifest.json").read_text())["metrics"]
            assert kind == "computing" and m["records"] == m["parsed"] + m["parse_errors"] > 0, m
            print(f"[{study.name}] {row}: transform {m}")


def _check_generators(out: Path, k: int) -> None:
    """The merged set: every sample keeps its model, and the critique parquet carries it."""
    import pyarrow.parquet as pq

    (merged,) = [d for d in (out / "artifacts" / "generate").iterdir() if d.is_dir() and "+" in d.name]
    recs = [json.loads(line) for p in merged.glob("part-*.jsonl") for line in open(p)]
    assert len({r["model"] for r in recs}) == k and len({r["id"] for r in recs}) == len(recs)
    parquets = list((out / "artifacts" / "format").glob("critique-*/train.parquet"))
    assert len(parquets) == 1
    models = {r["extra_info"]["model"] for r in pq.read_table(parquets[0]).to_pylist()}
    assert models and models <= {r["model"] for r in recs}
    table = next((out / "reports").glob("*/*/table.md")).read_text()
    assert "picked on math500:avg@n" in table and " [trained@" in table, table


def _check_rounds(out: Path, ev: dict, proc) -> None:
    """Two rounds: round 2 generates with, and trains, round 1's model."""
    from omegaconf import OmegaConf

    assert [k for k, _ in ev["generate"]] == ["computing", "computing"], ev["generate"]
    assert [k for k, _ in ev["train"]] == ["computing", "computing"], ev["train"]
    (train1, _), (train2, _) = [(Path(p), k) for k, p in ev["train"]]
    gen2 = OmegaConf.load(Path(ev["generate"][1][1]) / "config.yaml")
    assert gen2.model.path == str(train1 / "model") and gen2.model.name == "toy-student-ei1"
    assert OmegaConf.load(train2 / "config.yaml").student.path == str(train1 / "model")
    assert "round 2/2" in proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("row", ["llm_judge", "llm_vote"])
def test_llm_rows_record_parse_errors(row: str, tmp_path: Path, tiny_models):
    """The pseudo_label LLM rows on the toy teacher: every unparsable reply is a recorded parse
    error (never a guessed verdict or label), which is why CI runs these rows to judge only."""
    out = tmp_path / "outputs"
    _reasonkit(out, f"experiment=pseudo_label/{row}", "pipeline=[generate,judge]",
               "judge.llm_vote.sampling.max_tokens=64")
    (judge,) = [d for d in (out / "artifacts" / "judge").iterdir() if d.is_dir()]
    stats = json.loads((judge / "manifest.json").read_text())["judge_stats"]
    recs = [json.loads(line) for sh in judge.glob("part-*.jsonl") for line in open(sh)]
    errors = [r for r in recs if "judge_error" in r["meta"]]
    assert recs and errors and all(r["correct"] is False for r in errors)
    if row == "llm_judge":  # one request per sample
        assert stats["samples"] == len(recs) == stats["requests"]
        assert stats["parse_errors"] == len(errors)
        assert all(r["label_source"] == "llm" for r in recs)
    else:  # one request per problem with an answer; its error is on each of its samples
        answered = {r["problem_id"] for r in recs if r["extracted"] is not None}
        assert stats["requests"] == len(answered) and stats["problems"] == len({r["problem_id"] for r in recs})
        assert stats["parse_errors"] == len({r["problem_id"] for r in errors})
        assert all(r["label_source"] == ("llm_vote" if r["meta"]["vote"]["answer"] else "none") for r in recs)
