"""``stage=select``: the configured selection (``strategies.py``) over the judged samples.

``select`` needs the score artifact (``score_stage.py``) only for the strategies that rank by
log-likelihood, so a sweep over correct / shortest / llh_random never loads a model.
"""
from __future__ import annotations

from typing import Any

from reasonkit.pipeline.artifacts import write_sharded
from reasonkit.pipeline.stage import Stage, StageContext, register
from reasonkit.selection.strategies import (
    check_config,
    needs_scores,
    select,
    with_scores,
)
from reasonkit.selection.subsample import check as check_subsample
from reasonkit.selection.subsample import subsample


@register
class SelectStage(Stage):
    name = "select"
    inputs = ("judge",)

    def needs(self, cfg):
        return ("judge", "score") if needs_scores(cfg.selection) else ("judge",)

    def keys(self, cfg):
        return {"selection": cfg.selection}

    def code(self, cfg):
        from reasonkit.selection.strategies import STRATEGIES_VERSION
        from reasonkit.selection.subsample import SUBSAMPLE_VERSION

        extra = {"subsample": SUBSAMPLE_VERSION} if cfg.selection.subsample is not None else {}
        return {"strategies": STRATEGIES_VERSION, **extra}

    def label(self, cfg):
        return cfg.selection.name

    def validate(self, cfg) -> None:
        check_config(cfg.selection)
        check_subsample(cfg.selection)

    def run(self, ctx: StageContext) -> dict[str, Any]:
        stats: dict[str, Any] = {}
        cfg = ctx.cfg.selection

        def selected(stats: dict[str, Any]):
            samples = ctx.inputs["judge"].records()
            if "score" in ctx.inputs:  # streamed alongside, never loaded whole
                samples = with_scores(samples, ctx.inputs["score"].records())
            return select(cfg, samples, stats)

        if cfg.subsample is None:
            write_sharded(ctx.out.path, selected(stats))
        else:  # the selection runs twice (count, then keep); its stats are the last pass's
            def fresh():
                stats.clear()
                return selected(stats)
            sub: dict[str, Any] = {}
            write_sharded(ctx.out.path, subsample(cfg, fresh, sub))
            stats.update(sub)
        return stats
