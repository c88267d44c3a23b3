"""``judge=math`` (minimal): math-verify, gold first, verdicts cached per (gold, answer)."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from reasonkit.judging import extract as ex


class MathJudge:
    name = "math"

    def __init__(self, cfg):
        self.version = f"{cfg.version}.x{ex.VERSION}"
        self.cache: dict[tuple[str, str], bool] = {}
        self.stats = {"judged": 0, "cache_hits": 0, "no_answer": 0}

    def _verify(self, gold: str, ans: str) -> bool:
        key = (gold, ans)
        if key in self.cache:
            self.stats["cache_hits"] += 1
            return self.cache[key]
        from math_verify import parse, verify

        ok = bool(verify(parse(f"${gold}$"), parse(f"${ans}$")))
        self.cache[key] = ok
        return ok

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for s in samples:
            ans = ex.extract(s["response"])
            s["extracted"] = ans
            s["judge"] = f"{self.name}@{self.version}"
            if ans is None or s.get("answer") is None:
                self.stats["no_answer"] += ans is None
                s["correct"] = False
            else:
                s["correct"] = self._verify(str(s["answer"]), ans)
            self.stats["judged"] += 1
            yield s

    def close(self) -> None:
        pass
