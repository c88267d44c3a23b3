"""Tracker interface: one tracked run per stage execution. ``finish`` always runs (also when the
stage fails), and configs pass through ``redact`` before they leave the process."""
from __future__ import annotations

from typing import Any, Protocol


class Tracker(Protocol):
    def start(self, stage: str, config: dict[str, Any], group: str | None, name: str) -> None: ...

    def log(self, metrics: dict[str, Any], step: int | None = None) -> None: ...

    def table(self, key: str, rows: list[dict[str, Any]]) -> None: ...

    def finish(self, ok: bool = True) -> None: ...


class NullTracker:
    def start(self, stage, config, group, name):  # noqa: D102
        pass

    def log(self, metrics, step=None):  # noqa: D102
        pass

    def table(self, key, rows):  # noqa: D102
        pass

    def finish(self, ok=True):  # noqa: D102
        pass
