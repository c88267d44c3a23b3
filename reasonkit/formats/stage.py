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
        from reasonkit.formats import mix

        extra = {"mix_data": mix.checksums(cfg.format)} if cfg.format.mix_files else {}
        return {"format": cfg.format, **extra}

    def code(self, cfg):
        from reasonkit.formats.mix import MIX_VERSION
        from reasonkit.formats.writers import WRITERS_VERSION
        from reasonkit.think import THINK_VERSION

        extra = {"mix": MIX_VERSION} if cfg.format.mix_files else {}
        return {"writers": WRITERS_VERSION, "think": THINK_VERSION, **extra}

    def label(self, cfg):
        return cfg.format.name

    def validate(self, cfg) -> None:
        from reasonkit.formats import mix

        check(cfg.format)  # unknown name or think mode, format-specific options
        mix.check(cfg.format)
        if cfg.format.name == "trl_dpo" and cfg.selection.strategy != "pairs":
            raise ValueError("format=trl_dpo needs preference pairs: set selection.strategy=pairs "
                             "(e.g. selection=pairs_short_long)")

    def run(self, ctx: StageContext) -> dict[str, Any]:
        from itertools import chain

        from reasonkit.formats import mix

        records = ctx.inputs["select"].records()
        mixed = [0]

        def counted(recs):
            for r in recs:
                mixed[0] += 1
                yield r
        if ctx.cfg.format.mix_files:
            records = chain(records, counted(mix.records(ctx.cfg.format)))
        stats = write(ctx.cfg.format, records, ctx.out.path)
        if ctx.cfg.format.mix_files:
            stats["mixed_rows"] = mixed[0]
        if stats["rows"] == 0:
            raise ValueError("format: selection kept no samples; nothing to train on")
        return stats
