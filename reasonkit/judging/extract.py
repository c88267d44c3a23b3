"""Answer extraction: pure functions of the response text, versioned by ``EXTRACT_VERSION``.

Why hand-written scanners and not one regex: the common failures are all regex failures — the
first ``\\boxed{`` regex stops at the first ``}`` of ``\\frac{1}{2}``, answers inside ``<think>``
win over the final one, and strict "Final Answer:" patterns miss most strong-model formats. Every
scanner here is linear in the input (no nested quantifiers), so a 1 MB response of braces cannot
stall the parent process. Bump ``EXTRACT_VERSION`` whenever a change can alter an output: it is
part of each judge's version and so of every judge artifact's hash.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from reasonkit.think import split_think, strip_think

EXTRACT_VERSION = "4"

EXTRACTORS = ("answer_tag", "boxed", "gsm8k", "answer_is", "math_verify", "last_number")
# explicit answer markers: the only ones trusted in a response cut by the length limit
MARKERS = ("answer_tag", "boxed", "gsm8k", "answer_is")
DEFAULT_ORDER = ("answer_tag", "boxed", "gsm8k", "answer_is", "math_verify")
THINK_FALLBACKS = ("none", "last_boxed")
ON_LENGTH = ("markers", "none", "all")


@dataclass(frozen=True)
class Extraction:
    answer: str | None
    method: str  # which extractor found it ("none" when nothing did)


# --------------------------------------------------------------------------- reasoning
# the <think> splitter lives in reasonkit.think (shared with engines and formats)

_HARMONY_END = ("<|end|>", "<|return|>", "<|call|>", "<|start|>")


def strip_harmony(text: str) -> str:
    """Keep the ``final`` channel of a gpt-oss (harmony) response.

    Handles the token form (``<|channel|>final<|message|>…``) and the form left when special
    tokens were skipped at decode time (``analysis…assistantfinal…``). A response with channels
    but no final one has no answer and yields "".
    """
    if "<|channel|>" in text:
        best = None
        pos = 0
        nxt = {t: text.find(t) for t in _HARMONY_END}  # advanced monotonically: linear overall
        while True:
            c = text.find("<|channel|>", pos)
            if c == -1:
                break
            m = text.find("<|message|>", c)
            if m == -1:
                break
            header = text[c + len("<|channel|>"):m].split()  # "final", "commentary to=fn" …
            channel = header[0] if header else ""
            body_start = m + len("<|message|>")
            for t, e in nxt.items():
                if e != -1 and e < body_start:
                    nxt[t] = text.find(t, body_start)
            ends = [e for e in nxt.values() if e != -1]
            body_end = min(ends) if ends else len(text)
            if channel == "final":
                best = text[body_start:body_end]
            pos = body_end
        return best if best is not None else ""
    stripped = text.lstrip()
    if stripped.startswith("analysis") and "assistantfinal" in stripped:
        return stripped[stripped.rfind("assistantfinal") + len("assistantfinal"):]
    return text


def strip_reasoning(text: str, think_tags: Sequence[str] = ("think",), harmony: bool = True,
                    unclosed: str = "drop", opened: bool = False) -> str:
    """The part of a response that may hold the final answer."""
    if harmony:
        text = strip_harmony(text)
    return strip_think(text, think_tags, unclosed, opened)


# --------------------------------------------------------------------------- boxed


def _match_braces(text: str) -> dict[int, int]:
    """Map each grouping ``{`` to its ``}`` in one pass. ``\\{``/``\\}`` are literal braces in
    LaTeX (set delimiters) and do not group; ``\\\\`` is a line break, so the brace after it does."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            pairs[stack.pop()] = i
        i += 1
    return pairs


_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")


def _closing_brace(text: str, j: int) -> int | None:
    """The ``}`` that closes the ``{`` at ``j`` (same rules as ``_match_braces``), scanning only
    from ``j``: the last box of a long response closes within a few characters of it."""
    depth = 0
    for m in _BRACE_TOKEN_RE.finditer(text, j):
        t = m.group()
        if t == "{":
            depth += 1
        elif t == "}":
            depth -= 1
            if depth == 0:
                return m.start()
    return None


