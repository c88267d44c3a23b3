"""``format=critique``: critique-fine-tuning (CFT) rows, i.e. instruction + question + candidate
solution → the target label (``format.critique_labels``: right, wrong), as chat messages in
``part-*.jsonl`` and as a verl-style ``<split>.parquet`` with ``ability=critique``, whose
``extra_info`` carries the critiqued solution, the question's reference answer and the model that
wrote the solution (CFT mixes several generators), and ``data_source`` = ``format.data_source``."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reasonkit.formats.chat import apply_think
from reasonkit.formats.verl import ParquetRows, verl_row
from reasonkit.formats.writers import WRITERS, Format, Row, need, no_split
from reasonkit.pipeline.artifacts import write_sharded


def check(cfg: Any) -> None:
    if len(cfg.critique_labels) != 2:
        raise ValueError("format.critique_labels: expected [right_label, wrong_label]")
    no_split(cfg)


def critique_prompt(cfg: Any, question: str, candidate: str) -> str:
    return f"{cfg.critique_instruction}\n\nQuestion:\n{question}\n\nCandidate solution:\n{candidate}"


def row_critique(cfg: Any, r: dict[str, Any]) -> Row:
    need(r, ("prompt", "response", "correct"), "critique")
    if not isinstance(r["correct"], bool):
        raise ValueError(f"record {r.get('id')}: field 'correct': expected true/false for critique targets")
    right, wrong = cfg.critique_labels
    candidate, _ = apply_think(r["response"], no_split(cfg))
    target = right if r["correct"] else wrong
    return {"id": r["id"], "problem_id": r.get("problem_id"), "instruction": cfg.critique_instruction,
            "question": r["prompt"], "candidate": candidate, "target": target,
            "answer": r.get("answer"), "model": r.get("model"),
            "messages": [{"role": "user", "content": critique_prompt(cfg, r["prompt"], candidate)},
                         {"role": "assistant", "content": target}]}


def write_critique(cfg: Any, rows: Iterator[Row], out: Path, stats: dict[str, Any]) -> None:
    pq = ParquetRows(out / f"{cfg.split}.parquet")
    labels = {lab: 0 for lab in cfg.critique_labels}

    def tee_critique():
        for i, row in enumerate(rows):
            labels[row["target"]] += 1
            pq.add(verl_row(cfg, index=i, problem_id=row["problem_id"], sample_id=row["id"],
                            prompt_text=row["messages"][0]["content"], ability="critique",
                            ground_truth=row["target"], response=None, answer=row["answer"],
                            solution=row["candidate"], model=row["model"]))
            yield row
    try:
        stats["rows"] = write_sharded(out, tee_critique())
    finally:
        pq.close()
    stats["targets"] = labels
    stats["files"] = [f"{cfg.split}.parquet"]


WRITERS.register("critique")(Format(row=row_critique, files=write_critique, check=check))
