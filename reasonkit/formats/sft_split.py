"""``format=sft_split``: chat rows with ``is_correct``, written twice over (``sft_all.jsonl`` and
``sft_correct.jsonl``, the SFT-on-all vs SFT-on-correct ablation from one selection) while the
``part-*.jsonl`` shards the train stage reads hold the side chosen by ``format.train_on``."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reasonkit.formats.chat import row_chat
from reasonkit.formats.writers import WRITERS, Format, Row
from reasonkit.pipeline.artifacts import write_sharded


def check(cfg: Any) -> None:
    if cfg.train_on not in ("correct", "all"):
        raise ValueError(f"format.train_on: expected correct or all, got {cfg.train_on!r}")


def row_sft_split(cfg: Any, r: dict[str, Any]) -> Row:
    row = row_chat(cfg, r)
    if not isinstance(r.get("correct"), bool):
        raise ValueError(f"record {r.get('id')}: field 'correct': expected true/false for "
                         "format=sft_split (run stage=judge and select with strategy=all)")
    row["is_correct"] = r["correct"]
    return row


def write_split(cfg: Any, rows: Iterator[Row], out: Path, stats: dict[str, Any]) -> None:
    n_all = n_right = 0
    with (out / "sft_all.jsonl").open("w", encoding="utf-8") as fa, \
            (out / "sft_correct.jsonl").open("w", encoding="utf-8") as fc:
        def tee_split():
            nonlocal n_all, n_right
            for row in rows:
                line = json.dumps(row, ensure_ascii=False) + "\n"
                fa.write(line)
                n_all += 1
                if row["is_correct"]:
                    fc.write(line)
                    n_right += 1
                if cfg.train_on == "all" or row["is_correct"]:
                    yield row
        stats["rows"] = write_sharded(out, tee_split())
    stats.update(sft_all=n_all, sft_correct=n_right, train_on=cfg.train_on,
                 files=["sft_all.jsonl", "sft_correct.jsonl"])


WRITERS.register("sft_split")(Format(row=row_sft_split, files=write_split, check=check))
