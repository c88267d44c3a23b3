"""The tail parse's shortcut (``mv_worker._first_match``) returns what math-verify's parser
returns, on every shape of tail the yardsticks hold; and the LaTeX it calls certain does parse."""
import random

import pytest

from reasonkit.judging import mv_worker
from reasonkit.judging.extract import tail
from reasonkit.judging.numeval import evaluate

from .conftest import load_cases


@pytest.fixture(scope="module", autouse=True)
def _init():
    mv_worker.init_worker()


def _tails() -> list[str]:
    out = [c["pred"] for c in load_cases("math_verify_tests.json")["cases"]]
    for name in ("extract.json", "math.json"):
        out += [c["response"] for c in load_cases(name) if isinstance(c.get("response"), str)]
    out += [  # shapes of unmarked endings seen in real generations (written anew here)
        "So the value of $a + b + m$ is 13.", "Therefore, $x = 66$.", "The answer: 1,000,000 / 1200",
        "so 200,900 + 120,5", "The minimum value is 16, which is achieved when $a = b = c = d$.",
        "the probability is \\(\\left(\\frac{1}{6}\\right", "which gives $137\\frac{2}{4}$ miles.",
        "$5^2 - (\\sqrt{3})^2 = 25 - 3 = 22$.", "is 65/36.", "The result is 326.5.\n\nSo 313.9 + 12.6 = 326.5.",
        "Answer: There are 3 positive two-digit integers", "x = \\frac{9}{19}", "we get 7*142 = 994",
        "$$\\frac{1}{2} + \\frac{1}{3}$$ and $x^2 + 7x + 12$", "is $\\sqrt[8]{25}$ or $6\\sqrt{2}$",
        "The final answer is $15x - 80$. I hope it is correct.", "so $y = 2$ and $z = 3$, or 45%",
        "the interval (5, ∞).", "It is 0.5", "It is $.5$", "hence \\[x = -4\\]", "Final answer: \\boxed{3",
    ]
    return [tail(t, 1000) for t in out if t]


def test_shortcut_returns_what_the_parser_returns():
    tails = _tails()
    quick = sum(mv_worker._first_match(t) is not mv_worker._UNSURE for t in tails)
    diff = [(t[-80:], mv_worker.parse_answer(t), mv_worker.parse_answer(t, quick=False)) for t in tails
            if mv_worker.parse_answer(t) != mv_worker.parse_answer(t, quick=False)]
    assert not diff
    assert quick >= len(tails) // 2  # the shortcut is taken, not only its fallback


def test_latex_called_certain_parses():
    """Strings of numeval's grammar (after math-verify's normalization) all parse in latex2sympy,
    which is what lets the shortcut skip it."""
    from latex2sympy2_extended.math_normalization import normalize_latex
    from math_verify import LatexExtractionConfig
    from math_verify.parser import parse_latex_cached

    cfg = LatexExtractionConfig().normalization_config
    rng = random.Random(0)
    atoms = ["1", "2", "37", "0.5", "3.25", "x", "y", "a", "n", "k", "\\pi"]

    def gen(d: int) -> str:
        if d <= 0 or rng.random() < 0.3:
            return rng.choice(atoms)
        a, b = gen(d - 1), gen(d - 1)
        return rng.choice([f"{a}+{b}", f"{a} - {b}", f"{a}\\cdot {b}", f"{a}\\times{b}", f"{a}*{b}", f"{a}^{{{b}}}",
                           f"\\frac{{{a}}}{{{b}}}", f"\\dfrac{{{a}}}{{{b}}}", f"\\sqrt{{{a}}}", f"\\sqrt[3]{{{a}}}",
                           f"({a})({b})", f"2{a}", f"{a}/{b}", f"-{a}", f"\\left({a}\\right)", f"{{{a}}}", f"{a} {b}"])

    checked, failed = 0, []
    while checked < 150:
        s = normalize_latex(gen(rng.randint(1, 3)), cfg)
        if evaluate(s) is None:
            continue
        checked += 1
        try:
            if parse_latex_cached(s) is None:
                failed.append(s)
        except Exception:  # noqa: BLE001 - any failure disproves "certain"
            failed.append(s)
    assert not failed


def test_two_stage_latex_parsing_gives_the_ll_result():
    """SLL first, LL on failure: the same sympy value (or the same failure) as LL alone, on the
    LaTeX of math-verify's own cases and on broken variants of it (syntax errors are where SLL
    and LL may part)."""
    from latex2sympy2_extended.latex2sympy2 import _Latex2Sympy
    from latex2sympy2_extended.math_normalization import normalize_latex
    from math_verify import LatexExtractionConfig
    from sympy import srepr

    mv_worker.two_stage_latex_parsing()
    cfg = LatexExtractionConfig().normalization_config
    cases = load_cases("math_verify_tests.json")["cases"]
    strings = {normalize_latex(x, cfg) for c in cases for x in (c["gold"], c["pred"]) if len(x) < 300}
    strings |= {b for s in list(strings) for b in (s + "}", "{" + s, s[: len(s) // 2], s + ",")}

    def outcome(fn, s: str) -> str:
        try:
            return "ok " + srepr(fn(_Latex2Sympy(is_real=True), s))
        except Exception as e:  # noqa: BLE001 - the failure itself is compared
            return "error " + type(e).__name__

    diff = [s for s in sorted(strings) if outcome(_Latex2Sympy.parse, s) != outcome(_Latex2Sympy._reasonkit_ll_parse, s)]
    assert not diff
    assert len(strings) > 300
