"""``stage=transform`` end to end: generate → judge (tiny teacher, real math-verify) → transform →
select. A scripted engine stands in for the transform model where the test needs replies that
parse (the tiny models emit noise); the tiny engine itself runs the resume test."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from reasonkit import stages  # noqa: F401 - registers the stages before any engine is patched
from reasonkit.config import CONF_DIR, register
from reasonkit.engines.base import Completion
from rk_helpers import MODELS


def _compose(out: Path, *overrides: str):
    register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return compose("config", overrides=[f"paths.outputs={out}", f"paths.models={MODELS}", "debug=tiny",
                                             *overrides])


def _run(cfg):
    from reasonkit import stages  # noqa: F401
    from reasonkit.pipeline.runner import run

    return run(cfg)


def _records(path: Path, prefix: str = "part") -> list[dict]:
    return [json.loads(line) for p in sorted(path.glob(f"{prefix}-*.jsonl")) for line in open(p)]


def _level(key: str) -> int | None:
    """A scripted difficulty per problem; every fifth problem gets a reply that does not parse."""
    h = int(hashlib.sha256(key.encode()).hexdigest(), 16)
    return None if h % 5 == 0 else h % 10 + 1


class ScriptedEngine:
    """The Engine interface with replies chosen by request id (what a capable model might say)."""

    name = "scripted"

    def __init__(self, reply):
        self.reply = reply
        self.requests: list = []
        self.sampling = None

    def generate(self, requests, sampling):
        self.requests += requests
        self.sampling = sampling
        return [[Completion(self.reply(r))] for r in requests]

    def close(self):
        pass


@pytest.fixture
def scripted(monkeypatch):
    import reasonkit.engines as engines

    holder = {}

    def install(reply):
        holder["engine"] = ScriptedEngine(reply)
        monkeypatch.setattr(engines, "build_engine", lambda *a, **k: holder["engine"])
        return holder["engine"]

    return install


def difficulty_reply(req) -> str:
    d = _level(req.ids[0].split("#")[0])
    return "Let me think. It is easy." if d is None else f"<think>hmm</think>Difficulty: {d}"


def test_difficulty_bounds_after_judge(tmp_path, tiny_models, scripted):
    engine = scripted(difficulty_reply)
    cfg = _compose(tmp_path, "transform=difficulty", "transform.bounds.min=3", "transform.bounds.max=7",
                   "transform.batch_size=5", "pipeline=[generate,judge,select]")
    result = _run(cfg)
    judge, tr, sel = (result.done[s] for s in ("judge", "transform", "select"))
    judged, kept, dropped = _records(judge.path), _records(tr.path), _records(tr.path, "dropped")
    problems = list(dict.fromkeys(r["problem_id"] for r in judged))
    # one request per problem, seeded by its id, with the transform's own sampling
    assert sorted(r.ids[0] for r in engine.requests) == sorted(f"{p}#difficulty" for p in problems)
    assert engine.sampling == {"temperature": 0.0, "max_tokens": 512}
    assert all("Rate the difficulty" in r.prompt for r in engine.requests)
    # every sample carries its problem's label; the bounds decide kept vs dropped; unparsed kept
    for r in kept + dropped:
        assert r["difficulty"] == _level(r["problem_id"])
        assert r["meta"]["transform"]["reply"] == difficulty_reply(type("R", (), {"ids": [f"{r['problem_id']}#x"]}))
    assert all(r["difficulty"] is None or 3 <= r["difficulty"] <= 7 for r in kept)
    assert dropped and all(not 3 <= r["difficulty"] <= 7 for r in dropped)
    unparsed = [r for r in kept if r["difficulty"] is None]
    assert unparsed and all("no match" in r["meta"]["transform"]["error"] for r in unparsed)
    # nothing lost, order kept (select's groups stay consecutive)
    assert [r["id"] for r in judged if r["id"] in {k["id"] for k in kept}] == [r["id"] for r in kept]
    assert len(kept) + len(dropped) == len(judged)
    m = tr.manifest["metrics"]
    assert (m["records"], m["kept"], m["dropped"], m["parse_errors"]) == (
        len(judged), len(kept), len(dropped), len(unparsed))
    assert m["requests_now"] == len(problems)
    # select read the transformed samples, not the judge artifact
    assert sel.manifest["inputs"] == {"judge": str(tr.path)}
    selected = _records(sel.path)
    assert selected and {r["id"] for r in selected} <= {r["id"] for r in kept if r["correct"]}


def rewrite_reply(req) -> str:
    sid = req.ids[0].split("#")[0]
    if _level(sid) is None or _level(sid) > 8:
        return "I would rather not."
    return f"<solution>Step by step for {sid}: the answer is \\boxed{{{len(sid)}}}.</solution>"


def test_rewrite_replaces_responses_where_parsed(tmp_path, tiny_models, scripted):
    engine = scripted(rewrite_reply)
    cfg = _compose(tmp_path, "transform=rewrite", "pipeline=[generate,judge,transform]")
    result = _run(cfg)
    judged = {r["id"]: r for r in _records(result.done["judge"].path)}
    out = _records(result.done["transform"].path)
    assert [r["id"] for r in out] == list(judged)  # one request per sample, nothing dropped
    assert len(engine.requests) == len(judged)
    assert all(judged[r.ids[0].split("#")[0]]["response"] in r.prompt for r in engine.requests)
    bad = 0
    for r in out:
        if r["rewritten"] is None:
            bad += 1
            assert r["response"] == judged[r["id"]]["response"] and "original_response" not in r["meta"]
            assert r["meta"]["transform"]["error"] == "no match for '<solution>(.*?)</solution>' in the reply"
        else:
            assert r["response"] == r["rewritten"] == f"Step by step for {r['id']}: the answer is \\boxed{{{len(r['id'])}}}."
            assert r["meta"]["original_response"] == judged[r["id"]]["response"]
    assert bad and result.done["transform"].manifest["metrics"]["parse_errors"] == bad


def test_problem_labels_before_generation(tmp_path, tiny_models, scripted):
    """after=dataset: label the train split before any generation; the kept problems come back as
    a dataset=jsonl file that generate can read."""
    scripted(difficulty_reply)
    cfg = _compose(tmp_path, "transform=difficulty", "transform.after=dataset", "transform.bounds.min=4",
                   "transform.bounds.unparsed=drop", "stage=transform")
    result = _run(cfg)
    assert set(result.done) == {"transform"}  # nothing generated
    path = result.done["transform"].path / "problems.jsonl"
    again = _compose(tmp_path, "dataset=jsonl", f"dataset.files.train={path}", "dataset.files.test=x.jsonl",
                     "dataset.name=labelled", "dataset.sizes.train=1000")
    from reasonkit.data import load as data

    problems = list(data.problems(again.dataset, "train"))
    assert problems and all(p["meta"]["difficulty"] >= 4 for p in problems)
    ids = [p["id"] for p in problems]
    assert ids == [f"toy-train-{i:05d}" for i in range(24) if (_level(f"toy-train-{i:05d}") or 0) >= 4]


def test_splice_and_missing_input_named(tmp_path, tiny_models):
    from reasonkit import stages  # noqa: F401
    from reasonkit.pipeline.artifacts import ArtifactStore, MissingArtifact
    from reasonkit.pipeline.runner import plan

    for option, source in (("none", "judge"), ("difficulty", "transform"), ("rewrite", "transform")):
        cfg = _compose(tmp_path, f"transform={option}", "selection=llh_highest_mean")
        steps = {s.stage.name: s for s in plan(cfg, ArtifactStore(tmp_path / "a"), ["report"])}
        assert steps["select"].inputs["judge"].stage == source
        assert steps["score"].inputs["judge"].stage == source
        assert steps["report"].inputs["judge"].stage == "judge"  # the judge's own counts
        if source == "transform":
            assert steps["transform"].inputs["judge"].stage == "judge"
    cfg = _compose(tmp_path, "transform=difficulty", "stage=select")
    with pytest.raises(MissingArtifact, match="needs the 'transform' artifact"):
        _run(cfg)
    with pytest.raises(ValueError, match="transform=none"):
        _run(_compose(tmp_path, "stage=transform", "pipeline=[transform]"))


def test_identity_covers_template_parser_and_model(tmp_path, monkeypatch):
    from reasonkit import stages  # noqa: F401
    from reasonkit.pipeline.artifacts import ArtifactStore
    from reasonkit.pipeline.runner import plan
    from reasonkit.transform import parsers

    def h(*overrides):
        cfg = _compose(tmp_path, "transform=difficulty", *overrides)
        return {s.stage.name: s.artifact.hash for s in plan(cfg, ArtifactStore(tmp_path / "a"), ["transform"])}

    base = h()
    assert h("transform.sampling.temperature=0.5")["transform"] != base["transform"]
    assert h("transform.prompt=transform_paraphrase")["transform"] != base["transform"]
    assert h("transform.parser.max=5")["transform"] != base["transform"]
    assert h("teacher.name=other")["transform"] != base["transform"]
    assert h("transform.batch_size=3") == base  # how, not what
    p = parsers.get("int_range")
    monkeypatch.setitem(parsers.PARSERS._items, "int_range", parsers.Parser(p.name, p.version + "x", p.fn))
    assert h()["transform"] != base["transform"] and h()["judge"] == base["judge"]


class Crash(RuntimeError):
    pass


@pytest.mark.slow
def test_resume_with_the_tiny_engine_equals_an_uninterrupted_run(tmp_path, tiny_models, monkeypatch):
    """Killed after its first batch, the stage resumes from the records on disk: only the rest is
    asked again, and the output is the one an uninterrupted run writes."""
    import reasonkit.engines as engines

    real = engines.build_engine
    overrides = ("transform=difficulty", "transform.batch_size=4", "transform.sampling.max_tokens=24",
                 "pipeline=[generate,judge,transform]")
    calls = {"n": 0}

    def failing(*a, **k):
        eng = real(*a, **k)
        gen = eng.generate

        def generate(reqs, sampling):
            calls["n"] += 1
            if calls["n"] == 2:
                raise Crash("killed")
            return gen(reqs, sampling)

        eng.generate = generate
        return eng

    monkeypatch.setattr(engines, "build_engine", failing)
    with pytest.raises(Crash):
        _run(_compose(tmp_path / "a", *overrides))
    (tdir,) = [d for d in (tmp_path / "a" / "artifacts" / "transform").iterdir() if d.is_dir()]
    partial = tdir / "part-00000.jsonl.partial"
    assert partial.exists() and not (tdir / "_SUCCESS").exists()
    assert len({json.loads(line)["problem_id"] for line in open(partial)}) == 4
    monkeypatch.setattr(engines, "build_engine", real)
    resumed = _run(_compose(tmp_path / "a", *overrides)).done["transform"]
    fresh = _run(_compose(tmp_path / "b", *overrides)).done["transform"]
    assert resumed.path.name == fresh.path.name
    m = resumed.manifest["metrics"]
    assert m["requests_now"] == 20 and fresh.manifest["metrics"]["requests_now"] == 24
    assert (resumed.path / "part-00000.jsonl").read_bytes() == (fresh.path / "part-00000.jsonl").read_bytes()
    recs = _records(resumed.path)
    # the tiny teacher emits noise: replies mostly do not parse, and each such record says why
    assert m["parse_errors"] == sum(r["difficulty"] is None for r in recs) and m["records"] == len(recs) == 48
    assert all(r["meta"]["transform"]["error"] for r in recs if r["difficulty"] is None)


def test_config_mistakes_are_one_line(tmp_path, tiny_models):
    from rk_helpers import run_rk

    for overrides, line in ((["stage=transform"], "stage=transform with transform=none"),
                            (["stage=transform", "transform=difficulty", "transform.after=dataset",
                              "transform.level=sample"], "transform.after=dataset: there are no samples yet"),
                            (["stage=transform", "transform=rewrite", "transform.after=dataset",
                              "transform.apply=field", "transform.level=problem", "transform.bounds.min=2"],
                             "transform.bounds: the text parser yields text")):
        proc = run_rk(tmp_path / "o", "debug=tiny", *overrides, check=False)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        assert line in proc.stderr.strip().splitlines()[-1], proc.stderr[-500:]
