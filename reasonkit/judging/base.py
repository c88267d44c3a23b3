"""Judge interface. A judge is a pure, versioned function of a sample record (and config): it
adds ``extracted``, ``correct`` and ``judge`` (``<name>@<version>``) and never looks at anything
else, so verdicts can be cached and re-checked from JSON case files."""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Protocol


class Judge(Protocol):
    name: str
    version: str

    def judge(self, samples: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Yield each sample (same order) with verdict fields filled in."""
        ...

    def close(self) -> None: ...
