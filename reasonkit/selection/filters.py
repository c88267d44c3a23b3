"""Text filters used by selection: normalisation, duplicate detection, n-gram decontamination.

Stdlib only (hashing and sets): the eval sets are small next to training data, and near-duplicate
checks only compare samples of one problem (tens of responses), so quadratic work there is cheap.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Iterable

from reasonkit.records import read_jsonl_numbered

_WORD = re.compile(r"\w+", re.UNICODE)
_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _WS.sub(" ", text).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def exact_key(prompt: str, response: str) -> bytes:
    return hashlib.blake2b((normalise(prompt) + "\x00" + normalise(response)).encode(),
                           digest_size=16).digest()


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    w = words(text)
    if len(w) < n:
        return {tuple(w)}
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _eval_texts(path: Path, field: str) -> Iterable[tuple[int, str]]:
    if path.suffix == ".txt":
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                yield lineno, line
        return
    fields = [field] + [f for f in ("prompt", "problem", "question") if f != field]
    for lineno, obj in read_jsonl_numbered(path):
        text = next((obj[f] for f in fields if isinstance(obj.get(f), str)), None)
        if text is None:
            raise ValueError(f"{path}:{lineno}: field '{field}': missing (expected a string; "
                             f"also tried {fields[1:]})")
        yield lineno, text


class Decontaminator:
    """Word n-gram index of eval prompts; ``hit(text)`` names the eval item a text overlaps.

    An eval text shorter than ``n`` words is indexed whole (as a gram of its own length), so a short
    eval question copied verbatim is still caught.
    """

    def __init__(self, paths: Iterable[str | Path], field: str = "prompt", n: int = 13):
        if n < 1:
            raise ValueError("selection.decontam_ngram must be ≥ 1")
        self.n = n
        self.grams: dict[int, dict[tuple[str, ...], str]] = {}
        self.n_items = 0
        for p in paths:
            p = Path(p)
            if not p.exists():
                raise FileNotFoundError(f"selection.decontam_paths: {p} does not exist")
            for lineno, text in _eval_texts(p, field):
                w = words(text)
                if not w:
                    continue
                self.n_items += 1
                src = f"{p.name}:{lineno}"
                size = min(n, len(w))
                table = self.grams.setdefault(size, {})
                for i in range(len(w) - size + 1):
                    table.setdefault(tuple(w[i:i + size]), src)

    def hit(self, text: str) -> str | None:
        w = words(text)
        for size, table in self.grams.items():
            for i in range(len(w) - size + 1):
                src = table.get(tuple(w[i:i + size]))
                if src:
                    return src
        return None
