"""``stage=judge``: stream the generated samples through the configured judge."""
from __future__ import annotations

from typing import Any

from reasonkit.judging import JUDGES, build_judge, code_versions
from reasonkit.pipeline.artifacts import write_sharded
from reasonkit.pipeline.stage import Stage, StageContext, register


def summarize(records_iter, out_counts: dict[str, Any]):
    """Pass records through while counting per-sample and per-problem correctness.

    Samples of a problem arrive together (the judges batch whole problems), so only the current
    problem's tally is held: memory does not grow with the number of problems."""
    n = right = problems = all_right = all_wrong = 0
    pid, c_right, c_n = object(), 0, 0

    def close() -> None:
        nonlocal problems, all_right, all_wrong
        if c_n:
            problems += 1
            all_right += c_right == c_n
            all_wrong += c_right == 0

    for r in records_iter:
        if r["problem_id"] != pid:
            close()
            pid, c_right, c_n = r["problem_id"], 0, 0
        ok = bool(r.get("correct"))
        c_right += ok
        c_n += 1
        right += ok
        n += 1
        yield r
    close()
    out_counts.update(samples=n, correct=right, accuracy=right / n if n else 0.0, problems=problems,
                      problems_all_right=all_right, problems_all_wrong=all_wrong)


@register
class JudgeStage(Stage):
    name = "judge"
    inputs = ("generate",)

    def keys(self, cfg):
        keys = {"judge": cfg.judge}
        if JUDGES.get(cfg.judge.name).needs_engine:  # the judge model's verdicts depend on it
            from reasonkit.generation.samples import sampler_identity
            from reasonkit.models import load as models

            keys.update(model=cfg.teacher, weights=models.fingerprint(cfg.teacher),
                        sampler=sampler_identity(cfg.sampler))
        return keys

    def code(self, cfg):
        return code_versions(cfg.judge)

    def label(self, cfg):
        return cfg.judge.name

    def run(self, ctx: StageContext) -> dict[str, Any]:
        cfg = ctx.cfg
        engine = render = None
        if JUDGES.get(cfg.judge.name).needs_engine:  # the judge model is the run's teacher, through the sampler's backend
            from reasonkit.engines import build_engine
            from reasonkit.models import load as models

            path = models.resolve(cfg.teacher, cfg.paths.models)
            tok = models.tokenizer(path, cfg.teacher.revision, cfg.teacher.chat_template)
            engine = build_engine(cfg.sampler, path, revision=cfg.teacher.revision, model=cfg.teacher)
            render = lambda text: models.render(tok, text, cfg.teacher.system_prompt)  # noqa: E731
        judge = build_judge(cfg.judge, engine, render)
        counts: dict[str, Any] = {}
        try:
            write_sharded(ctx.out.path, summarize(judge.judge(ctx.inputs["generate"].records()), counts))
        finally:
            judge.close()
            if engine is not None:
                engine.close()
        ctx.metrics["judge_stats"] = dict(getattr(judge, "stats", {}))
        return counts
