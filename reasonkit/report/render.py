"""Writers of a sweep table, one per ``report.formats`` entry (Markdown, LaTeX booktabs, CSV,
JSON). Each returns the file's text; the stage decides where it goes."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from reasonkit.registry import Registry
from reasonkit.report.sweep_table import SweepTable, fmt

WRITERS: Registry[Callable[[SweepTable], str]] = Registry("report.formats")


def _head(t: SweepTable) -> list[str]:
    multi = len({c.benchmark for c in t.columns}) > 1
    unit = {True: " (%)", False: ""}
    return ["run"] + [(c.name if multi else c.metric) + unit[t.percent[c.name]] for c in t.columns]


def _interval_note(t: SweepTable) -> str:
    return "mean ± standard error" if t.interval == "se" else "mean [95 % interval]"


def cells_text(t: SweepTable, bold: Callable[[str], str]) -> list[list[str]]:
    out = []
    for r in t.rows:
        line = [r.label]
        for c in t.columns:
            v = r.values.get(c.name)
            mean, err = fmt(v, t.percent[c.name], t.interval)
            text = mean if v is None or v.best is False else bold(mean)
            line.append(f"{text} {err}".strip())
        out.append(line)
    return out


def missing_lines(t: SweepTable) -> list[str]:
    return [f"{r.label}: " + "; ".join(r.missing) for r in t.rows if r.missing]


@WRITERS.register("md")
def markdown(t: SweepTable) -> str:
    from reasonkit.report.table import markdown as md_table

    body = cells_text(t, lambda s: f"**{s}**")
    text = f"# {t.title}\n\n" + md_table(_head(t), body)
    text += f"\n\nCells: {_interval_note(t)}; **bold**: best run per column.\n"
    for n in t.notes:
        text += f"\nNote: {n}\n"
    miss = missing_lines(t)
    if miss:
        text += "\n## Missing (partial table)\n\n" + "\n".join(f"- {m}" for m in miss) + "\n"
    return text


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "±": r"$\pm$",
        "—": "--"}


def tex_escape(s: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in s)


@WRITERS.register("tex")
def latex(t: SweepTable) -> str:
    head = [tex_escape(h) for h in _head(t)]
    body = cells_text(t, lambda s: f"\\textbf{{{s}}}")
    lines = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{l" + "r" * len(t.columns) + "}",
             r"\toprule", " & ".join(head) + r" \\", r"\midrule"]
    kinds = [r.kind for r in t.rows]
    for i, (r, cells) in enumerate(zip(t.rows, body)):
        if i and kinds[i] != kinds[i - 1]:
            lines.append(r"\midrule")
        text = [tex_escape(cells[0])] + [c.replace("± ", r"$\pm$ ").replace("—", "--") for c in cells[1:]]
        lines.append(" & ".join(text) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}",
              f"\\caption{{{tex_escape(t.title)}. {tex_escape(_interval_note(t))}; bold: best run per column."
              + (" Partial: " + tex_escape("; ".join(missing_lines(t))) if missing_lines(t) else "") + "}",
              r"\end{table}", ""]
    return "\n".join(lines)


@WRITERS.register("csv")
def to_csv(t: SweepTable) -> str:
    """Numbers unformatted (fractions, not %), one column each for mean, s.e., interval, best."""
    buf = io.StringIO()
    w = csv.writer(buf)
    head = ["run", "kind"]
    for c in t.columns:
        head += [c.name, f"{c.name}_se", f"{c.name}_lo", f"{c.name}_hi", f"{c.name}_best"]
    w.writerow(head + ["missing"])
    for r in t.rows:
        line: list[object] = [r.label, r.kind]
        for c in t.columns:
            v = r.values.get(c.name)
            line += ["", "", "", "", ""] if v is None else [v.mean, v.se if v.se is not None else "",
                                                             v.lo if v.lo is not None else "",
                                                             v.hi if v.hi is not None else "", int(v.best)]
        w.writerow(line + ["; ".join(r.missing)])
    return buf.getvalue()


@WRITERS.register("json")
def to_json(t: SweepTable) -> str:
    return json.dumps(t.as_dict(), indent=2)


def terminal(t: SweepTable) -> tuple[list[str], list[list[str]], str]:
    """(head, body, caption) for the rich table printed at the end of a run."""
    body = cells_text(t, lambda s: f"{s}*")
    caption = f"cells: {_interval_note(t)}; * best run per column"
    for n in t.notes:
        caption += f"\nnote: {n}"
    for m in missing_lines(t):
        caption += f"\nmissing: {m}"
    return _head(t), body, caption
