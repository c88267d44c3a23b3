"""``stage=score`` (log-likelihood of every judged sample under a model) and ``stage=select``.

``select`` needs the score artifact only for the strategies that rank by log-likelihood, so a
sweep over correct / shortest / llh_random never loads a model. ``score`` runs in-process for one
device, or as ``world_size`` local processes (one per GPU) whose rank files are merged by sample
id into input order.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from omegaconf import OmegaConf

from reasonkit.pipeline.artifacts import write_sharded
from reasonkit.pipeline.stage import Stage, StageContext, register
from reasonkit.selection.strategies import check_config, needs_scores, select, with_scores


def score_config(cfg) -> Any:
    """The ``score`` group as a ScoreConfig (defaults when the root config has none)."""
    from reasonkit.selection.scoring import ScoreConfig

    node = cfg.get("score") if hasattr(cfg, "get") else None
    if node is None:
        return ScoreConfig()
    data = OmegaConf.to_container(node, resolve=True)
    known = {f.name for f in dataclasses.fields(ScoreConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"score: unknown keys {unknown}; expected {sorted(known)}")
    return ScoreConfig(**data)


@register
class ScoreStage(Stage):
    name = "score"
    inputs = ("judge",)

    def keys(self, cfg):
        from reasonkit.models import load as models

        sc = dataclasses.asdict(score_config(cfg))
        # rank/world_size/token budget change how, not what, is computed: results are identical
        for k in ("rank", "world_size", "token_budget", "head_chunk_mb", "block_size", "verify"):
            sc.pop(k, None)
        return {"score": sc, "student": None if sc["model"] else cfg.student,
                "weights": None if sc["model"] else models.fingerprint(cfg.student)}

    def label(self, cfg):
        sc = score_config(cfg)
        return f"{cfg.student.name if not sc.model else 'model'}-{sc.template}-{sc.span}"

    def run(self, ctx: StageContext) -> dict[str, Any]:
        import time

        from reasonkit.models import load as models
        from reasonkit.selection import score_worker
        from reasonkit.selection.scoring import load_model, score_samples

        cfg = ctx.cfg
        sc = score_config(cfg)
        uses_student = not sc.model
        if uses_student:
            sc = dataclasses.replace(sc, model=models.resolve(cfg.student, cfg.paths.models),
                                     system=sc.system or cfg.student.system_prompt)
        t0 = time.time()
        judged = ctx.inputs["judge"]
        if sc.backend == "vllm":
            from vllm import LLM

            from reasonkit.selection.scoring import score_samples_vllm

            tok = models.tokenizer(sc.model, None, cfg.student.chat_template if uses_student else None)
            llm = LLM(model=sc.model, **sc.vllm)
            n = write_sharded(ctx.out.path, score_samples_vllm(llm, tok, judged.records(), sc))
            extra = {"backend": "vllm"}
        elif sc.world_size > 1:
            res = score_worker.launch_local(sc, [str(p) for p in judged.shards()],
                                            ctx.out.path / "ranks", sc.world_size)
            merged = res["scores"]
            n = write_sharded(ctx.out.path, ({"id": r["id"], **merged[r["id"]]} for r in judged.records()))
            extra = {"ranks": res["ranks"]}
        else:
            model, _ = load_model(sc)
            # the student's chat-template override applies, as in training
            tok = models.tokenizer(sc.model, None, cfg.student.chat_template if uses_student else None)
            timings: dict[str, float] = {}
            n = write_sharded(ctx.out.path, score_samples(model, tok, judged.records(), sc, timings))
            extra = {"timings": timings}
        return {"scored": n, "model": sc.model, "seconds": time.time() - t0, **extra}


@register
class SelectStage(Stage):
    name = "select"
    inputs = ("judge",)

    def needs(self, cfg):
        return ("judge", "score") if needs_scores(cfg.selection) else ("judge",)

    def keys(self, cfg):
        return {"selection": cfg.selection}

    def label(self, cfg):
        return cfg.selection.name

    def validate(self, cfg) -> None:
        check_config(cfg.selection)

    def run(self, ctx: StageContext) -> dict[str, Any]:
        stats: dict[str, Any] = {}
        samples = ctx.inputs["judge"].records()
        if "score" in ctx.inputs:  # streamed alongside, never loaded whole
            samples = with_scores(samples, ctx.inputs["score"].records())
        write_sharded(ctx.out.path, select(ctx.cfg.selection, samples, stats))
        return stats
