"""``stage=format``: selected samples → training rows in the configured format."""
from __future__ import annotations

from typing import Any

from reasonkit.formats.chat import to_messages
from reasonkit.pipeline.artifacts import write_sharded
from reasonkit.pipeline.stage import Stage, StageContext, register


@register
class FormatStage(Stage):
    name = "format"
    inputs = ("select",)

    def keys(self, cfg):
        return {"format": cfg.format}

    def label(self, cfg):
        return cfg.format.name

    def run(self, ctx: StageContext) -> dict[str, Any]:
        if ctx.cfg.format.name != "chat":
            raise ValueError(f"format.name: unknown format {ctx.cfg.format.name!r}")
        n = write_sharded(ctx.out.path, (to_messages(s, ctx.cfg.format.think)
                                          for s in ctx.inputs["select"].records()))
        if n == 0:
            raise ValueError("format: selection kept no samples; nothing to train on")
        return {"rows": n}
