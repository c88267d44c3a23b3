"""The eval grid: cell identity (what changes a result changes its key, the run's judge does not),
validation before work, incremental reruns over models / checkpoints / benchmarks, on the tiny
models through the real entrypoint."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from reasonkit.config import CONF_DIR, register

register()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "benchmarks"


def _compose(*overrides: str):
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return compose("config", overrides=["debug=tiny", "eval.models=[teacher]", *overrides])


def _eval():
    from reasonkit import stages  # noqa: F401
    from reasonkit.pipeline.stage import STAGES

    return STAGES["eval"]


def _keys(*overrides: str):
    return json.dumps(_eval().keys(_compose(*overrides)), sort_keys=True, default=str)


def test_cell_key_covers_what_eval_reads_and_not_the_runs_judge():
    base = _keys()
    changed = {o: _keys(o) for o in ("sampler.chat=false", "sampler.think=strip", "eval.judge=vote", "eval.prompt=boxed",
                                     "eval.seed=7", "eval.n=3", "eval.sampling.temperature=0.5", "++eval.judge_args.timeout_s=9",
                                     "++eval.overrides.dataset.limit=5", "dataset.instruction=Answer.", "teacher.system_prompt=Hi",
                                     "sampler.backend=vllm")}
    for o, k in changed.items():
        assert k != base, f"{o} does not change the eval key"
    # the run's judge labels training data; eval has its own: changing it leaves eval alone
    for o in ("judge=vote", "judge.timeout_s=9", "sampler.n=8", "sampler.sampling.temperature=0.1", "sampler.batch_size=3"):
        assert _keys(o) == base, f"{o} changes the eval key"


def test_code_versions_enter_the_cell_key(monkeypatch):
    import reasonkit.judging.math_judge as mj

    base = _keys()
    monkeypatch.setattr(mj.MathJudge, "version", "999+x1")
    assert _keys() != base


def test_edited_prompt_template_changes_the_key(monkeypatch):
    from reasonkit import prompts

    base = _keys("eval.prompt=boxed")
    real = prompts.load_prompt

    def edited(ref):
        p = real(ref)
        p.template += " Be brief."
        return p

    monkeypatch.setattr(prompts, "load_prompt", edited)
    assert _keys("eval.prompt=boxed") != base


@pytest.mark.parametrize("overrides,message", [
    (["eval.judge=llm"], "eval.judge=llm: this judge needs a judge engine and eval starts none"),
    (["eval.judge=llm_vote"], "eval.judge=llm_vote: this judge needs a judge engine and eval starts none"),
    (["eval.benchmarks=[aime2024]"], "unknown benchmark 'aime2024'"),
    (["eval.models=[nonsense]"], "eval.models: 'nonsense': expected teacher, student, trained, checkpoints"),
    (["+eval.overrides.gsm8k.judge=vote", "eval.benchmarks=[gsm8k]", "eval.source=local", f"paths.benchmarks={FIXTURES}"],
     "benchmark 'gsm8k': judge 'vote'; expected one of math, choice, code"),
    (["eval.select_best=math500:avg@n"], "eval.select_best='math500:avg@n': expected <benchmark>:<metric>"),
])
def test_validate_refuses_before_work(overrides, message):
    with pytest.raises(ValueError) as e:
        _eval().validate(_compose(*overrides))
    assert message in str(e.value)


def test_vote_judge_in_eval_only_when_asked():
    from reasonkit.evaluation import grid

    cfg = _compose("judge=vote")
    s = grid.spec(cfg, "dataset")
    assert grid.judge_config(cfg, s).name == "math"  # the run's vote judge does not leak into eval
    cfg = _compose("eval.judge=vote")
    assert grid.judge_config(cfg, grid.spec(cfg, "dataset")).name == "vote"
    _eval().validate(cfg)


# ----------------------------------------------------------------------------- end to end (tiny models)

def _eval_manifest(outputs: Path) -> list[dict]:
    arts = sorted((outputs / "artifacts" / "eval").glob("*/manifest.json"), key=lambda p: p.stat().st_mtime)
    return [json.loads(p.read_text()) for p in arts]


def _cells(outputs: Path) -> dict[str, int]:
    return {p.name: (p / "_SUCCESS").stat().st_mtime_ns for p in (outputs / "artifacts" / "eval_cell").iterdir()
            if (p / "_SUCCESS").exists()}


FAST = ["debug=tiny", "stage=eval", "eval.limit=3", "eval.n=2"]


@pytest.mark.slow
def test_grid_reruns_only_new_cells(rk):
    out = rk.outputs
    rk(*FAST, "eval.models=[teacher]")
    first = _cells(out)
    assert len(first) == 1
    p = rk(*FAST, "eval.models=[teacher,student]")
    second = _cells(out)
    assert len(second) == 2 and all(second[k] == v for k, v in first.items())  # teacher's cell reused
    m = _eval_manifest(out)[-1]
    assert m["eval"]["computed"] == 1 and m["eval"]["reused"] == 1
    assert set(m["metrics"]) == {"teacher/toy", "student/toy"}
    assert "toy" in p.stdout and "avg@2" in p.stdout  # the model × benchmark table
    # the run's judge is not eval's: nothing recomputed
    p = rk(*FAST, "eval.models=[teacher,student]", "judge=vote")
    assert "nothing to compute" in p.stderr + p.stdout and _cells(out) == second
    # sampler.think changes responses: new cells for both models
    rk(*FAST, "eval.models=[teacher,student]", "sampler.think=strip")
    assert len(_cells(out)) == 4
    # a judge eval cannot run is refused before any work, in one line
    p = rk(*FAST, "eval.models=[teacher,student]", "eval.judge=llm", check=False)
    assert p.returncode != 0 and "eval.judge=llm: this judge needs a judge engine" in p.stderr
    assert len(_cells(out)) == 4


@pytest.mark.slow
def test_checkpoint_folder_each_checkpoint_once_and_best_pick(rk, tmp_path, tiny_models):
    run = tmp_path / "run"
    student = next(tiny_models.glob("toy-student-*[!k]"))
    teacher = next(tiny_models.glob("toy-teacher-*[!k]"))
    shutil.copytree(student, run / "checkpoint-10")
    shutil.copytree(teacher, run / "checkpoint-20")
    over = [*FAST, f"eval.models=[{run}]", "eval.select_best=toy:avg@n"]
    rk(*over)
    m = json.loads(next((rk.outputs / "artifacts" / "eval").glob("*/metrics.json")).read_text())
    assert [c["row"] for c in m["cells"]] == [f"{run}@checkpoint-10", f"{run}@checkpoint-20"]
    assert [c["step"] for c in m["cells"]] == [10, 20]
    best = max(m["cells"], key=lambda c: c["avg@2"])  # ties: the earlier checkpoint
    assert m["select_best"]["row"] == best["row"] and m["select_best"]["value"] == best["avg@2"]
    before = _cells(rk.outputs)
    shutil.copytree(teacher, run / "checkpoint-30")  # training went on: one more checkpoint
    p = rk(*over)
    after = _cells(rk.outputs)
    assert len(after) == 3 and all(after[k] == v for k, v in before.items())
    assert _eval_manifest(rk.outputs)[-1]["eval"]["computed"] == 1
    assert "picked on this benchmark" in p.stdout and "toy †" in p.stdout


@pytest.mark.slow
def test_real_benchmark_rows_on_tiny_models(rk):
    """Real rows (local copies) of a math, a choice and a code benchmark through the tiny model and
    the real judges: the grid runs end to end (scores near zero are expected)."""
    p = rk("stage=eval", "eval.models=[student]", "eval.benchmarks=[math500,minerva_math,mmlu_stem,humaneval]",
           "eval.source=local", f"paths.benchmarks={FIXTURES}", "eval.limit=2", "eval.n=2", "eval.ks=[1,2]",
           "eval.sampling.max_tokens=24")
    m = json.loads(next((rk.outputs / "artifacts" / "eval").glob("*/metrics.json")).read_text())
    got = {c["benchmark"]: c for c in m["cells"]}
    assert set(got) == {"math500", "minerva_math", "mmlu_stem", "humaneval"}
    assert {b: c["judge"].split("@")[0] for b, c in got.items()} == {
        "math500": "math", "minerva_math": "math", "mmlu_stem": "choice", "humaneval": "code"}
    for c in got.values():
        assert c["problems"] == 2 and c["samples"] == 4 and 0.0 <= c["avg@2"] <= 1.0
        assert c["ci95"][0] <= c["avg@2"] <= c["ci95"][1]
    assert set(got["math500"]["breakdown"]) == {"subject", "level"}
    recs = [json.loads(x) for x in (Path(got["humaneval"]["artifact"]) / "samples.jsonl").read_text().splitlines()]
    assert len(recs) == 4 and all("tests" not in r["meta"] for r in recs) and all(r["judge"].startswith("code@") for r in recs)
    assert "humaneval" in p.stdout and "mmlu_stem" in p.stdout


@pytest.mark.slow
def test_every_checkpoint_of_the_train_artifact(rk):
    """The pipeline's train stage saves checkpoints (debug=tiny: every 2 of 4 steps); eval.models
    =[checkpoints] evaluates each and the final model; adding a model later computes only it."""
    over = ["debug=tiny", "eval.limit=3", "eval.models=[teacher,checkpoints]"]
    rk(*over)
    m = json.loads(next((rk.outputs / "artifacts" / "eval").glob("*/metrics.json")).read_text())
    assert [c["row"] for c in m["cells"]] == ["teacher", "trained@checkpoint-2", "trained@checkpoint-4", "trained"]
    train = next((rk.outputs / "artifacts" / "train").glob("*/"))
    assert m["cells"][1]["artifact"] != m["cells"][2]["artifact"]
    before = _cells(rk.outputs)
    rk("debug=tiny", "eval.limit=3", "eval.models=[teacher,student,checkpoints]")
    after = _cells(rk.outputs)
    assert len(after) == 5 and all(after[k] == v for k, v in before.items())
    assert (train / "checkpoints" / "checkpoint-4" / "config.json").exists()


def test_model_prompt_overrides_the_benchmarks_and_the_run_prompt_wins():
    from reasonkit.evaluation import grid

    assert _keys("+eval.model_prompts.teacher=r1_zero") != _keys()
    cfg = _compose("eval.models=[teacher,student]", "+eval.model_prompts.teacher=r1_zero")
    rows = {m.row: m for m in grid.resolve_models(cfg, plan=True)}
    s = grid.spec(cfg, "dataset")
    assert grid.for_model(cfg, s, rows["teacher"]).prompt == "r1_zero"
    assert grid.for_model(cfg, s, rows["student"]).prompt == "dataset_instruction"
    cfg = _compose("eval.models=[teacher]", "+eval.model_prompts.teacher=r1_zero", "eval.prompt=boxed")
    m = grid.resolve_models(cfg, plan=True)[0]
    assert grid.for_model(cfg, grid.spec(cfg, "dataset"), m).prompt == "boxed"
    with pytest.raises(ValueError, match="eval.model_prompts: \\['student'\\] not in eval.models"):
        grid.resolve_models(_compose("eval.models=[teacher]", "+eval.model_prompts.student=r1_zero"), plan=True)


def test_prompt_renders_for_generation_too():
    from reasonkit.prompts import load_prompt, render

    assert load_prompt("r1_zero").raw and not load_prompt("boxed").raw
    text = render("r1_zero", problem="What is 2+3?")
    assert text.startswith("A conversation between User and Assistant.") and text.endswith("User: What is 2+3?. Assistant: <think>")
    assert render("dataset_instruction", problem="1+1?", instruction="Put the final answer in \\boxed{}.") == \
        "1+1? Put the final answer in \\boxed{}."
    with pytest.raises(ValueError, match="prompt 'multiple_choice': UndefinedError"):
        render("multiple_choice", problem="q")


def test_table_marks_the_pick_and_names_n():
    from reasonkit.evaluation.stage import select_best, table

    cells = [{"row": r, "benchmark": b, "n": n, f"avg@{n}": v, f"avg@{n}_se": 0.01, "ci95": [v - 0.1, v + 0.1], "model": r}
             for r, b, n, v in [("ck-1", "math500", 4, 0.5), ("ck-2", "math500", 4, 0.6), ("ck-1", "aime24", 16, 0.2),
                                ("ck-2", "aime24", 8, 0.1)]]
    pick = select_best("math500:avg@n", cells)
    assert pick == {"benchmark": "math500", "metric": "avg@n", "row": "ck-2", "model": "ck-2", "value": 0.6}
    head, body = table(cells, pick)
    assert head == ["model", "math500 † avg@4", "aime24"]
    assert body == [["ck-1", "50.0 ± 1.0 [40–60]", "20.0 ± 1.0 [10–30] (avg@16)"],
                    ["ck-2 (picked)", "60.0 ± 1.0 [50–70]", "10.0 ± 1.0 [0–20] (avg@8)"]]