_BRACE_TOKEN_RE = re.compile(r"\\.|[{}]", re.DOTALL)


def _last_boxed_span(text: str) -> tuple[str, int, int] | None:
    """(content, start of ``\\boxed``, end after the box) of the last complete box. The first
    candidate is closed by a local scan; only when it is unclosed (a cut response) are all braces
    matched once, so many unclosed boxes stay linear."""
    marks = list(_BOX_RE.finditer(text))
    if not marks:
        return None
    pairs: dict[int, int] | None = None
    for m in reversed(marks):
        j = m.end()
        while j < len(text) and text[j] in " \t":
            j += 1
        if j < len(text) and text[j] == "{":
            if pairs is None:
                end = _closing_brace(text, j)
                if end is None:
                    pairs = _match_braces(text)
            else:
                end = pairs.get(j)
            if end is not None:
                return text[j + 1:end], m.start(), end + 1
            continue  # truncated box: try an earlier one
        if j > m.end():  # "\\boxed 5": the argument runs to whitespace or '$'
            k = j
            while k < len(text) and text[k] not in " \t\n$":
                k += 1
            if k > j:
                return text[j:k], m.start(), k
    return None


# what may stand between boxes that together are one answer: "\boxed{1}, \boxed{2}",
# "\boxed{(2, 2)} \quad \text{and} \quad \boxed{(6, 2)}", "\(y_1 = \boxed{a}\) and \(y_2 = \boxed{b}\)"
_BOX_GAP_RE = re.compile(r"(?:[ \t\n,;$]|\\[()\[\]]|\\q?quad|\\text\{[^{}\n]{0,30}\}|and|or|"
                         r"[A-Za-z](?:_\{?[0-9A-Za-z]{1,3}\}?)?[ \t]*=)*")
_MAX_GAP = 60


def last_boxed(text: str) -> str | None:
    """Content of the last complete ``\\boxed{…}`` / ``\\fbox{…}`` (nested braces kept), or of
    ``\\boxed 5`` (argument without braces). Boxes right before it that are joined only by
    commas, "and", ``\\quad`` or ``y_2 =`` are one multi-part answer: their distinct contents
    are joined with ", " (as math-verify reads them)."""
    last = _last_boxed_span(text)
    if last is None:
        return None
    parts = [last[0]]
    start = last[1]
    while start > 0 and len(parts) < 20:
        prev = _last_boxed_span(text[:start])
        if prev is None:
            break
        gap = text[prev[2]:start]
        if len(gap) > _MAX_GAP or "\n\n" in gap or not _BOX_GAP_RE.fullmatch(gap):
            break
        parts.append(prev[0])
        start = prev[1]
    seen: list[str] = []
    for p in reversed(parts):
        if p.strip() not in [q.strip() for q in seen]:
            seen.append(p)
    return ", ".join(q.strip() for q in seen) if len(seen) > 1 else parts[0]


_PERCENT_RE = re.compile(r"[ \t]*\$?[ \t]*(?:\\?%|percent\b|pct\b|per[ \t]cent\b)", re.IGNORECASE)


def percent_after(text: str, end: int) -> bool:
    """A percent sign or word right after position ``end`` ("28 percent", "$28$ %")."""
    return _PERCENT_RE.match(text, end) is not None


def with_percent(answer: str) -> str:
    """``28`` → ``28\\%`` (unchanged when it already ends with a percent sign)."""
    a = answer.rstrip()
    return a if a.endswith("%") else a + "\\%"


# --------------------------------------------------------------------------- other formats


def _last_tag(text: str, tag: str) -> str | None:
    low = text.lower()
    c = low.rfind(f"</{tag}>")
    if c == -1:
        return None
    o = low.rfind(f"<{tag}>", 0, c)
    if o == -1:
        return None
    return text[o + len(tag) + 2:c]


def answer_tag(text: str) -> str | None:
    """Content of the last ``<answer>…</answer>``; a box inside it wins over the rest."""
    inner = _last_tag(text, "answer")
    if inner is None:
        return None
    boxed = last_boxed(inner)
    return boxed if boxed is not None else inner


