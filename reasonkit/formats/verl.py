"""``format=verl``: prompt rows for verl's RL trainer, as ``<split>.parquet`` (plus the usual
``part-*.jsonl``). Parquet files are written with an explicit pyarrow schema so every row group
agrees on nested types; ``critique.py`` writes its parquet through the same schema."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reasonkit.formats.writers import WRITERS, Format, Row, need
from reasonkit.pipeline.artifacts import write_sharded


def verl_schema():
    import pyarrow as pa

    msg = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema([
        ("data_source", pa.string()),
        ("prompt", pa.list_(msg)),
        ("ability", pa.string()),
        ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
        ("extra_info", pa.struct([("split", pa.string()), ("index", pa.int64()),
                                  ("problem_id", pa.string()), ("sample_id", pa.string()),
                                  ("question", pa.string()), ("response", pa.string()),
                                  # the question's reference answer, the judged solution and the
                                  # model that wrote it (CFT rows: the critiqued candidate)
                                  ("answer", pa.string()), ("solution", pa.string()),
                                  ("model", pa.string())])),
    ])


class ParquetRows:
    """Streams verl rows into one parquet file in row groups of ``batch`` rows."""

    def __init__(self, path: Path, batch: int = 10_000):
        import pyarrow.parquet as pq

        self.schema = verl_schema()
        self.writer = pq.ParquetWriter(str(path), self.schema)
        self.rows: list[dict[str, Any]] = []
        self.batch = batch
        self.n = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.n += 1
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


def verl_row(cfg: Any, *, index: int, problem_id: str | None, sample_id: str, prompt_text: str,
             ability: str, ground_truth: Any, response: str | None, answer: Any = None,
             solution: str | None = None, model: str | None = None) -> dict[str, Any]:
    msgs = ([{"role": "system", "content": cfg.system}] if cfg.system else []) + [
        {"role": "user", "content": prompt_text}]
    return {"data_source": cfg.data_source or cfg.dataset_name, "prompt": msgs, "ability": ability,
            "reward_model": {"style": cfg.reward_style,
                             "ground_truth": None if ground_truth is None else str(ground_truth)},
            "extra_info": {"split": cfg.split, "index": index, "problem_id": problem_id,
                           "sample_id": sample_id, "question": prompt_text, "response": response,
                           "answer": None if answer is None else str(answer), "solution": solution,
                           "model": model}}


def row_verl(cfg: Any, r: dict[str, Any]) -> Row:
    need(r, ("prompt",), "verl")
    return {"id": r["id"], "problem_id": r.get("problem_id"), "prompt": r["prompt"],
            "answer": r.get("answer"), "response": r.get("response"), "model": r.get("model")}


def write_verl(cfg: Any, rows: Iterator[Row], out: Path, stats: dict[str, Any]) -> None:
    pq = ParquetRows(out / f"{cfg.split}.parquet")

    def tee_verl():
        for i, row in enumerate(rows):
            pq.add(verl_row(cfg, index=i, problem_id=row["problem_id"], sample_id=row["id"],
                            prompt_text=row["prompt"], ability=cfg.ability,
                            ground_truth=row["answer"], response=row["response"],
                            answer=row["answer"], model=row["model"]))
            yield row
    try:
        stats["rows"] = write_sharded(out, tee_verl())
    finally:
        pq.close()
    stats["files"] = [f"{cfg.split}.parquet"]


WRITERS.register("verl")(Format(row=row_verl, files=write_verl))
