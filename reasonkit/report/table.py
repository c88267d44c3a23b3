"""Table rendering: rich for the terminal, Markdown for the paper draft."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table


def markdown(head: list[str], body: list[list[str]]) -> str:
    esc = [[c.replace("|", "\\|") for c in r] for r in body]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in esc])


def print_table(title: str, head: list[str], body: list[list[str]], caption: str | None = None) -> None:
    """The caption goes under the table as plain, unwrapped lines: it carries paths and "missing:
    <run>: <reason>" lines that must stay whole (copyable, greppable) and may hold brackets that
    rich would read as markup."""
    t = Table(title=title, show_lines=False)
    for h in head:
        t.add_column(h, overflow="fold")
    for r in body:
        t.add_row(*r)
    console = Console(width=160)
    console.print(t)
    if caption:
        console.print(caption, soft_wrap=True, markup=False, highlight=False)