def gsm8k(text: str) -> str | None:
    """The GSM8K reference format: ``#### 42`` (the rest of that line)."""
    i = text.rfind("####")
    if i == -1:
        return None
    line = text[i + 4:].split("\n", 1)[0].strip()
    return line or None


_ANSWER_CUE_RE = re.compile(r"(?:final\s+answer|answer)(?![A-Za-z])", re.IGNORECASE)


def _skip(text: str, i: int, chars: str) -> int:
    while i < len(text) and text[i] in chars:
        i += 1
    return i


def _after_cue(text: str, i: int, words: Sequence[str] = ("is",)) -> int | None:
    """Index after the connective that follows a cue word ("answer is", "Answer:", "**Answer:**"),
    or None when the cue is not followed by one. Scanned by hand: regexes with several optional
    whitespace runs in a row backtrack polynomially on long blank runs."""
    j = _skip(text, i, " \t*")
    hit = False
    if j < len(text) and text[j] in ":=\uff1a":
        return _skip(text, j + 1, " \t*")
    for w in words:
        if text[j:j + len(w)].lower() == w and not text[j + len(w):j + len(w) + 1].isalpha():
            j = _skip(text, j + len(w), " \t*")
            hit = True
            break
    if not hit:
        return None
    if j < len(text) and text[j] in ":=\uff1a":
        j = _skip(text, j + 1, " \t*")
    return j


_MATH_SPAN_RE = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_NUMBER_HEAD_RE = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?%?|-?[0-9]+(?:\.[0-9]+)?(?:/[0-9]+)?%?")


def _answer_is(text: str) -> tuple[str, bool, int] | None:
    """(answer, is_sentence, where the answer starts) after the last cue whose answer is whole;
    ``is_sentence``: no math span, box or leading number was found, so the answer is the rest of
    the sentence. A cue followed by a box cut off by the length limit ("The final answer is
    \\boxed{(-\\infty" at the very end) is passed over for the one before it."""
    starts = []
    for m in _ANSWER_CUE_RE.finditer(text):
        j = _after_cue(text, m.end())
        if j is not None:
            starts.append(j)
    for start in reversed(starts[-20:]):
        found = _answer_at(text, start)
        if found != "cut":
            return found
    return None


# a box whose backslash was lost (markdown ate it): "The final answer is (boxed{4})."
_BARE_BOX_RE = re.compile(r"(?<![\\A-Za-z])boxed\{")
# currency signs in front of an amount ("€77", "US$ 5"); "$" itself is handled with math spans
_CURRENCY_RE = re.compile(r"(?:US|USD|EUR|GBP)?[ \t]*(?:\\\$|[€£¥₹])[ \t]*")


def _answer_at(text: str, start: int) -> tuple[str, bool, int] | None | str:
    """The answer after one cue (see ``_answer_is``); "cut" for a box left unclosed."""
    rest = text[start:]
    rest = rest.lstrip(" \t*:")
    if rest.startswith("\n"):
        rest = rest.lstrip()
    if not rest:
        return None
    at = len(text) - len(rest)
    line = _BARE_BOX_RE.sub(r"\\boxed{", rest.split("\n", 1)[0])
    span = _MATH_SPAN_RE.match(line)
    if span and _PROSE_RE.search(next(g for g in span.groups() if g is not None)) \
            and re.match(r"\$[ \t]*[0-9]", line):
        span = None  # "$12.00. Thanks for the help! … is $12": dollar signs, not math
    if span:
        value = next(g for g in span.groups() if g is not None).strip()
        if percent_after(line, span.end()):
            value = with_percent(value)
        return value, False, at
    boxed = last_boxed(line)
    if boxed is not None:
        return boxed, False, at
    if _BOX_RE.search(line):
        return "cut"
    cur = _CURRENCY_RE.match(line) or re.match(r"\$[ \t]*(?=[0-9])", line)
    num = _NUMBER_HEAD_RE.match(line, cur.end() if cur else 0)
    if num and (num.end() == len(line) or not line[num.end()].isalnum()):
        return num.group(0), False, at
    # up to the end of the sentence: a period followed by a space or the end (not a decimal point)
    m = re.search(r"\.(?:\s|$)", line)
    sentence = line[:m.start()] if m else line
    sentence = sentence.strip().strip("*").strip()
    return (sentence, True, at) if sentence else None


