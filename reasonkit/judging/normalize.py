"""String-level answer normalization: the fast path and the independent second checker.

Why two checkers: math-verify (sympy) is the primary verdict; a checker that shares no code with
it (string normalization + exact rational arithmetic) catches its parsing surprises, and the
disagreements between the two are logged for a human to read. Everything here is pure Python and
linear in the input, so it runs in the parent process without a timeout.
"""
from __future__ import annotations

import re
from fractions import Fraction

from .mvnorm import boxed_normalizer

_SPACING = re.compile(r"\\[,;:! ]|\\q?quad|\\left|\\right|\\displaystyle|\s+")


def answer_key(s: str) -> str:
    """Spelling-insensitive key: ``\\dfrac{1}{2}``, ``\\frac {1}{2}`` and ``\\left(\\frac12\\right)``
    differ only in typography. Equal keys are treated as equal answers (fast path, vote groups)."""
    s = _SPACING.sub("", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = s.strip("$").rstrip(".")
    return s


_INT_RE = re.compile(r"[+-]?[0-9]{1,15}")


def plain_int(s: str) -> int | None:
    """The value of a plain integer literal of at most 15 digits (math-verify compares larger ones
    numerically at 15 digits, so only these are decided without it)."""
    s = s.strip()
    if _INT_RE.fullmatch(s):
        return int(s)
    return None


_DEC_RE = re.compile(r"-?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)")
_SLASH_RE = re.compile(r"(-?)([0-9]{1,15})/([0-9]{1,15})")
_TEXFRAC_RE = re.compile(r"(-?)\\frac\{(-?[0-9]{1,15})\}\{([0-9]{1,15})\}")


# spellings of a plain number that math-verify's LaTeX normalization reduces to the number:
# "10,\!080" (thin-space thousands), "30^\circ" (degrees are dropped: convert_degrees=False),
# "\frac59" / "\frac 9{19}" (one-character fraction arguments)
_THIN_THOUSANDS_RE = re.compile(r"(-?[0-9]{1,3}(?:,\\![ ]?[0-9]{3})+)")
_DEGREE_RE = re.compile(r"\^(?:\\circ|\{\\circ\})$")
_SHORT_FRAC_RE = re.compile(r"\\frac(?:([0-9])|\{([0-9]{1,15})\})(?:([0-9])|\{([0-9]{1,15})\})")


def _short_frac(m: re.Match[str]) -> str:
    return "\\frac{%s}{%s}" % (m.group(1) or m.group(2), m.group(3) or m.group(4))


def plain_number(s: str) -> Fraction | None:
    """Exact value of a plain numeric literal as math-verify parses it: an integer, a decimal,
    ``a/b`` or ``\\frac{a}{b}`` (after ``answer_key``; also ``10,\\!080``, ``30^\\circ``,
    ``\\frac59``), at most 15 significant digits (beyond that math-verify's 15-digit floats no
    longer compare exactly)."""
    raw = s.strip()
    if _THIN_THOUSANDS_RE.fullmatch(raw):
        raw = re.sub(r"[^0-9-]", "", raw)
    s = answer_key(raw).replace("\\dfrac", "\\frac")
    s = _DEGREE_RE.sub("", s)
    if _DEC_RE.fullmatch(s):
        digits = s.lstrip("-").replace(".", "").lstrip("0")
        if len(digits) > 15:
            return None
        return Fraction(s if s not in ("-", ".") else "x")
    if s.startswith(("\\frac", "-\\frac")):
        s = _SHORT_FRAC_RE.sub(_short_frac, s, count=1)
    m = _SLASH_RE.fullmatch(s) or _TEXFRAC_RE.fullmatch(s)
    if m and int(m.group(3)) != 0:
        v = Fraction(int(m.group(2)), int(m.group(3)))
        return -v if m.group(1) else v
    return None


# "x = 66", "b=-1": math-verify compares the right-hand side of an equation with a gold that is
# no equation. The left side is one letter that sympy keeps a plain symbol (not e, i, E, I, N,
# O, Q, S: constants or functions there).
_ASSIGN_RE = re.compile(r"([a-dfghj-zABCDFGHJ-MPRT-Z])=([^=<>]+)")


# letters sympy keeps as free symbols (not e, i: constants), spaces, commas: no number can equal it
_SYMBOLS_RE = re.compile(r"[A-DF-HJ-Za-df-hj-z][A-DF-HJ-Za-df-hj-z ,]{0,29}")


def _rhs(answer: str) -> str | None:
    m = _ASSIGN_RE.fullmatch(answer_key(answer))
    return m.group(2) if m else None


def _number(s: str) -> Fraction | None:
    """``plain_number`` of the string itself, else of what math-verify's LaTeX normalization
    makes of it (units, ``\\$`` removed: ``5.4 \\text{ cents}`` → 5.4). Strings that math-verify's
    reader would not box (``%``, ``$``, a box) are left to it."""
    v = plain_number(s)
    if v is not None or len(s) > 200 or "%" in s or "$" in s or "\\boxed" in s:
        return v
    norm = boxed_normalizer()
    if norm is None:
        return None
    n = norm(s)
    return plain_number(n) if n != s.strip() else None


def fast_verdict(gold: str, answer: str) -> bool | None:
    """True/False where the outcome of math-verify is certain without running it; None otherwise.

    - identical up to typography (``answer_key``) → True;
    - two plain numbers (integers, decimals, simple fractions): exactly equal → True; apart by
      more than 2e-6 → False. math-verify compares such numbers exactly, or rounded to 6 decimals
      when one is a decimal, so neither outcome can differ; closer pairs go to math-verify;
    - numbers spelled as math-verify's own LaTeX normalization reads them (units, ``30^\\circ``,
      ``10,\\!080``, ``\\frac59``: see ``_number``) and an answer ``x = <number>`` against a
      number (math-verify compares the right-hand side), by the same rule; free symbols only
      (``x``, ``PQ``, ``m and n``) against a number: False;
    - small arithmetic expressions (radicals, pi, polynomials): ``numeval.eval_verdict``.
    Strings holding ``$`` are left to math-verify (its reader treats them as math delimiters).
    """
    if gold.strip() == answer.strip():
        return True
    if "$" in gold or "$" in answer:
        return None  # math-verify reads "$1/2" as LaTeX up to a "$" that never comes: its call
    if answer_key(gold) == answer_key(answer):
        return True
    g, a = plain_int(gold), plain_int(answer)
    if g is not None and a is not None:
        return g == a
    try:
        gv, av = _number(gold), _number(answer)
        if gv is not None and av is None and (rhs := _rhs(answer)) is not None:
            av = _number(rhs)
    except (ValueError, ZeroDivisionError):
        return None
    if gv is not None and av is not None:
        if gv == av:
            return True
        if abs(gv - av) > Fraction(2, 10**6):
            return False
        return None
    if gv is not None and _SYMBOLS_RE.fullmatch(answer.strip()):
        return False  # "x", "PQ", "m and n": free symbols, never a number
    from .numeval import eval_verdict, interval_verdict

    gk, ak = answer_key(gold), answer_key(answer)
    if "," in gk or "," in ak:
        return interval_verdict(gk, ak)
    return eval_verdict(gk, ak)


# --------------------------------------------------------------------------- second checker

_TEXT_CMD = re.compile(r"\\(?:text|textbf|textit|mathrm|mbox|operatorname)\{([^{}]*)\}")
_UNIT_WORDS = (r"(?:units?|cm|km|inches|inch|feet|ft|degrees?|dollars?|cents?|meters?|hours?|"
               r"minutes?|seconds?|days?|mph|kg)")
# a unit only counts after a digit ("5 cm") or inside \text{} ("5\text{ cm}"): "2m" may be algebra
_UNITS = re.compile(r"(?<=[0-9])\s?" + _UNIT_WORDS + r"$|\\text\{\s?" + _UNIT_WORDS + r"\}$")
_FRAC = re.compile(r"\\frac\{([^{}]+)\}\{([^{}]+)\}")
_FRAC_SHORT = re.compile(r"\\frac([0-9])([0-9])")
_SQRT_SHORT = re.compile(r"\\sqrt([0-9a-zA-Z])")
_NUM = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]{1,3})?")


