"""Verifier worker side: runs only inside pool workers (imports sympy via math-verify at module
load, so the forkserver that preloads this module pays the import once for all workers)."""
from __future__ import annotations

import logging
from typing import Any

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

_OPTS: dict[str, Any] = {}
_GOLD: dict[str, Any] = {}


def init_worker(float_rounding: int = 6, numeric_precision: int = 15, strict: bool = True) -> None:
    """Timeouts are the pool's job (it kills the worker), so math-verify's signal timeouts are
    off, and their warning with them."""
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    _OPTS.update(float_rounding=float_rounding, numeric_precision=numeric_precision, strict=strict)


def _as_latex(s: str) -> str:
    """An extracted answer is bare LaTeX; boxing it makes math-verify parse all of it as LaTeX
    (its plain-expression fallback still sees ``1/2``)."""
    if "\\boxed" in s or s.lstrip().startswith("$"):
        return s
    if "%" in s:  # math-verify reads "$60\\%$" as 60 but cannot parse "\\boxed{60\\%}"
        return "$" + s + "$"
    return "\\boxed{" + s + "}"


def _parse(s: str) -> list:
    return parse(_as_latex(s), parsing_timeout=None)


def verify_task(task: tuple[str, str]) -> bool:
    """math-verify with the gold first (its comparison is not symmetric)."""
    gold, answer = task
    g = _GOLD.get(gold)
    if g is None:
        if len(_GOLD) > 4096:
            _GOLD.clear()
        g = _GOLD[gold] = _parse(gold)
    return bool(verify(g, _parse(answer), timeout_seconds=None, **_OPTS))


_EXTRACTION = (LatexExtractionConfig(), ExprExtractionConfig())


def parse_answer(text: str) -> str | None:
    """The answer math-verify's own parser finds in free text (LaTeX first, then a plain
    expression), as the string it matched; None when it finds none."""
    found = parse(text, list(_EXTRACTION), parsing_timeout=None)
    if len(found) >= 2 and isinstance(found[-1], str) and found[-1].strip():
        s = found[-1]
        # the matched string is not always what was parsed ("is 16, which is achieved when
        # $a = b = c = d$" → 16 with the string "a = b ="): a string that alone parses to
        # nothing is replaced by the value, printed as LaTeX
        if not any(len(parse(t, list(_EXTRACTION), parsing_timeout=None)) >= 2 for t in (s, f"${s}$")):
            from sympy import latex

            try:
                return latex(found[0])
            except Exception:  # noqa: BLE001 - an object sympy cannot print: keep the string
                return s
        return s
    return None


def run_task(task: tuple) -> Any:
    """The pool's one target: ``("verify", gold, answer)`` → bool, ``("parse", text)`` → str | None."""
    kind = task[0]
    if kind == "verify":
        return verify_task((task[1], task[2]))
    if kind == "parse":
        return parse_answer(task[1])
    raise ValueError(f"unknown task kind {kind!r}")
