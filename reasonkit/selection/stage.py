"""``stage=select``: keep the samples the configured strategy chooses, with counts per rule."""
from __future__ import annotations

from typing import Any

from reasonkit.pipeline.artifacts import write_sharded
from reasonkit.pipeline.stage import Stage, StageContext, register
from reasonkit.selection.strategies import select


@register
class SelectStage(Stage):
    name = "select"
    inputs = ("judge",)

    def keys(self, cfg):
        return {"selection": cfg.selection}

    def label(self, cfg):
        return cfg.selection.name

    def run(self, ctx: StageContext) -> dict[str, Any]:
        stats: dict[str, Any] = {}
        write_sharded(ctx.out.path, select(ctx.cfg.selection, ctx.inputs["judge"].records(), stats))
        return stats
