"""The paper table of a sweep: rows = members (plus baseline models once), columns = benchmark ×
metric, each cell a mean with its uncertainty, the best member per column marked."""
from __future__ import annotations

import fnmatch
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from reasonkit.report.collect import PICKED, Cell, MemberData

Z95 = 1.959963984540054
# What a sweep table shows (rows, labels, notes); the report stage hashes it. 2: eval.select_best's
# pick stands for the trained row, labelled, with a note when a column is the pick's benchmark.
TABLE_VERSION = "2"
_SUFFIXES = ("_se", "_lo", "_hi", "_ci", "_std")


@dataclass(frozen=True)
class Column:
    benchmark: str
    metric: str

    @property
    def name(self) -> str:
        return f"{self.benchmark}/{self.metric}"


@dataclass
class Value:
    mean: float
    lo: Optional[float] = None        # interval bounds (se: mean ± se; ci95: the 95 % interval)
    hi: Optional[float] = None
    se: Optional[float] = None
    best: bool = False


@dataclass
class Row:
    label: str
    kind: str                         # "baseline" | "member"
    member: Optional[str] = None      # member key
    values: dict[str, Value] = field(default_factory=dict)   # by Column.name
    missing: list[str] = field(default_factory=list)


@dataclass
class SweepTable:
    title: str
    columns: list[Column]
    rows: list[Row]
    interval: str
    percent: dict[str, bool]          # column name → values are fractions shown as %
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepTable:
        return from_dict(d)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["columns"] = [{"benchmark": c.benchmark, "metric": c.metric, "name": c.name} for c in self.columns]
        return d


def _metric_order(name: str, patterns: list[str]) -> tuple[int, int, str]:
    pat = next((i for i, p in enumerate(patterns) if fnmatch.fnmatchcase(name, p)), len(patterns))
    num = re.search(r"(\d+)$", name)
    return pat, int(num.group(1)) if num else 0, name


def _wanted(name: str, patterns: list[str]) -> bool:
    return not name.endswith(_SUFFIXES) and any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _value(cell: Cell, metric: str, interval: str) -> Value:
    m = cell.metrics
    mean = m[metric]
    se = m.get(f"{metric}_se")
    if interval == "ci95":
        lo, hi = m.get(f"{metric}_lo"), m.get(f"{metric}_hi")
        if lo is None or hi is None:
            lo, hi = (mean - Z95 * se, mean + Z95 * se) if se is not None else (None, None)
    elif interval == "se":
        lo, hi = (mean - se, mean + se) if se is not None else (None, None)
    else:
        raise ValueError(f"report.interval: expected 'se' or 'ci95', got {interval!r}")
    return Value(mean, lo, hi, se)


def build(title: str, data: list[MemberData], models: list[str], baselines: list[str],
          patterns: list[str], interval: str) -> SweepTable:
    cols: dict[str, Column] = {}
    for d in data:
        for c in d.cells:
            if c.row in models or c.row in baselines or (c.row == PICKED and "trained" in models):
                for k in c.metrics:
                    if _wanted(k, patterns):
                        cols.setdefault(f"{c.benchmark}/{k}", Column(c.benchmark, k))
    benches = list(dict.fromkeys(c.benchmark for c in cols.values()))
    columns = sorted(cols.values(), key=lambda c: (benches.index(c.benchmark), _metric_order(c.metric, patterns)))
    rows: list[Row] = []
    notes: list[str] = []
    for b in baselines:  # shown once: from the first member that evaluated it
        found = [(d, [c for c in d.cells if c.row == b]) for d in data]
        found = [(d, cs) for d, cs in found if cs]
        if not found:
            continue
        d0, cells = found[0]
        name = cells[0].info.get("model")
        row = Row(f"{b} ({name})" if name and name != b else b, "baseline")
        for c in cells:
            for col in columns:
                if col.benchmark == c.benchmark and col.metric in c.metrics:
                    row.values[col.name] = _value(c, col.metric, interval)
        differs = [d.member.label for d, cs in found[1:]
                   if {(c.benchmark, k, v) for c in cs for k, v in c.metrics.items()}
                   != {(c.benchmark, k, v) for c in cells for k, v in c.metrics.items()}]
        if differs:
            notes.append(f"baseline '{b}' is taken from {d0.member.label}; its numbers differ in: "
                         + "; ".join(differs))
        rows.append(row)
    for d in data:
        for mrow in models:
            label = d.member.label if len(models) == 1 else f"{d.member.label} · {mrow}"
            cells = [c for c in d.cells if c.row == mrow]
            picked = [c for c in d.cells if c.row == PICKED]
            if mrow == "trained" and picked:  # eval.select_best chose among checkpoints: report the pick
                cells = picked
            if cells and cells[0].row == PICKED:  # which checkpoint, and a warning if reported where picked
                label += f" [{cells[0].info['picked_row']}]"
                on = cells[0].info["picked_on"]
                if any(col.benchmark == on.split(":")[0] for col in columns):
                    note = (f"{PICKED}: each run's model was picked on {on}; its {on.split(':')[0]} columns "
                            "report the benchmark the pick was made on (optimistic)")
                    if note not in notes:
                        notes.append(note)
            row = Row(label, "member", d.member.key, missing=list(d.member.missing))
            for c in cells:
                for col in columns:
                    if col.benchmark == c.benchmark and col.metric in c.metrics:
                        row.values[col.name] = _value(c, col.metric, interval)
            if d.cells and not cells:
                row.missing.append(f"eval has no '{mrow}' row (has: {sorted({c.row for c in d.cells})})")
            absent = [col.name for col in columns if col.name not in row.values]
            if cells and absent:
                row.missing.append("no value for " + ", ".join(absent))
            rows.append(row)
    percent = {}
    for col in columns:
        vals = [r.values[col.name].mean for r in rows if col.name in r.values]
        percent[col.name] = bool(vals) and all(0.0 <= v <= 1.0 for v in vals)
        members = [r for r in rows if r.kind == "member" and col.name in r.values]
        if len(members) > 1:
            top = max(r.values[col.name].mean for r in members)
            for r in members:
                r.values[col.name].best = r.values[col.name].mean == top
    return SweepTable(title, columns, rows, interval, percent, notes)


def fmt(v: Optional[Value], percent: bool, interval: str) -> tuple[str, str]:
    """(mean text, uncertainty text) of a cell, e.g. ('41.7', '± 3.2') or ('41.7', '[35.4, 48.0]')."""
    if v is None:
        return "—", ""
    scale, nd = (100.0, 1) if percent else (1.0, 3)
    mean = f"{v.mean * scale:.{nd}f}"
    if v.lo is None or v.hi is None:
        return mean, ""
    if interval == "se":
        return mean, f"± {(v.hi - v.mean) * scale:.{nd}f}"
    return mean, f"[{v.lo * scale:.{nd}f}, {v.hi * scale:.{nd}f}]"


def from_dict(d: dict[str, Any]) -> SweepTable:
    """Inverse of ``SweepTable.as_dict`` (a reused report is reprinted from its table.json)."""
    rows = [Row(r["label"], r["kind"], r.get("member"), {k: Value(**v) for k, v in r["values"].items()},
                list(r.get("missing", []))) for r in d["rows"]]
    return SweepTable(d["title"], [Column(c["benchmark"], c["metric"]) for c in d["columns"]], rows,
                      d["interval"], dict(d["percent"]), list(d.get("notes", [])))
