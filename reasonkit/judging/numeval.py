"""A tiny evaluator for the arithmetic LaTeX most math answers are made of, so the fast path can
decide ``3\\sqrt{5}`` vs ``\\sqrt{45}`` or ``(x+3)(x+4)`` vs ``x^2+7x+12`` without sympy.

Why: after string and plain-number checks, the pairs left for math-verify are mostly constants
with radicals or pi and small polynomials; each costs tens of milliseconds of ANTLR parsing and
sympy simplification. Evaluating both sides (exactly with fractions where possible, else in
floating point) at a few points settles them in microseconds.

Only a small, unambiguous grammar is accepted: numbers, ``+ - * \\cdot \\times``, ``^``,
``\\frac``/``\\dfrac``/``\\tfrac``, ``\\sqrt`` (with an optional index), ``\\pi``, parentheses and
braces, implicit multiplication, the variables in ``VARIABLES``, and ``/`` where no juxtaposed
factor follows the divisor (its precedence against implicit multiplication differs between
readers). No functions, no ``e`` or ``i``. Anything else — or any size, depth or domain
problem — returns None and the pair goes to math-verify.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

VARIABLES = frozenset("xyzabcnkt")
MAX_LEN = 200
MAX_DEPTH = 40
MAX_EXP = 64
MAX_MAG = 1e40

_TOKEN_RE = re.compile(
    r"\s+|(?P<num>[0-9]+(?:\.[0-9]+)?)|(?P<cmd>\\[A-Za-z]+|\\[,;:! ])|(?P<var>[A-Za-z])|(?P<sym>[-+*/^(){}\[\]])")
_SKIP_CMDS = {"\\left", "\\right", "\\,", "\\;", "\\:", "\\!", "\\ ", "\\displaystyle"}
_MUL_CMDS = {"\\cdot", "\\times"}
_FRAC_CMDS = {"\\frac", "\\dfrac", "\\tfrac"}


class _Refuse(Exception):
    pass


def _tokens(s: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(s):
        m = _TOKEN_RE.match(s, pos)
        if not m or m.end() == pos:
            raise _Refuse
        pos = m.end()
        if m.lastgroup is None:
            continue
        kind, text = m.lastgroup, m.group(m.lastgroup)
        if kind == "cmd" and text in _SKIP_CMDS:
            continue
        out.append((kind, text))
    return out


Value = Fraction | float


def _check(v: Value) -> Value:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        raise _Refuse
    if abs(v) > MAX_MAG:
        raise _Refuse
    return v


class _Parser:
    """Recursive descent over the tokens; evaluates while parsing with ``env`` as variables."""

    def __init__(self, toks: list[tuple[str, str]], env: dict[str, Fraction]) -> None:
        self.t = toks
        self.i = 0
        self.env = env
        self.depth = 0
        self.used: set[str] = set()
        self.has_decimal = False

    def peek(self) -> tuple[str, str] | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, text: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (text is not None and tok[1] != text):
            raise _Refuse
        self.i += 1
        return tok

    def parse(self) -> Value:
        v = self.expr()
        if self.i != len(self.t):
            raise _Refuse
        return v

    def expr(self) -> Value:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refuse
        v = self.term()
        while (tok := self.peek()) is not None and tok[1] in "+-" and tok[0] == "sym":
            self.take()
            r = self.term()
            v = _check(v + r if tok[1] == "+" else v - r)
        self.depth -= 1
        return v

    def _starts_factor(self, tok: tuple[str, str] | None) -> bool:
        if tok is None:
            return False
        kind, text = tok
        return kind in ("num", "var") or text in ("(", "{") or text in _FRAC_CMDS or text in ("\\sqrt", "\\pi")

    def term(self) -> Value:
        v = self.signed()
        prev_var = self.t[self.i - 1][0] == "var"
        while True:
            tok = self.peek()
            if tok is not None and tok[1] in _MUL_CMDS | {"*"}:
                self.take()
                v = _check(v * self.signed())
            elif tok is not None and tok[1] == "/":
                # latex2sympy binds juxtaposition tighter than "/": "1/2\pi" is 1/(2 pi). Accept
                # "/" only when no juxtaposed factor follows the divisor.
                self.take()
                d = self.signed()
                if d == 0 or self._starts_factor(self.peek()):
                    raise _Refuse
                v = _check(v / d)
            elif self._starts_factor(tok):
                if tok[0] == "var" and prev_var:
                    raise _Refuse  # "xy": a product or one symbol? not ours to guess
                if tok[0] == "num" and self.t[self.i - 1][0] == "num":
                    raise _Refuse
                v = _check(v * self.power())
            else:
                return v
            prev_var = self.t[self.i - 1][0] == "var"

    def signed(self) -> Value:
        tok = self.peek()
        if tok is not None and tok[0] == "sym" and tok[1] in "+-":
            self.take()
            v = self.signed()
            return -v if tok[1] == "-" else v
        return self.power()

    def power(self) -> Value:
        base = self.atom()
        tok = self.peek()
        if tok is not None and tok[1] == "^":
            self.take()
            nxt = self.peek()
            if nxt is None:
                raise _Refuse
            if nxt[1] == "{":
                self.take()
                e = self.expr()
                self.take("}")
            elif nxt[0] == "num" and len(nxt[1]) == 1:
                self.take()
                e = Fraction(nxt[1])
            else:
                raise _Refuse
            if not (isinstance(e, Fraction) and e.denominator == 1 and abs(e) <= MAX_EXP):
                raise _Refuse
            if base == 0 and e < 0:
                raise _Refuse
            if isinstance(base, Fraction):
                return _check(base ** int(e))
            return _check(base ** int(e))
        return base

    def atom(self) -> Value:
        tok = self.take()
        kind, text = tok
        if kind == "num":
            if "." in text:
                self.has_decimal = True
            if len(text.replace(".", "").lstrip("0")) > 15:
                raise _Refuse
            return Fraction(text)
        if kind == "var":
            if text not in VARIABLES:
                raise _Refuse
            self.used.add(text)
            return self.env[text]
        if text in ("(", "{"):
            v = self.expr()
            self.take(")" if text == "(" else "}")
            return v
        if text in _FRAC_CMDS:
            self.take("{")
            num = self.expr()
            self.take("}")
            self.take("{")
            den = self.expr()
            self.take("}")
            if den == 0:
                raise _Refuse
            return _check(num / den)
        if text == "\\sqrt":
            index: Value = Fraction(2)
            if (p := self.peek()) is not None and p[1] == "[":
                self.take()
                index = self.expr()
                self.take("]")
                if not (isinstance(index, Fraction) and index.denominator == 1 and 2 <= index <= 10):
                    raise _Refuse
            nxt = self.peek()
            if nxt is not None and nxt[0] == "num" and len(nxt[1]) == 1:
                self.take()  # "\sqrt 3": the argument is the next single character
                return _root(Fraction(nxt[1]), int(index))
            self.take("{")
            arg = self.expr()
            self.take("}")
            return _root(arg, int(index))
        if text == "\\pi":
            return math.pi
        raise _Refuse


def _root(v: Value, n: int) -> Value:
    if v < 0:
        if n % 2 == 0:
            raise _Refuse
        return -_root(-v, n)
    if isinstance(v, Fraction):
        num, den = _int_root(v.numerator, n), _int_root(v.denominator, n)
        if num is not None and den is not None:
            return Fraction(num, den)
    return float(v) ** (1.0 / n)


def _int_root(x: int, n: int) -> int | None:
    if x.bit_length() > 200:
        return None
    r = round(x ** (1.0 / n))
    for c in (r - 1, r, r + 1):
        if c >= 0 and c ** n == x:
            return c
    return None


_POINTS = [Fraction(7, 3), Fraction(-11, 5), Fraction(13, 7)]


def _env(k: int) -> dict[str, Fraction]:
    # distinct, non-special rationals per variable and point (poles and coincidences unlikely)
    return {v: _POINTS[k] + Fraction(j, 17) for j, v in enumerate(sorted(VARIABLES))}


def evaluate(s: str, k: int = 0) -> tuple[Value, set[str], bool] | None:
    """(value at point ``k``, variables used, has a decimal literal) or None if refused."""
    if len(s) > MAX_LEN:
        return None
    try:
        p = _Parser(_tokens(s), _env(k))
        v = p.parse()
    except (_Refuse, ZeroDivisionError, OverflowError, ValueError, RecursionError):
        return None
    return v, p.used, p.has_decimal


def _close(a: Value, b: Value, rel: float) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(float(a)), abs(float(b)))


def eval_verdict(gold: str, answer: str) -> bool | None:
    """True/False when evaluation settles it the way math-verify would; None otherwise.

    False: the two differ clearly (> 1e-6 relative) at some point — math-verify finds no
    equality between expressions of different value. True: equal at every point, exactly
    (rationals; identical rational functions) or within 1e-13 with no decimal literal involved
    (radicals, pi). Different variables, decimals in a "true" case, or near misses: None.
    """
    first_g, first_a = evaluate(gold, 0), evaluate(answer, 0)
    if first_g is None or first_a is None:
        return None
    if first_g[1] != first_a[1]:
        return None  # different variables: math-verify's strict rules decide
    points = 1 if not first_g[1] else len(_POINTS)
    all_equal = True
    for k in range(points):
        g = first_g if k == 0 else evaluate(gold, k)
        a = first_a if k == 0 else evaluate(answer, k)
        if g is None or a is None:
            return None
        gv, av = g[0], a[0]
        if not _close(gv, av, 1e-6) and abs(gv - av) > 2e-6:
            return False
        exact = isinstance(gv, Fraction) and isinstance(av, Fraction)
        if not ((exact and gv == av) or (not exact and _close(gv, av, 1e-13))):
            all_equal = False
    if all_equal and not (first_g[2] or first_a[2]):
        return True
    return None


_INTERVAL_RE = re.compile(r"([(\[])([^,]+),([^,]+)([)\]])")
_INF = {"\\infty": math.inf, "+\\infty": math.inf, "-\\infty": -math.inf, "\\infty)": math.inf}


def _endpoint(s: str) -> Value | None:
    if s in _INF:
        return _INF[s]
    r = evaluate(s)
    if r is None or r[1]:
        return None  # not a constant
    return r[0]


def interval_verdict(gold: str, answer: str) -> bool | None:
    """Two intervals ``(a, b]`` with constant endpoints (typography already normalized).

    Same endpoints and brackets → True; an endpoint clearly different → False; a bracket
    different at a finite endpoint → False. Only proper intervals (a < b) are decided: ``(a, b)``
    may also be read as a tuple, and reversed ones as empty sets."""
    mg, ma = _INTERVAL_RE.fullmatch(gold), _INTERVAL_RE.fullmatch(answer)
    if not mg or not ma:
        return None
    ends = []
    for m in (mg, ma):
        lo, hi = _endpoint(m.group(2)), _endpoint(m.group(3))
        if lo is None or hi is None or not lo < hi:
            return None
        ends.append((m.group(1), lo, hi, m.group(4)))
    (gl, glo, ghi, gr), (al, alo, ahi, ar) = ends
    for x, y in ((glo, alo), (ghi, ahi)):
        if math.isinf(x) or math.isinf(y):
            if x != y:
                return False
        elif not _close(x, y, 1e-6) and abs(x - y) > 2e-6:
            return False
    same = all((x == y) if (math.isinf(x) or math.isinf(y)) or isinstance(x, Fraction) and isinstance(y, Fraction)
               else _close(x, y, 1e-13) for x, y in ((glo, alo), (ghi, ahi)))
    if not same:
        return None
    if (gl != al and not math.isinf(glo)) or (gr != ar and not math.isinf(ghi)):
        return False
    if gl == al and gr == ar:
        return True
    return None
