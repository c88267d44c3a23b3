"""``stage=score``: the log-likelihood of every judged sample under a model (the student by default).

Runs in-process for one device, or as ``score.world_size`` local processes (one per GPU,
``score_worker.py``) whose rank files are merged by sample id into input order. Either way each
process scores through the engine ``score.backend`` names (``scoring.load_scorer``).
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any

from omegaconf import OmegaConf

from reasonkit.pipeline.artifacts import write_sharded
from reasonkit.pipeline.stage import Stage, StageContext, register
from reasonkit.selection.scoring import ScoreConfig

# rank/world_size/token budget/… change how, not what, is computed: results are identical
NOT_HASHED = ("rank", "world_size", "token_budget", "head_chunk_mb", "block_size", "verify")


def score_config(cfg) -> ScoreConfig:
    """The ``score`` group as a ScoreConfig (defaults when the root config has none)."""
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
        for k in NOT_HASHED:
            sc.pop(k, None)
        return {"score": sc, "student": None if sc["model"] else cfg.student,
                "weights": None if sc["model"] else models.fingerprint(cfg.student)}

    def code(self, cfg):
        from reasonkit.engines.base import LOGLIK_VERSION
        from reasonkit.selection.scoring import SCORER_VERSION

        return {"scorer": SCORER_VERSION, "loglik": LOGLIK_VERSION}

    def label(self, cfg):
        sc = score_config(cfg)
        return f"{cfg.student.name if not sc.model else 'model'}-{sc.template}-{sc.span}"

    def validate(self, cfg) -> None:
        from reasonkit.selection.scoring import check_backend

        check_backend(score_config(cfg).backend)

    def run(self, ctx: StageContext) -> dict[str, Any]:
        from reasonkit.models import load as models
        from reasonkit.selection import score_worker
        from reasonkit.selection.scoring import load_scorer, score_samples

        cfg = ctx.cfg
        sc = score_config(cfg)
        if not sc.model:  # the student, rendered with its system prompt and template as in training
            sc = dataclasses.replace(sc, model=models.resolve(cfg.student, cfg.paths.models),
                                     system=sc.system or cfg.student.system_prompt,
                                     chat_template=sc.chat_template or cfg.student.chat_template)
        t0 = time.time()
        judged = ctx.inputs["judge"]
        if sc.world_size > 1:
            res = score_worker.launch_local(sc, [str(p) for p in judged.shards()],
                                            ctx.out.path / "ranks", sc.world_size)
            merged = res["scores"]
            n = write_sharded(ctx.out.path, ({"id": r["id"], **merged[r["id"]]} for r in judged.records()))
            extra = {"ranks": res["ranks"]}
        else:
            engine, tok = load_scorer(sc)
            timings: dict[str, float] = {}
            try:
                n = write_sharded(ctx.out.path, score_samples(engine, tok, judged.records(), sc, timings))
            finally:
                engine.close()
            extra = {"timings": timings}
        return {"scored": n, "model": sc.model, "backend": sc.backend, "seconds": time.time() - t0, **extra}
