"""Training-data writers: selected records → the layout each trainer reads.

``write(cfg, records, out_dir)`` streams the records once through the ``Format`` registered under
``format.name`` (``conf/format/<option>.yaml`` → ``WRITERS`` → the module named in its table).
A format is a row builder plus the files its rows go to: ``part-*.jsonl`` shards by default (what
``stage=train`` reads with ``datasets``), and the consumer's own side files where it has them
(LLaMA-Factory's ``dataset_info.json``, verl parquet, the two SFT-split files).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasonkit.pipeline.artifacts import write_sharded
from reasonkit.records import SeenIds
from reasonkit.registry import Registry

THINK = ("keep", "strip", "split")

# Which trainer reads each format's rows (trainer.kind), or None: LLaMA-Factory (sharegpt, alpaca)
# and verl rows are written for those frameworks, not for the train stage.
TRAINED_BY: dict[str, str | None] = {
    "chat": "sft", "sft_split": "sft", "critique": "sft", "trl_prompt_completion": "sft", "trl_dpo": "dpo",
    "sharegpt": None, "alpaca": None, "verl": None}

# Row layouts and file sets of every format; bump on any change to what a writer produces.
WRITERS_VERSION = "3"

Row = dict[str, Any]


def write_parts(cfg: Any, rows: Iterator[Row], out: Path, stats: dict[str, Any]) -> None:
    """The default file set: rows as ``part-*.jsonl`` shards and nothing else."""
    stats["rows"] = write_sharded(out, rows)


@dataclass(frozen=True)
class Format:
    """One ``format.name``: ``row`` turns a selected record into a training row, ``files`` writes
    the row stream (and fills ``stats``), ``check`` refuses a bad option before any row is built."""

    row: Callable[[Any, dict[str, Any]], Row]
    files: Callable[[Any, Iterator[Row], Path, dict[str, Any]], None] = write_parts
    check: Callable[[Any], None] | None = None


# format.name=<value> → the module that registers it
WRITERS: Registry[Format] = Registry("format.name", "reasonkit.formats", modules={
    "chat": "chat", "sft_split": "sft_split", "sharegpt": "llamafactory", "alpaca": "llamafactory",
    "trl_prompt_completion": "trl", "trl_dpo": "trl", "verl": "verl", "critique": "critique"})


def get_format(name: str) -> Format:
    """The registered format, or a ValueError naming ``format.name`` and the known values."""
    try:
        return WRITERS.get(name)
    except KeyError as e:
        raise ValueError(e.args[0]) from None


def check(cfg: Any) -> Format:
    """Refuse a bad format config (unknown name, think mode, format-specific options)."""
    f = get_format(cfg.name)
    if cfg.think not in THINK:
        raise ValueError(f"format.think: expected keep, strip or split, got {cfg.think!r}")
    if f.check is not None:
        f.check(cfg)
    return f


def need(rec: dict[str, Any], fields: tuple[str, ...], fmt: str) -> None:
    for f in fields:
        if f not in rec:
            raise ValueError(f"record {rec.get('id', '?')}: field '{f}': missing (format={fmt} "
                             f"expects {list(fields)}; pairs come from selection.strategy=pairs)")


def no_split(cfg: Any) -> str:
    """``format.think`` for formats whose rows have no reasoning field."""
    if cfg.think == "split":
        raise ValueError(f"format.think=split needs a message format; {cfg.name} has no "
                         "reasoning field (use keep or strip)")
    return cfg.think


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


def write(cfg: Any, records: Iterable[dict[str, Any]], out_dir: str | Path) -> dict[str, Any]:
    """Write ``records`` (selected samples, or pairs for trl_dpo) in format ``cfg.name``."""
    f = check(cfg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stats: dict[str, Any] = {"format": cfg.name}
    rows = (f.row(cfg, r) for r in cap_per_problem(records, cfg.max_per_problem, stats))
    f.files(cfg, rows, out, stats)
    return stats