def answer_is(text: str) -> str | None:
    """After the last "answer is" / "Answer:" / "final answer is": a math span, a number, or the
    rest of the sentence (what strict "Final Answer:" regexes miss)."""
    found = _answer_is(text)
    return found[0] if found else None


# two words of prose ("James runs a total of 540 meters"), not a LaTeX command or an expression
_PROSE_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}\s+[A-Za-z]{2,}(?![A-Za-z])")


# a word of prose ("indeed 6", "correct"), not inside a LaTeX command name
_WORD_RE2 = re.compile(r"(?<![\\A-Za-z{])[A-Za-z]{2,}")


def tail(text: str, chars: int) -> str:
    """The final part of a response, cut at a line start so that no ``$…$`` pair is split (a
    single line longer than ``chars`` is kept whole, up to ``4 * chars``)."""
    if len(text) <= chars:
        return text
    cut = len(text) - chars
    nl = text.rfind("\n", 0, cut)
    if nl != -1 and len(text) - nl <= 4 * chars:
        return text[nl + 1:]
    nl = text.find("\n", cut)
    return text[nl + 1:] if nl != -1 and nl + 1 < len(text) else text[-chars:]


_LAST_NUMBER_RE = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|-?[0-9]+(?:\.[0-9]+)?(?:/[0-9]+)?")


def last_number(text: str) -> str | None:
    """The last number in the text (fallback for free-form answers; disable via ``order``)."""
    last = None
    for last in _LAST_NUMBER_RE.finditer(text):
        pass
    return last.group(0) if last else None


_THOUSANDS_RE = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")


def clean_answer(ans: str) -> str:
    """Cosmetics around an extracted answer that no checker should see: surrounding whitespace
    and ``$``, a trailing period, a currency sign, ``**`` emphasis, thousands separators."""
    s = ans.strip()
    for _ in range(3):
        before = s
        s = s.strip().strip("*").strip()
        if len(s) >= 2 and s[0] == "$" and s[-1] == "$":
            s = s.strip("$").strip()
        if s.startswith("\\(") and s.endswith("\\)") or s.startswith("\\[") and s.endswith("\\]"):
            s = s[2:-2].strip()
        if s.endswith(".") and not s.endswith(".."):
            s = s[:-1].rstrip()
        if s.startswith("\\$"):
            s = s[2:].lstrip()
        elif s[:1] in _CURRENCY_SIGNS:
            s = s[1:].lstrip()
        elif s.startswith("$") and s.count("$") == 1:
            s = s[1:].lstrip()
        if s == before:
            break
    if _THOUSANDS_RE.fullmatch(s):
        s = s.replace(",", "")
    return _ORDINAL_RE.sub(r"\1", s)


_CURRENCY_SIGNS = "€£¥₹"
# "12^{\mathrm{th}}", "3^{\text{rd}}", "2nd": an ordinal suffix is no part of the number
_ORDINAL_RE = re.compile(r"([0-9])(?:\^\{?\\(?:mathrm|text|textrm)\{(?:st|nd|rd|th)\}\}?|\^\{(?:st|nd|rd|th)\})")


_FUNCS = {"answer_tag": answer_tag, "boxed": last_boxed, "gsm8k": gsm8k,
          "answer_is": answer_is, "last_number": last_number}

TailParser = Callable[[str], "str | None"]


def mv_parse(text: str) -> str | None:
    """math-verify's own parser, in this process (sympy is imported on first use). Judges route
    this through their worker pool instead (hard timeout, no sympy in the parent)."""
    from .mv_worker import parse_answer

    return parse_answer(text)


