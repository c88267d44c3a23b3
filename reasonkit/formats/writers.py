"""Training-data writers: selected records → the layout each trainer reads.

``write(cfg, records, out_dir)`` streams the records once. Rows go to ``part-*.jsonl`` (what
``stage=train`` reads with ``datasets``), except the LLaMA-Factory formats, whose rows go to
``llamafactory/`` next to a ``dataset_info.json`` that registers that folder (LLaMA-Factory loads a
folder whose files share one type). Parquet files (verl, CFT) are written with an explicit pyarrow
schema so every row group agrees on nested types.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from reasonkit.formats.chat import apply_think, messages
from reasonkit.formats.config import FORMATS
from reasonkit.pipeline.artifacts import write_sharded
from reasonkit.records import SeenIds

LF_DIR = "llamafactory"


def _need(rec: dict[str, Any], fields: tuple[str, ...], fmt: str) -> None:
    for f in fields:
        if f not in rec:
            raise ValueError(f"record {rec.get('id', '?')}: field '{f}': missing (format={fmt} "
                             f"expects {list(fields)}; pairs come from selection.strategy=pairs)")


def cap_per_problem(records: Iterable[dict[str, Any]], k: int | None, stats: dict[str, int]
                    ) -> Iterator[dict[str, Any]]:
    """At most ``k`` records per problem. Selections come grouped by problem, so only the current
    problem's count is held (memory flat in the number of problems); a problem seen again after
    others would be capped wrongly, so it is refused."""
    closed = SeenIds() if k is not None else None
    pid: Any = None
    count = 0
    for r in records:
        if k is None:
            yield r
            continue
        key = r.get("problem_id", r.get("id"))
        if key != pid:
            if pid is not None:
                closed.add(str(pid))
            if str(key) in closed:
                raise ValueError(f"record {r.get('id')!r}: problem {key!r} appears again after other problems; "
                                 "format.max_per_problem needs each problem's records together (as select writes them)")
            pid, count = key, 0
        count += 1
        if count > k:
            stats["dropped_over_max_per_problem"] = stats.get("dropped_over_max_per_problem", 0) + 1
            continue
        yield r


# ------------------------------------------------------------------ row builders


def row_chat(cfg, r):
    _need(r, ("prompt", "response"), "chat")
    return {"id": r["id"], "problem_id": r.get("problem_id"),
            "messages": messages(r["prompt"], r["response"], cfg.think, cfg.system)}


def row_sharegpt(cfg, r):
    _need(r, ("prompt", "response"), "sharegpt")
    content, _ = apply_think(r["response"], _no_split(cfg))
    row = {"id": r["id"], "conversations": [{"from": "human", "value": r["prompt"]},
                                            {"from": "gpt", "value": content}]}
    if cfg.system:
        row["system"] = cfg.system
    return row


def row_alpaca(cfg, r):
    _need(r, ("prompt", "response"), "alpaca")
    content, _ = apply_think(r["response"], _no_split(cfg))
    row = {"id": r["id"], "instruction": r["prompt"], "input": "", "output": content}
    if cfg.system:
        row["system"] = cfg.system
    return row


def _no_split(cfg) -> str:
    if cfg.think == "split":
        raise ValueError(f"format.think=split needs a message format; {cfg.name} has no "
                         "reasoning field (use keep or strip)")
    return cfg.think


def _turn(cfg, role: str, text: str):
    if role == "assistant":
        content, reasoning = apply_think(text, cfg.think)
        if not cfg.conversational:
            if reasoning is not None:
                raise ValueError("format.think=split needs format.conversational=true")
            return content
        msg = {"role": "assistant", "content": content}
        if reasoning is not None:
            msg["reasoning_content"] = reasoning
        return [msg]
    if not cfg.conversational:
        return text
    return ([{"role": "system", "content": cfg.system}] if cfg.system else []) + [
        {"role": "user", "content": text}]


def row_trl_pc(cfg, r):
    _need(r, ("prompt", "response"), "trl_prompt_completion")
    return {"id": r["id"], "prompt": _turn(cfg, "user", r["prompt"]),
            "completion": _turn(cfg, "assistant", r["response"])}


def row_trl_dpo(cfg, r):
    _need(r, ("prompt", "chosen", "rejected"), "trl_dpo")
    return {"id": r["id"], "prompt": _turn(cfg, "user", r["prompt"]),
            "chosen": _turn(cfg, "assistant", r["chosen"]),
            "rejected": _turn(cfg, "assistant", r["rejected"]), "pair_type": r.get("pair_type")}


def row_sft_split(cfg, r):
    row = row_chat(cfg, r)
    if not isinstance(r.get("correct"), bool):
        raise ValueError(f"record {r.get('id')}: field 'correct': expected true/false for "
                         "format=sft_split (run stage=judge and select with strategy=all)")
    row["is_correct"] = r["correct"]
    return row


def critique_prompt(cfg, question: str, candidate: str) -> str:
    return f"{cfg.critique_instruction}\n\nQuestion:\n{question}\n\nCandidate solution:\n{candidate}"


def row_critique(cfg, r):
    _need(r, ("prompt", "response", "correct"), "critique")
    if not isinstance(r["correct"], bool):
        raise ValueError(f"record {r.get('id')}: field 'correct': expected true/false for critique targets")
    right, wrong = cfg.critique_labels
    candidate, _ = apply_think(r["response"], _no_split(cfg))
    target = right if r["correct"] else wrong
    return {"id": r["id"], "problem_id": r.get("problem_id"), "instruction": cfg.critique_instruction,
            "question": r["prompt"], "candidate": candidate, "target": target,
            "answer": r.get("answer"),
            "messages": [{"role": "user", "content": critique_prompt(cfg, r["prompt"], candidate)},
                         {"role": "assistant", "content": target}]}


def row_verl(cfg, r):
    _need(r, ("prompt",), "verl")
    return {"id": r["id"], "problem_id": r.get("problem_id"), "prompt": r["prompt"],
            "answer": r.get("answer"), "response": r.get("response")}


BUILDERS: dict[str, Callable] = {
    "chat": row_chat, "sharegpt": row_sharegpt, "alpaca": row_alpaca,
    "trl_prompt_completion": row_trl_pc, "trl_dpo": row_trl_dpo, "verl": row_verl,
    "critique": row_critique, "sft_split": row_sft_split}


# ------------------------------------------------------------------ parquet (verl)


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
                                  ("question", pa.string()), ("response", pa.string())])),
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


def verl_row(cfg, *, index: int, problem_id: str | None, sample_id: str, prompt_text: str,
             ability: str, ground_truth: Any, response: str | None) -> dict[str, Any]:
    msgs = ([{"role": "system", "content": cfg.system}] if cfg.system else []) + [
        {"role": "user", "content": prompt_text}]
    return {"data_source": cfg.data_source or cfg.dataset_name, "prompt": msgs, "ability": ability,
            "reward_model": {"style": cfg.reward_style,
                             "ground_truth": None if ground_truth is None else str(ground_truth)},
            "extra_info": {"split": cfg.split, "index": index, "problem_id": problem_id,
                           "sample_id": sample_id, "question": prompt_text, "response": response}}


# ------------------------------------------------------------------ entry point


def write(cfg: Any, records: Iterable[dict[str, Any]], out_dir: str | Path) -> dict[str, Any]:
    """Write ``records`` (selected samples, or pairs for trl_dpo) in format ``cfg.name``."""
    if cfg.name not in FORMATS:
        raise ValueError(f"format.name: expected one of {list(FORMATS)}, got {cfg.name!r}")
    if cfg.think not in ("keep", "strip", "split"):
        raise ValueError(f"format.think: expected keep, strip or split, got {cfg.think!r}")
    if cfg.name == "sft_split" and cfg.train_on not in ("correct", "all"):
        raise ValueError(f"format.train_on: expected correct or all, got {cfg.train_on!r}")
    if len(cfg.critique_labels) != 2:
        raise ValueError("format.critique_labels: expected [right_label, wrong_label]")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stats: dict[str, Any] = {"format": cfg.name}
    build = BUILDERS[cfg.name]
    rows = (build(cfg, r) for r in cap_per_problem(records, cfg.max_per_problem, stats))

    if cfg.name in ("sharegpt", "alpaca"):
        (out / LF_DIR).mkdir(exist_ok=True)
        stats["rows"] = write_sharded(out / LF_DIR, rows)
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
        (out / "dataset_info.json").write_text(json.dumps({cfg.dataset_name: entry}, indent=2))
        stats["files"] = ["dataset_info.json", LF_DIR]
    elif cfg.name == "verl":
        pq = ParquetRows(out / f"{cfg.split}.parquet")

        def tee_verl():
            for i, row in enumerate(rows):
                pq.add(verl_row(cfg, index=i, problem_id=row["problem_id"], sample_id=row["id"],
                                prompt_text=row["prompt"], ability=cfg.ability,
                                ground_truth=row["answer"], response=row["response"]))
                yield row
        try:
            stats["rows"] = write_sharded(out, tee_verl())
        finally:
            pq.close()
        stats["files"] = [f"{cfg.split}.parquet"]
    elif cfg.name == "critique":
        pq = ParquetRows(out / f"{cfg.split}.parquet")
        labels = {lab: 0 for lab in cfg.critique_labels}

        def tee_critique():
            for i, row in enumerate(rows):
                labels[row["target"]] += 1
                pq.add(verl_row(cfg, index=i, problem_id=row["problem_id"], sample_id=row["id"],
                                prompt_text=row["messages"][0]["content"], ability="critique",
                                ground_truth=row["target"], response=None))
                yield row
        try:
            stats["rows"] = write_sharded(out, tee_critique())
        finally:
            pq.close()
        stats["targets"] = labels
        stats["files"] = [f"{cfg.split}.parquet"]
    elif cfg.name == "sft_split":
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
    else:
        stats["rows"] = write_sharded(out, rows)
    return stats
