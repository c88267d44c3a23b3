"""``stage=eval``: n samples per test problem for each model row (teacher, base student, trained
student…), judged with the run's judge, summarised as avg@n ± s.e., pass@k and maj@k."""
from __future__ import annotations

import json
from typing import Any

from omegaconf import OmegaConf

from reasonkit.data import load as data
from reasonkit.engines import build_engine
from reasonkit.engines.generate import generate_samples
from reasonkit.evaluation.metrics import summarize
from reasonkit.judging import build_judge
from reasonkit.models import load as models
from reasonkit.pipeline.artifacts import write_shard
from reasonkit.pipeline.stage import Stage, StageContext, register


@register
class EvalStage(Stage):
    name = "eval"
    version = 2
    inputs = ("train",)

    def needs(self, cfg):
        return ("train",) if "trained" in cfg.eval.models else ()

    def keys(self, cfg):
        return {"eval": cfg.eval, "dataset": cfg.dataset, "data": data.check(cfg.dataset, cfg.eval.split),
                "judge": cfg.judge, "backend": cfg.sampler.backend, "engine": cfg.sampler.engine,
                "models": {r: {"cfg": cfg[r], "weights": models.fingerprint(cfg[r])}
                           for r in cfg.eval.models if r != "trained"}}

    def label(self, cfg):
        return f"{cfg.eval.name}-{cfg.dataset.name}"

    def _model(self, ctx: StageContext, row: str) -> tuple[str, str, Any]:
        cfg = ctx.cfg
        if row == "trained":
            return f"{cfg.student.name}+{cfg.trainer.name}", str(ctx.inputs["train"].path / "model"), cfg.student
        if row not in ("teacher", "student"):
            raise ValueError(f"eval.models: expected teacher, student or trained, got {row!r}")
        m = cfg[row]
        return m.name, models.resolve(m, cfg.paths.models), m

    def run(self, ctx: StageContext) -> dict[str, Any]:
        cfg = ctx.cfg
        problems = list(data.problems(cfg.dataset, cfg.eval.split))
        sampler = OmegaConf.merge(cfg.sampler, {"shards": 1, "shard": None})
        results: dict[str, Any] = {}
        checker = None
        if cfg.judge.name in ("math", "vote", "judge_vote"):  # maj@k clusters by math equivalence
            from reasonkit.judging import to_config
            from reasonkit.judging.mathcheck import MathChecker

            checker = MathChecker(to_config(cfg.judge))
        for row in cfg.eval.models:
            name, path, mcfg = self._model(ctx, row)
            tok = models.tokenizer(path, None, mcfg.chat_template)
            engine = build_engine(sampler, path)
            judge = build_judge(cfg.judge)
            groups: dict[str, list] = {}
            try:
                def judged():
                    for batch in generate_samples(
                            engine, tok, problems, n=cfg.eval.n, seed=cfg.eval.seed,
                            sampling=dict(cfg.eval.sampling), model_name=name, system=mcfg.system_prompt,
                            batch_problems=max(1, cfg.sampler.batch_size // cfg.eval.n), chat=cfg.sampler.chat,
                            instruction=lambda q: data.with_instruction(cfg.dataset, q), progress=f"eval {row}"):
                        for s in judge.judge(batch):
                            groups.setdefault(s["problem_id"], []).append((s["extracted"], bool(s["correct"])))
                            yield s
                write_shard(ctx.out.path / f"samples-{row}.jsonl", judged())
            finally:
                engine.close()
                judge.close()
            results[row] = {"model": name, "path": path,
                            **summarize(groups, list(cfg.eval.ks), checker.equal if checker else None)}
            ctx.log.info("[eval] %s: %s", row, {k: round(v, 3) if isinstance(v, float) else v
                                                   for k, v in results[row].items() if k != "path"})
        if checker:
            checker.close()
        (ctx.out.path / "metrics.json").write_text(json.dumps(results, indent=2))
        if ctx.tracker:
            ctx.tracker.table("eval", [{"row": r, **v} for r, v in results.items()])
        return results