def normalize_math(s: str) -> str:
    """MATH-style canonical string: units, ``\\text{}``, degree marks, percent signs, spacing and
    ``\\frac`` spellings removed or unified."""
    s = s.strip()
    s = _UNITS.sub("", s).rstrip()
    s = re.sub(r"(?:\\[,;! ])+$", "", s)
    for _ in range(3):
        s2 = _TEXT_CMD.sub(r"\1", s)
        if s2 == s:
            break
        s = s2
    s = s.replace("^{\\circ}", "").replace("^\\circ", "").replace("\\circ", "")
    s = s.replace("\\%", "").replace("%", "").replace("\\$", "")
    s = answer_key(s)
    s = _FRAC_SHORT.sub(r"\\frac{\1}{\2}", s)
    s = _SQRT_SHORT.sub(r"\\sqrt{\1}", s)
    if s.startswith("0.") is False and s.startswith("."):
        s = "0" + s
    if "=" in s and s.count("=") == 1 and re.fullmatch(r"[A-Za-z]\w*", s.split("=")[0]):
        s = s.split("=", 1)[1]  # "x=5" → "5"
    return s


def rational_value(s: str) -> Fraction | None:
    """Exact value of a number, ``a/b`` or ``\\frac{a}{b}`` (with a sign), else None."""
    s = s.strip()
    neg = False
    if s.startswith("-") and not _NUM.fullmatch(s):
        neg, s = True, s[1:].strip()
    m = _FRAC.fullmatch(s)
    if m:
        num, den = m.group(1), m.group(2)
    elif s.count("/") == 1:
        num, den = s.split("/")
    else:
        num, den = s, "1"
    if not (_NUM.fullmatch(num.strip()) and _NUM.fullmatch(den.strip())):
        return None
    try:
        d = Fraction(den.strip())
        if d == 0:
            return None
        v = Fraction(num.strip()) / d
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return -v if neg else v


def normalized_equal(gold: str, answer: str) -> bool:
    """The second checker: exact rational equality when both sides are numbers, else equality of
    the MATH-style canonical strings."""
    if len(gold) > 5000 or len(answer) > 5000:
        return gold.strip() == answer.strip()
    g, a = normalize_math(gold), normalize_math(answer)
    if g == a:
        return bool(g)
    gv, av = rational_value(g), rational_value(a)
    if gv is not None and av is not None:
        return gv == av
    return False


SECOND_CHECKERS = {"normalized": normalized_equal}