def _answer_is_value(body: str, parse: TailParser) -> tuple[str | None, int, bool]:
    """The "answer is" extraction and where it starts; a sentence of prose ("Answer: James runs
    540 meters a week") is handed to math-verify's parser, and kept whole only when it holds no
    math. Also says whether the value is math (not a sentence kept whole)."""
    hit = _answer_is(body)
    if hit is None:
        return None, -1, False
    value, sentence, at = hit
    if sentence and _WORD_RE2.search(value):
        # with the cue in front, math-verify reads the sentence as it reads a whole response:
        # the amount right after the cue ("Answer: There are 3 … of both 100 and 150" → 3)
        parsed = parse("Answer: " + value)
        if parsed is not None:
            k = value.rfind(parsed)
            pct = k != -1 and percent_after(value, k + len(parsed))
            return (with_percent(parsed) if pct else parsed), at, True
        if not any(ch.isdigit() for ch in value):
            return None, at, False  # "the answer is correct": a remark, not an answer
    return value, at, not sentence


def extract_answer(text: str | None, order: Iterable[str] = DEFAULT_ORDER,
                   think_tags: Sequence[str] = ("think",), harmony: bool = True,
                   unclosed: str = "drop", *, opened_think: bool = False,
                   think_fallback: str = "none", finish_reason: str | None = None,
                   on_length: str = "markers", tail_chars: int = 1000,
                   parse: TailParser | None = None) -> Extraction:
    """Strip reasoning, then try each extractor in ``order``; the first hit wins.

    ``parse`` is math-verify's parser (``mv_parse`` when None): the ``math_verify`` extractor
    hands it the response's final ``tail_chars``; "Answer: <sentence>" hands it the sentence.
    A response that stopped on the length limit (``finish_reason == "length"``) may be cut
    anywhere, so by default (``on_length="markers"``) only explicit markers count there;
    ``"none"``: never an answer, ``"all"``: as any other response. When nothing is found outside
    the reasoning, ``think_fallback="last_boxed"`` takes the last box of the final (or unclosed)
    think block; by default (``"none"``) reasoning never yields an answer.
    """
    if not text:
        return Extraction(None, "none")
    p = parse or mv_parse
    if harmony:
        text = strip_harmony(text)
    split = split_think(text, think_tags, opened_think)
    body = split.answer
    if not split.closed and unclosed == "keep":
        body = body + split.blocks[-1]
    names = list(order)
    if finish_reason == "length" and on_length != "all":
        names = [n for n in names if n in MARKERS] if on_length == "markers" else []
    for name in names:
        if name == "math_verify":
            found = None
            if body.strip():
                tl = tail(body, tail_chars)
                found = p(tl)
                if found is not None:
                    at = tl.rfind(found)
                    if at != -1 and percent_after(tl, at + len(found)):
                        found = with_percent(found)
        elif name == "answer_is":
            found = _answer_is_value(body, p)[0]
        elif name == "boxed":
            span = _last_boxed_span(body)
            found = last_boxed(body) if span else None
            if span and percent_after(body, span[2]):
                found = with_percent(found)  # type: ignore[arg-type]
            if span and "answer_is" in names:
                # "… \boxed{255} … Final Answer: The final answer is $10,455$": the later
                # explicit answer wins (a cue whose sentence holds no math does not)
                later, at, is_math = _answer_is_value(body, p)
                if later is not None and is_math and at > span[2]:
                    found, name = later, "answer_is"
        else:
            fn = _FUNCS.get(name)
            if fn is None:
                raise ValueError(f"unknown extractor {name!r}; expected one of {', '.join(EXTRACTORS)}")
            found = fn(body)
        if found is not None:
            found = clean_answer(found)
            if found:
                return Extraction(found, name)
    if think_fallback == "last_boxed" and split.blocks and (finish_reason != "length" or on_length != "none"):
        found = last_boxed(split.blocks[-1])
        if found is not None and clean_answer(found):
            return Extraction(clean_answer(found), "think_boxed")
    return Extraction(None, "none")


# a reference answer this short is an answer, not a worked solution with boxed steps
_SHORT_GOLD = 120
_ONE_SPAN_RE = re.compile(r"\s*\$([^$]*)\$\s*")


def _all_boxes(text: str) -> list[str]:
    out: list[str] = []
    while (span := _last_boxed_span(text)) is not None:
        out.append(span[0])
        text = text[:span[1]]
    return out[::-1]


