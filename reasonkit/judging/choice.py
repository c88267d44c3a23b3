"""``judge=choice`` (GPQA, MMLU letters) and ``judge=critique`` ("Conclusion: right/wrong")."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from reasonkit.think import THINK_VERSION

from .base import JUDGES, BaseJudge
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


class _LabelJudge(BaseJudge):
    """Shared loop of the judges that compare an extracted label with the dataset's label."""

    def __init__(self, cfg: JudgeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.stats.update(no_gold=0)

    def _extract(self, response: Any):
        raise NotImplementedError

    def _gold(self, answer: Any) -> str | None:
        raise NotImplementedError

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for s in samples:
            ext = self._extract(s.get("response"))
            gold = self._gold(s.get("answer"))
            if gold is None:
                self.stats["no_gold"] += 1
            self._verdict(s, ext.answer, gold is not None and ext.answer == gold,
                          extract_method=ext.method)
            s["label_source"] = "dataset" if gold is not None else "none"
            yield s


@JUDGES.register("choice")
class ChoiceJudge(_LabelJudge):
    name = "choice"
    version = f"{CHOICE_VERSION}+x{EXTRACT_VERSION}+t{THINK_VERSION}"

    def _extract(self, response: Any):
        e = self.cfg.extract
        return extract_choice(response, self.cfg.choices.upper(), e.think_tags, e.harmony, e.unclosed_think)

    def _gold(self, answer: Any) -> str | None:
        return gold_letter(answer, self.cfg.choices.upper())


@JUDGES.register("critique")
class CritiqueJudge(_LabelJudge):
    """A critique is correct when its conclusion matches the target right/wrong label."""

    name = "critique"
    version = f"{CRITIQUE_VERSION}+x{EXTRACT_VERSION}+t{THINK_VERSION}"

    def _extract(self, response: Any):
        c, e = self.cfg, self.cfg.extract
        return extract_conclusion(response, c.positive, c.negative, e.think_tags, e.harmony, e.unclosed_think)

    def _gold(self, answer: Any) -> str | None:
        return normalize_label(answer, self.cfg.positive, self.cfg.negative)
