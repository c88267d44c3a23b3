"""``format=sharegpt`` and ``format=alpaca``: LLaMA-Factory rows.

Rows go to ``llamafactory/`` next to a ``dataset_info.json`` that registers that folder
(LLaMA-Factory loads a folder whose files share one type). The train stage does not read them.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reasonkit.formats.chat import apply_think
from reasonkit.formats.writers import WRITERS, Format, Row, need, no_split
from reasonkit.pipeline.artifacts import write_sharded

LF_DIR = "llamafactory"


def row_sharegpt(cfg: Any, r: dict[str, Any]) -> Row:
    need(r, ("prompt", "response"), "sharegpt")
    content, _ = apply_think(r["response"], no_split(cfg))
    row = {"id": r["id"], "conversations": [{"from": "human", "value": r["prompt"]},
                                            {"from": "gpt", "value": content}]}
    if cfg.system:
        row["system"] = cfg.system
    return row


def row_alpaca(cfg: Any, r: dict[str, Any]) -> Row:
    need(r, ("prompt", "response"), "alpaca")
    content, _ = apply_think(r["response"], no_split(cfg))
    row = {"id": r["id"], "instruction": r["prompt"], "input": "", "output": content}
    if cfg.system:
        row["system"] = cfg.system
    return row


def dataset_info(cfg: Any) -> dict[str, Any]:
    """The ``dataset_info.json`` entry that tells LLaMA-Factory how to read the rows."""
    entry: dict[str, Any] = {"file_name": LF_DIR}
    if cfg.name == "sharegpt":
        entry.update(formatting="sharegpt",
                     columns={"messages": "conversations", **({"system": "system"} if cfg.system else {})},
                     tags={"role_tag": "from", "content_tag": "value", "user_tag": "human",
                           "assistant_tag": "gpt"})
    else:
        entry.update(formatting="alpaca",
                     columns={"prompt": "instruction", "query": "input", "response": "output",
                              **({"system": "system"} if cfg.system else {})})
    return {cfg.dataset_name: entry}


def write_llamafactory(cfg: Any, rows: Iterator[Row], out: Path, stats: dict[str, Any]) -> None:
    (out / LF_DIR).mkdir(exist_ok=True)
    stats["rows"] = write_sharded(out / LF_DIR, rows)
    (out / "dataset_info.json").write_text(json.dumps(dataset_info(cfg), indent=2))
    stats["files"] = ["dataset_info.json", LF_DIR]


WRITERS.register("sharegpt")(Format(row=row_sharegpt, files=write_llamafactory, check=no_split))
WRITERS.register("alpaca")(Format(row=row_alpaca, files=write_llamafactory, check=no_split))