def extract_gold(answer: str | None) -> str | None:
    """A dataset's reference answer: a boxed or ``####`` solution reduces to its answer, a bare
    answer is kept as it is."""
    if answer is None:
        return None
    one_span = _ONE_SPAN_RE.fullmatch(answer) if len(answer) <= _SHORT_GOLD else None
    if one_span:
        boxes = _all_boxes(one_span.group(1))
        if len(boxes) > 1:  # "$\\boxed{35 cm} + \\boxed{4}$": one formula, a multi-part answer
            return ", ".join(dict.fromkeys(clean_answer(b) for b in boxes))
    parts = _gold_boxes(answer)
    if len(parts) > 1:
        return ", ".join(dict.fromkeys(clean_answer(b) for b in parts))
    for fn in (last_boxed, gsm8k):
        found = fn(answer)
        if found is not None:
            return clean_answer(found) or None
    return clean_answer(answer) or None


# math-verify (latex2sympy2_extended's extract_boxed_content, mode "last") reads boxes of a gold
# as one answer when they stand close (gap under 10 characters) or, with different contents,
# within 70 characters holding "and", "or", a comma or a semicolon
_GOLD_SEP_RE = re.compile(r"\b(?:and|or)\b|,|;")


def _gold_boxes(answer: str) -> list[str]:
    """The boxes of a reference answer that math-verify reads together, in text order:
    "\\boxed{1} papers and \\boxed{2} bins" is 1 and 2, "\\boxed{1} no no no no no \\boxed{2}" is 2."""
    last = _last_boxed_span(answer)
    if last is None:
        return []
    parts = [last[0].strip()]
    start = last[1]
    while len(parts) < 20:
        prev = _last_boxed_span(answer[:start])
        if prev is None:
            break
        gap, content = answer[prev[2]:start], prev[0].strip()
        if not (len(gap) < 10 or (content != parts[-1] and len(gap) < 70 and _GOLD_SEP_RE.search(gap))):
            break
        if content != parts[-1]:
            parts.append(content)
        start = prev[1]
    return parts[::-1]


# --------------------------------------------------------------------------- multiple choice

_CHOICE_CUE_RE = re.compile(r"(?:answer|option|choice)(?![A-Za-z])", re.IGNORECASE)


def _cued_letter(text: str, i: int, letters: str) -> str | None:
    """The letter right after "answer is" / "Answer:" (optionally "option", brackets, bold)."""
    j = _after_cue(text, i)
    if j is None:
        return None
    for w in ("option", "choice"):
        if text[j:j + len(w)].lower() == w:
            j = _skip(text, j + len(w), " \t*")
    j = _skip(text, j, "([ \t*")
    if j < len(text) and text[j].upper() in letters and not text[j + 1:j + 2].isalpha():
        if text[j].isupper() or (j > 0 and text[j - 1] in "(["):
            return text[j].upper()
    return None


_PAREN_LETTER_RE = re.compile(r"\(([A-Z])\)")
_BOLD_LETTER_RE = re.compile(r"\*\*\s*\(?([A-Z])\)?[.:]?\s*\*\*")
_TEXT_WRAP_RE = re.compile(r"^\\(?:text|textbf|mathrm|mathbf)\{(.*)\}$", re.DOTALL)


def _as_letter(s: str, letters: str) -> str | None:
    s = s.strip().strip("$*").strip()
    m = _TEXT_WRAP_RE.match(s)
    if m:
        s = m.group(1).strip()
    s = s.strip("()[]. :").strip()
    if len(s) == 1 and s.upper() in letters:
        return s.upper()
    # "B) 42" / "(B) 42" / "B. 42"
    m = re.match(r"^\(?([A-Za-z])[\).:]\s", s + " ")
    if m and m.group(1).upper() in letters:
        return m.group(1).upper()
    return None


