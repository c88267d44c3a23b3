"""``stage=judge``: stream the generated samples through the configured judge."""
from __future__ import annotations

from typing import Any

from reasonkit.judging import JUDGES, build_judge, code_versions
from reasonkit.pipeline.artifacts import write_sharded
from reasonkit.pipeline.stage import Stage, StageContext, register


def summarize(records_iter, out_counts: dict[str, Any]):
    """Pass records through while counting per-sample and per-problem correctness."""
    per_problem: dict[str, list[int]] = {}
    for r in records_iter:
        c = per_problem.setdefault(r["problem_id"], [0, 0])
        c[0] += bool(r.get("correct"))
        c[1] += 1
        yield r
    n = sum(c[1] for c in per_problem.values())
    right = sum(c[0] for c in per_problem.values())
    out_counts.update(samples=n, correct=right, accuracy=right / n if n else 0.0, problems=len(per_problem),
                      problems_all_right=sum(c[0] == c[1] for c in per_problem.values()),
                      problems_all_wrong=sum(c[0] == 0 for c in per_problem.values()))


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
            engine = build_engine(cfg.sampler, path, revision=cfg.teacher.revision)
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
