"""``judge=choice`` (GPQA, MMLU letters) and ``judge=critique`` ("Conclusion: right/wrong")."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from .base import BaseJudge
from .config import JudgeConfig
from .extract import EXTRACT_VERSION, extract_choice, extract_conclusion, normalize_label

CHOICE_VERSION = "1"
CRITIQUE_VERSION = "1"


def gold_letter(answer: Any, letters: str) -> str | None:
    """A reference answer given as a letter ("B", "(B)", "b") or a 0-based index."""
    if answer is None:
        return None
    if isinstance(answer, int) and not isinstance(answer, bool):
        return letters[answer] if 0 <= answer < len(letters) else None
    s = str(answer).strip().strip("()[]. ").upper()
    if len(s) == 1 and s in letters:
        return s
    if s.isdigit() and int(s) < len(letters):
        return letters[int(s)]
    return None


class ChoiceJudge(BaseJudge):
    name = "choice"
    version = f"{CHOICE_VERSION}+x{EXTRACT_VERSION}"

    def __init__(self, cfg: JudgeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.letters = cfg.choices.upper()
        self.stats.update(no_gold=0)

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        e = self.cfg.extract
        for s in samples:
            ext = extract_choice(s.get("response"), self.letters, e.think_tags, e.harmony,
                                 e.unclosed_think)
            gold = gold_letter(s.get("answer"), self.letters)
            if gold is None:
                self.stats["no_gold"] += 1
            self._verdict(s, ext.answer, gold is not None and ext.answer == gold,
                          extract_method=ext.method)
            s["label_source"] = "dataset" if gold is not None else "none"
            yield s


class CritiqueJudge(BaseJudge):
    """A critique is correct when its conclusion matches the target right/wrong label."""

    name = "critique"
    version = f"{CRITIQUE_VERSION}+x{EXTRACT_VERSION}"

    def __init__(self, cfg: JudgeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.stats.update(no_gold=0)

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        c, e = self.cfg, self.cfg.extract
        for s in samples:
            ext = extract_conclusion(s.get("response"), c.positive, c.negative, e.think_tags,
                                     e.harmony, e.unclosed_think)
            gold = normalize_label(s.get("answer"), c.positive, c.negative)
            if gold is None:
                self.stats["no_gold"] += 1
            self._verdict(s, ext.answer, gold is not None and ext.answer == gold,
                          extract_method=ext.method)
            s["label_source"] = "dataset" if gold is not None else "none"
            yield s
