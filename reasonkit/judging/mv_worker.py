"""Verifier worker side: runs only inside pool workers (imports sympy via math-verify at module
load, so the forkserver that preloads this module pays the import once for all workers)."""
from __future__ import annotations

import logging
import re
from dataclasses import replace
from functools import lru_cache
from itertools import groupby
from typing import Any

from latex2sympy2_extended.math_normalization import normalize_latex
from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
from math_verify.parser import extract_expr, get_extraction_regexes

from .numeval import evaluate

_OPTS: dict[str, Any] = {}
_GOLD: dict[str, Any] = {}


def init_worker(float_rounding: int = 6, numeric_precision: int = 15, strict: bool = True,
                two_stage: bool = True) -> None:
    """Timeouts are the pool's job (it kills the worker), so math-verify's signal timeouts are
    off, and their warning with them."""
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    _OPTS.update(float_rounding=float_rounding, numeric_precision=numeric_precision, strict=strict)
    if two_stage:
        two_stage_latex_parsing()


_SLL = {"on": False}


def two_stage_latex_parsing() -> None:
    """latex2sympy's ANTLR parser runs first in SLL prediction mode, and again in its default LL
    mode only when that attempt raises (a syntax error, which latex2sympy's error listener turns
    into an exception, or anything else). ANTLR's ``PredictionMode`` documents that an SLL parse
    either reports a syntax error or returns the very parse tree LL returns, so results are
    unchanged (a test compares both modes). Why: LL's full-context prediction is most of the
    ANTLR time on real answers. Applied in verifier workers only (``init_worker``)."""
    from antlr4.atn.PredictionMode import PredictionMode
    from latex2sympy2_extended import latex2sympy2 as l2s

    cls = l2s._Latex2Sympy
    if getattr(cls, "_reasonkit_two_stage", False):
        return
    create, parse_ = cls.create_parser, cls.parse

    def create_parser(self: Any, latex_str: str) -> Any:
        parser = create(self, latex_str)
        if _SLL["on"]:
            parser._interp.predictionMode = PredictionMode.SLL
        return parser

    def parse_two_stage(self: Any, latex_str: str) -> Any:
        if _SLL["on"]:  # a nested parse inside an SLL attempt: its failure fails the attempt
            return parse_(self, latex_str)
        _SLL["on"] = True
        try:
            return parse_(self, latex_str)
        except Exception:  # noqa: BLE001 - any failure: the LL parse below decides
            pass
        finally:
            _SLL["on"] = False
        return parse_(self, latex_str)

    cls.create_parser, cls.parse = create_parser, parse_two_stage
    cls._reasonkit_two_stage = True
    cls._reasonkit_ll_parse = parse_  # LL only (outside an SLL attempt): what tests compare against


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
# a normalized LaTeX string that latex2sympy certainly parses: a plain number, a fraction of two,
# "x = <number>", or an expression of reasonkit's own small arithmetic grammar (numeval; checked
# against latex2sympy on random expressions of that grammar in the tests)
_CERTAIN_LATEX_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?|-?\\frac\{[0-9]{1,15}\}\{[1-9][0-9]{0,14}\}|"
                               r"[A-Za-z] ?= ?-?[0-9]+(?:\.[0-9]+)?")
_PLAIN_NUMBER_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _certain_latex(s: str) -> bool:
    return bool(_CERTAIN_LATEX_RE.fullmatch(s)) or evaluate(s) is not None


@lru_cache(maxsize=1)
def _pattern_groups() -> list[list[tuple[re.Pattern[str], Any]]]:
    """math-verify's own extraction regexes for ``_EXTRACTION``, grouped by priority as its
    ``extract_target_from_pred`` groups them (latex before expr within a priority)."""
    rows = [(p, target, prio) for pats, target in get_extraction_regexes(list(_EXTRACTION)) for p, prio in pats]
    rows.sort(key=lambda r: r[2])
    return [[(p, t) for p, t, _ in grp] for _, grp in groupby(rows, key=lambda r: r[2])]


_UNSURE = object()
_CERTAIN = object()  # a value known to exist without having been computed