def extract_choice(text: str | None, letters: str = "ABCD", think_tags: Sequence[str] = ("think",),
                   harmony: bool = True, unclosed: str = "drop") -> Extraction:
    """A multiple-choice letter: boxed, ``<answer>``, "the answer is (B)", then ``(B)``/``**B**``
    as the last resort. A bare capital letter in prose is never taken ("A" is an article)."""
    if not text:
        return Extraction(None, "none")
    body = strip_reasoning(text, think_tags, harmony, unclosed)
    letters = letters.upper()
    for name, fn in (("answer_tag", answer_tag), ("boxed", last_boxed)):
        found = fn(body)
        if found is not None:
            letter = _as_letter(found, letters)
            if letter:
                return Extraction(letter, name)
    cued = None
    for m in _CHOICE_CUE_RE.finditer(body):
        letter = _cued_letter(body, m.end(), letters)
        if letter:
            cued = letter
    if cued is not None:
        return Extraction(cued, "answer_is")
    for name, rx in (("bold", _BOLD_LETTER_RE), ("paren", _PAREN_LETTER_RE)):
        hit = None
        for m in rx.finditer(body):
            if m.group(1) in letters:
                hit = m
        if hit is not None:
            return Extraction(hit.group(1), name)
    stripped = body.strip()
    letter = _as_letter(stripped, letters) if len(stripped) <= 4 else None
    if letter:
        return Extraction(letter, "bare")
    return Extraction(None, "none")


# --------------------------------------------------------------------------- critique

_CONCLUSION_CUE_RE = re.compile(r"conclusion(?![A-Za-z])", re.IGNORECASE)
_WORD_RE = re.compile(r"[A-Za-z]+")


def extract_conclusion(text: str | None, positive: Sequence[str] = ("right", "correct"),
                       negative: Sequence[str] = ("wrong", "incorrect"),
                       think_tags: Sequence[str] = ("think",), harmony: bool = True,
                       unclosed: str = "drop") -> Extraction:
    """A critique's verdict from its last "Conclusion: right/wrong" (or a boxed word), mapped to
    "right" / "wrong"."""
    if not text:
        return Extraction(None, "none")
    body = strip_reasoning(text, think_tags, harmony, unclosed)
    pos = {p.lower() for p in positive}
    neg = {n.lower() for n in negative}
    word = None
    for m in _CONCLUSION_CUE_RE.finditer(body):
        j = _after_cue(body, m.end(), words=())
        if j is None:
            continue
        j = _skip(body, j, " \t*$\\")
        if body[j:j + 5] == "text{":
            j += 5
        w = _WORD_RE.match(body, j)
        if w:
            word = w.group(0)
    candidates = []
    if word is not None:
        candidates.append(("conclusion", word))
    boxed = last_boxed(body)
    if boxed is not None:
        candidates.append(("boxed", boxed))
    for method, word in candidates:
        w = word.strip().strip("$*.{}").lower()
        w = re.sub(r"^\\text\{|\}$", "", w).strip()
        if w in pos:
            return Extraction("right", method)
        if w in neg:
            return Extraction("wrong", method)
    return Extraction(None, "none")


def normalize_label(label: str | bool | None, positive: Sequence[str] = ("right", "correct", "true", "yes"),
                    negative: Sequence[str] = ("wrong", "incorrect", "false", "no")) -> str | None:
    """A critique target in any common spelling → "right" / "wrong"."""
    if label is None:
        return None
    if isinstance(label, bool):
        return "right" if label else "wrong"
    w = str(label).strip().lower()
    if w in {p.lower() for p in positive}:
        return "right"
    if w in {n.lower() for n in negative}:
        return "wrong"
    return None


# --------------------------------------------------------------------------- code

_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)


def extract_code(text: str | None, languages: Sequence[str] = ("python", "python3", "py", ""),
                 think_tags: Sequence[str] = ("think",), harmony: bool = True,
                 unclosed: str = "drop") -> Extraction:
    """The last fenced code block in one of ``languages`` ("" = no language given)."""
    if not text:
        return Extraction(None, "none")
    body = strip_reasoning(text, think_tags, harmony, unclosed)
    langs = {lang.lower() for lang in languages}
    last = None
    for m in _FENCE_RE.finditer(body):
        if m.group(1).lower() in langs:
            last = m
    if last is None:
        return Extraction(None, "none")
    code = last.group(2)
    return Extraction(code if code.strip() else None, "fence" if code.strip() else "none")
