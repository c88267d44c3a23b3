"""``generators: [...]``: several models generate into one judged set, each sample keeping its
model; each model's samples are the artifact a plain run of that model writes (so adding a model
computes only it), sharding works as for one model, and the merge's identity covers every value
the stage reads."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from rk_helpers import MODELS, run_rk

from reasonkit.config import CONF_DIR, register

TWO = "generators=[teacher,student]"
# a third generator: the teacher's weights under another name and sampling seed
THIRD = "generators=[teacher,student,{model:{name:toy-teacher-s7,builtin:toy-teacher},sampler:{seed:7}}]"


def _cfg(out: Path, *overrides: str):
    register()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return compose("config", overrides=[f"paths.outputs={out}", f"paths.models={MODELS}", "debug=tiny",
                                             "sampler.n=3", "pipeline=[generate,judge]", *overrides])


def _run(cfg):
    from reasonkit import stages  # noqa: F401
    from reasonkit.pipeline.runner import run

    return run(cfg)


def _records(art) -> list[dict]:
    return [json.loads(line) for p in sorted(Path(art).glob("part-*.jsonl")) for line in open(p)]


@pytest.mark.slow
def test_merged_set_keeps_each_model_and_adding_one_computes_only_it(tmp_path, tiny_models):
    out = tmp_path / "o"
    res = _run(_cfg(out, TWO))
    gen = res.done["generate"]
    recs = _records(gen.path)
    n_problems = len({r["problem_id"] for r in recs})
    assert n_problems == 24 and len(recs) == 24 * 6
    assert len({r["id"] for r in recs}) == len(recs)  # ids unique across models
    assert Counter(r["model"] for r in recs) == {"toy-teacher": 72, "toy-student": 72}
    for r in recs:  # teacher's samples are k 0..2, the student's 3..5, each with its own k kept
        assert r["id"] == f"{r['problem_id']}_{r['k']}"
        assert r["k"] == r["model_k"] + (0 if r["model"] == "toy-teacher" else 3)
    # samples of a problem are consecutive (judge/select group them by problem)
    order = [r["problem_id"] for r in recs]
    assert all(order[i] == order[i - 1] or order[i] not in order[:i] for i in range(1, len(order)))
    judged = _records(res.done["judge"].path)
    assert [r["model"] for r in judged] == [r["model"] for r in recs] and all("correct" in r for r in judged)
    subs = gen.manifest["generators"]
    # the teacher's part is exactly a plain single-teacher run's artifact
    plain = _run(_cfg(out, "pipeline=[generate]"))
    assert str(plain.done["generate"].path) == subs["toy-teacher"] and not plain.computed
    assert [r["response"] for r in _records(subs["toy-teacher"])] == [
        r["response"] for r in recs if r["model"] == "toy-teacher"]
    # a third model: only its artifact and the new merge are computed
    res3 = _run(_cfg(out, THIRD, "pipeline=[generate]"))
    assert res3.computed_names() == {"generate"}
    assert res3.done["generate"].manifest["metrics"]["computed_models"] == ["toy-teacher-s7"]
    merged3 = _records(res3.done["generate"].path)
    assert [r for r in merged3 if r["model"] != "toy-teacher-s7"] == recs
    # a changed sampler of one generator changes the merge's hash
    other = _run(_cfg(out, "generators=[teacher,{model:student,sampler:{sampling:{temperature:0.5}}}]",
                      "pipeline=[generate]"))
    assert other.done["generate"].path != gen.path
    assert other.done["generate"].manifest["metrics"]["computed_models"] == ["toy-student"]


@pytest.mark.slow
def test_array_shards_complete_every_model_then_merge(tmp_path, tiny_models):
    """SLURM-array style: each task runs its shard of every model; the last one merges; the result
    equals an unsharded run's (per-sample seeds)."""
    out = tmp_path / "o"
    common = ("stage=generate", TWO, "debug=tiny", "sampler.n=2", "sampler.shards=2", "dataset.sizes.train=70")
    first = run_rk(out, *common, "sampler.shard=0")
    assert "still pending" in first.stdout + first.stderr
    run_rk(out, *common, "sampler.shard=1")
    merged = [d for d in (out / "artifacts" / "generate").iterdir() if "+" in d.name and d.is_dir()]
    assert len(merged) == 1 and (merged[0] / "_SUCCESS").exists()
    assert json.loads((merged[0] / "layout.json").read_text())["parts"] == 2
    sharded = _records(merged[0])
    ref = tmp_path / "ref"
    run_rk(ref, *[c for c in common if not c.startswith("sampler.shards")])
    (plain,) = [d for d in (ref / "artifacts" / "generate").iterdir() if "+" in d.name and d.is_dir()]
    assert sharded == _records(plain) and len(sharded) == 70 * 4


@pytest.mark.parametrize("entry,expected", [
    ("[teacher,nosuchmodel]", "generators[1]: model 'nosuchmodel': expected teacher, student, a conf/model option"),
    ("[teacher,{model:student,sampler:{temprature:1}}]", "generators[1].sampler:"),
    ("[teacher,{model:student,sampler:{shards:2}}]", "generators[1].sampler: ['shards'] apply to every generator"),
    ("[teacher,teacher]", "generators: two entries generate as 'toy-teacher'"),
    ("[teacher,{model:{name:x,bulitin:toy-teacher}}]", "generators[1].model:"),
    ("[{mdl:teacher}]", "generators[0]: unknown keys ['mdl']"),
])
def test_bad_entries_fail_in_one_line(tmp_path, entry, expected):
    proc = run_rk(tmp_path / "o", "stage=generate", f"generators={entry}", check=False)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert expected in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-2000:]


def test_every_value_the_merge_reads_is_in_its_identity(tmp_path, tiny_models):
    import sys

    from reasonkit.pipeline.identity import uncovered

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipeline"))
    from test_identity_reads import _recorded_run

    cfg = _cfg(tmp_path / "o", "generators=[teacher,{model:student,sampler:{n:2}}]", "pipeline=[generate]")
    rec, placed, result = _recorded_run(cfg)
    assert "generate" in result.computed_names()
    reads = rec.leaves("generate:run")
    assert any(p.startswith("generators") for p in reads), reads
    assert not uncovered(reads, rec.leaves("generate:keys") | placed.get("generate", set()))