def _first_match(text: str) -> Any:
    """``parse(text)`` as math-verify computes it, where the first candidate it tries certainly
    parses: ``[value, string]``, with ``_CERTAIN`` for a LaTeX value that latex2sympy certainly
    produces but was not run. Found with math-verify's own regexes, priorities (rightmost match
    of the first priority that has one) and normalization; only the ANTLR LaTeX parser is
    skipped. ``[]``: no candidate at all; ``_UNSURE``: the first candidate may fail (the caller
    runs the parser). Why: ANTLR parsing is most of a tail parse's cost, and the first candidate
    is usually a plain number or a short expression."""
    for group in _pattern_groups():
        best = None
        for pat, target in group:
            for m in pat.finditer(text):
                if best is None or (m.end(), -m.start()) > (best[0].end(), -best[0].start()):
                    best = (m, target)
        if best is None:
            continue
        m, target = best
        if isinstance(target, ExprExtractionConfig):
            value, s = extract_expr(m)  # sympy's Number / parse_expr: no ANTLR
            return [value, s] if value is not None and s else _UNSURE
        if not isinstance(target, LatexExtractionConfig):
            return _UNSURE
        strs = []
        for name, val in m.groupdict().items():  # the groups extract_latex reads, in its order
            if val and (name.startswith("first_latex") or (name.startswith("next") and "_latex" in name)):
                cfg = target.normalization_config
                if name.split("_")[1] == "latexBoxed":
                    cfg = replace(cfg, boxed="last")
                strs.append(normalize_latex(val, config=cfg))
        if not strs or not all(_certain_latex(x) for x in strs):
            return _UNSURE
        return [_CERTAIN, " and ".join(strs)]
    return []


def _parses_alone(s: str, found: list) -> bool:
    """Whether ``s`` (the string of ``found``) alone is read back by the parser: plainly so for a
    number, and for certain LaTeX whose ``$s$`` normalizes to certain LaTeX (then ``$s$`` is the
    rightmost, first-tried candidate and parses); otherwise by running the parser."""
    if _PLAIN_NUMBER_RE.fullmatch(s.strip()):
        return True
    if found[0] is _CERTAIN and _certain_latex(normalize_latex(s, config=_EXTRACTION[0].normalization_config)):
        return True
    return any(len(parse(t, list(_EXTRACTION), parsing_timeout=None)) >= 2 for t in (s, f"${s}$"))


def parse_answer(text: str, quick: bool = True) -> str | None:
    """The answer math-verify's own parser finds in free text (LaTeX first, then a plain
    expression), as the string it matched; None when it finds none. ``quick=False`` always runs
    the parser (the reference the shortcut is tested against)."""
    found = _first_match(text) if quick else _UNSURE
    if found is _UNSURE:
        found = parse(text, list(_EXTRACTION), parsing_timeout=None)
    if len(found) >= 2 and isinstance(found[-1], str) and found[-1].strip():
        s = found[-1]
        # the matched string is not always what was parsed ("is 16, which is achieved when
        # $a = b = c = d$" → 16 with the string "a = b ="): a string that alone parses to
        # nothing is replaced by the value, printed as LaTeX
        if not _parses_alone(s, found):
            from sympy import latex

            value = found[0] if found[0] is not _CERTAIN else parse(text, list(_EXTRACTION), parsing_timeout=None)[0]
            try:
                return latex(value)
            except Exception:  # noqa: BLE001 - an object sympy cannot print: keep the string
                return s
        return s
    return None


def parse_verify_task(text: str, gold: str, max_chars: int) -> tuple[str | None, str | None, bool | None]:
    """A tail parse and, in the same breath, the verdict for (gold, the answer the parent's
    ``extract_answer`` makes of it: percent sign, ``clean_answer``) when the fast path cannot
    decide it: ``(string, answer, verdict)``, the last two None when nothing was verified. Why:
    the answer's LaTeX was just parsed here, so math-verify's parse cache holds it and the pair
    costs no second ANTLR parse (nor a second round trip). The parent uses the verdict only for
    exactly that pair."""
    from .extract import clean_answer, percent_after, with_percent
    from .normalize import fast_verdict

    s = parse_answer(text)
    if s is None or not gold.strip() or text.startswith("Answer: "):  # "Answer: …" is post-processed otherwise
        return s, None, None
    found = s
    at = text.rfind(found)
    if at != -1 and percent_after(text, at + len(found)):
        found = with_percent(found)
    answer, g = clean_answer(found).strip(), gold.strip()
    if not answer or len(answer) > max_chars or len(g) > max_chars or fast_verdict(g, answer) is not None:
        return s, None, None
    return s, answer, verify_task((g, answer))


def run_task(task: tuple) -> Any:
    """The pool's one target: ``("verify", gold, answer)`` → bool, ``("parse", text)`` → str | None,
    ``("parse_verify", text, gold, max_chars)`` → see ``parse_verify_task``."""
    kind = task[0]
    if kind == "verify":
        return verify_task((task[1], task[2]))
    if kind == "parse":
        return parse_answer(task[1])
    if kind == "parse_verify":
        return parse_verify_task(task[1], task[2], task[3])
    raise ValueError(f"unknown task kind {kind!r}")
