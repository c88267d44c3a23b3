"""Tracker interface: one tracked run per stage execution. ``finish`` always runs (also when the
stage fails), and configs pass through ``redact`` before they leave the process."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Protocol


class Tracker(Protocol):
    # Backend id of the current run (None for no backend); the runner records it in the manifest.
    run_id: str | None

    def start(self, stage: str, config: dict[str, Any], group: str | None, name: str) -> None: ...

    def log(self, metrics: dict[str, Any], step: int | None = None) -> None: ...

    def table(self, key: str, rows: list[dict[str, Any]]) -> None: ...

    # Final values the UI compares runs by (W&B summary), e.g. ``{"math500/avg@4": 0.41}``.
    def summary(self, metrics: dict[str, Any]) -> None: ...

    # More config keys after start (e.g. the flattened config of an eval cell).
    def update_config(self, config: dict[str, Any]) -> None: ...

    # Image files (plots) by key.
    def images(self, files: dict[str, Any]) -> None: ...

    def finish(self, ok: bool = True) -> None: ...


class NullTracker:
    run_id = None

    def start(self, stage, config, group, name):  # noqa: D102
        pass

    def log(self, metrics, step=None):  # noqa: D102
        pass

    def table(self, key, rows):  # noqa: D102
        pass

    def summary(self, metrics):  # noqa: D102
        pass

    def update_config(self, config):  # noqa: D102
        pass

    def images(self, files):  # noqa: D102
        pass

    def finish(self, ok=True):  # noqa: D102
        pass


@contextmanager
def tracked(tracker: Tracker, stage: str, config: dict[str, Any], group: str | None,
            name: str) -> Iterator[Tracker]:
    """``start`` … ``finish(ok)`` around a block; ``finish(False)`` when the block raises (also
    SystemExit from a SLURM requeue or KeyboardInterrupt), so no run is left open."""
    tracker.start(stage, config, group, name)
    ok = False
    try:
        yield tracker
        ok = True
    finally:
        tracker.finish(ok)
