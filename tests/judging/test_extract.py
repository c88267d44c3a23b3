"""Extraction, tested from the JSON case files in cases/ (see cases/make_cases.py)."""
import time

import pytest

from reasonkit.judging.extract import (extract_answer, extract_choice, extract_code,
                                       extract_conclusion, extract_gold, last_boxed,
                                       normalize_label, strip_reasoning)

from .conftest import load_cases

EXTRACT = load_cases("extract.json")
CHOICE = load_cases("choice.json")
CRITIQUE = load_cases("critique.json")


def test_enough_cases():
    assert len(EXTRACT) + len(CHOICE) + len(CRITIQUE) >= 200
    assert len(EXTRACT) >= 200


@pytest.mark.parametrize("case", EXTRACT, ids=[c["id"] for c in EXTRACT])
def test_extract_answer(case):
    opts = case.get("options", {})
    kw = {}
    if "order" in opts:
        kw["order"] = opts["order"]
    if "unclosed" in opts:
        kw["unclosed"] = opts["unclosed"]
    assert extract_answer(case["response"], **kw).answer == case["expected"], case.get("note")


@pytest.mark.parametrize("case", CHOICE, ids=[c["id"] for c in CHOICE])
def test_extract_choice(case):
    assert extract_choice(case["response"], case.get("letters", "ABCD")).answer == case["expected"]


@pytest.mark.parametrize("case", CRITIQUE, ids=[c["id"] for c in CRITIQUE])
def test_extract_conclusion(case):
    got = extract_conclusion(case["response"], ("right", "correct", "true", "yes"),
                             ("wrong", "incorrect", "false", "no")).answer
    assert got == case["expected"]
    verdict = got is not None and got == normalize_label(case["target"])
    assert verdict == case["correct"]


def test_extraction_method_recorded():
    assert extract_answer(r"<think>\boxed{1}</think>\boxed{2}").method == "boxed"
    assert extract_answer("#### 5").method == "gsm8k"
    assert extract_answer("nothing").method == "none"


def test_gold_forms():
    assert extract_gold(r"so the total is \boxed{\frac{3}{4}}") == r"\frac{3}{4}"
    assert extract_gold("Natalia sold 24.\n#### 72") == "72"
    assert extract_gold(" 1,234 ") == "1234"
    assert extract_gold("$x+1$") == "x+1"
    assert extract_gold(None) is None


def test_extract_code_last_python_block():
    text = ("<think>```python\nprint('draft')\n```</think>Here:\n```python\nprint(1)\n```\n"
            "and a shell example\n```bash\nls\n```")
    assert extract_code(text).answer == "print(1)\n"
    assert extract_code("no code").answer is None
    assert extract_code("```\nx=1\n```").answer == "x=1\n"


def test_strip_reasoning_keeps_plain_text():
    assert strip_reasoning("plain answer 5") == "plain answer 5"


# pathological inputs: every scanner must stay linear (no regex backtracking blow-ups)
PATHOLOGICAL = {
    "open_braces": "\\boxed{" + "{" * 300_000,
    "many_boxes_unclosed": "\\boxed{" * 100_000,
    "close_braces": "}" * 300_000 + "\\boxed{1}",
    "answer_then_blanks": "answer" + " " * 200_000 + "x",
    "answer_star_blanks": "answer" + " *" * 100_000,
    "conclusion_blanks": "Conclusion" + " " * 200_000,
    "digits": "9" * 500_000,
    "digit_commas": "1," * 200_000,
    "think_opens": "<think>" * 50_000,
    "harmony_channels": "<|channel|>" * 50_000,
    "harmony_messages": "<|channel|>analysis<|message|>x" * 50_000,
    "harmony_ended": "<|channel|>final<|message|>x<|end|>" * 50_000,
    "dollars": "$" * 300_000,
    "fences": "```python\n" * 30_000,
    "paren_letters": "(A) " * 100_000,
    "backslashes": "\\" * 300_000,
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_extraction_is_fast(name):
    text = PATHOLOGICAL[name]
    t0 = time.perf_counter()
    extract_answer(text)
    extract_choice(text)
    extract_conclusion(text)
    extract_code(text)
    last_boxed(text)
    assert time.perf_counter() - t0 < 5.0  # linear scans take well under a second; quadratic ones minutes
