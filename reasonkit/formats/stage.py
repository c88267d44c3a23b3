"""``stage=format``: selected samples (or preference pairs) → training rows in the configured format."""
from __future__ import annotations

from typing import Any

from reasonkit.formats.writers import check, write
from reasonkit.pipeline.stage import Stage, StageContext, register


@register
class FormatStage(Stage):
    name = "format"
    inputs = ("select",)

    def keys(self, cfg):
        return {"format": cfg.format}

    def code(self, cfg):
        from reasonkit.formats.writers import WRITERS_VERSION
        from reasonkit.think import THINK_VERSION

        return {"writers": WRITERS_VERSION, "think": THINK_VERSION}

    def label(self, cfg):
        return cfg.format.name

    def validate(self, cfg) -> None:
        check(cfg.format)  # unknown name or think mode, format-specific options
        if cfg.format.name == "trl_dpo" and cfg.selection.strategy != "pairs":
            raise ValueError("format=trl_dpo needs preference pairs: set selection.strategy=pairs "
                             "(e.g. selection=pairs_short_long)")

    def run(self, ctx: StageContext) -> dict[str, Any]:
        stats = write(ctx.cfg.format, ctx.inputs["select"].records(), ctx.out.path)
        if stats["rows"] == 0:
            raise ValueError("format: selection kept no samples; nothing to train on")
        return stats
