"""A user's mistakes, found before any stage works and reported one line each, no traceback.

Two halves: ``check_config`` refuses out-of-range numbers that the typed schema cannot express
(``sampler.n=-1`` composes fine as an int, then generates nothing), and ``one_line_errors`` turns
every mistake of the user's (a bad data file, a config typo Hydra found, a value out of range) into
``reasonkit: error: <file:line: field: expected …>`` on stderr and exit status 2. Bugs keep their
traceback; ``HYDRA_FULL_ERROR=1`` shows the traceback of user errors too.
"""
from __future__ import annotations

import math
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TextIO

from reasonkit.records import InputError

EXIT_USER_ERROR = 2
_OURS = "_REASONKIT_SET_HYDRA_FULL_ERROR"  # HYDRA_FULL_ERROR was set by us, not by the user


class ConfigError(InputError):
    """One or more config values out of range; ``lines`` has one message per mistake."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


# --------------------------------------------------------------------------- config ranges

def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not (isinstance(v, float) and math.isnan(v))


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class Rule:
    """``key`` (dotted, from the root) must satisfy ``ok``; ``expected`` says so in words."""

    key: str
    ok: Callable[[Any], bool]
    expected: str
    optional: bool = False  # null (or absent) is allowed

    def check(self, cfg: Any) -> str | None:
        value = _get(cfg, self.key)
        if value is _ABSENT or (value is None and self.optional):
            return None
        if value is None or not self.ok(value):
            return f"config {self.key}: expected {self.expected}{' or null' if self.optional else ''}, got {value!r}"
        return None


_ABSENT = object()


def _get(cfg: Any, key: str) -> Any:
    node = cfg
    for part in key.split("."):
        try:
            if part not in node:
                return _ABSENT
            node = node[part]
        except TypeError:
            return _ABSENT
    return node


def at_least(lo: float, integer: bool = True) -> Callable[[Any], bool]:
    return lambda v: (_int(v) if integer else _num(v)) and v >= lo


def positive(v: Any) -> bool:
    return _num(v) and v > 0


def unit(lo_open: bool = False) -> Callable[[Any], bool]:
    return lambda v: _num(v) and (v > 0 if lo_open else v >= 0) and v <= 1


def one_of(*names: str) -> Callable[[Any], bool]:
    return lambda v: v in names


def _sampling(prefix: str, optional: bool = False) -> list[Rule]:
    """Keys of a ``sampling`` dict (passed through to vLLM's ``SamplingParams`` / the hf backend).
    ``optional``: null keeps another layer's value (eval: the benchmark's own sampling)."""
    o = optional
    return [Rule(f"{prefix}.temperature", at_least(0, integer=False), "a number ≥ 0", o),
            Rule(f"{prefix}.top_p", unit(lo_open=True), "a number in (0, 1]", o),
            Rule(f"{prefix}.min_p", unit(), "a number in [0, 1]", o),
            Rule(f"{prefix}.top_k", lambda v: _int(v) and (v == -1 or v >= 0), "-1, 0 (off) or an integer ≥ 1", o),
            Rule(f"{prefix}.max_tokens", at_least(1), "an integer ≥ 1", o),
            Rule(f"{prefix}.repetition_penalty", positive, "a number > 0", o),
            Rule(f"{prefix}.n", at_least(1), "an integer ≥ 1", o)]


RULES: list[Rule] = [
    Rule("sampler.n", at_least(1), "an integer ≥ 1 (samples per problem)"),
    Rule("sampler.batch_size", at_least(1), "an integer ≥ 1"),
    Rule("sampler.shards", at_least(1), "an integer ≥ 1"),
    Rule("sampler.think", one_of("keep", "strip", "split"), "keep, strip or split"),
    *_sampling("sampler.sampling"),
    Rule("eval.n", at_least(1), "an integer ≥ 1 (samples per problem)", optional=True),
    *_sampling("eval.sampling", optional=True),
    Rule("judge.timeout_s", positive, "a number of seconds > 0"),
    Rule("judge.workers", at_least(0), "an integer ≥ 0 (0: one per CPU core)"),
    Rule("judge.batch_size", at_least(1), "an integer ≥ 1"),
    Rule("judge.cache_size", at_least(0), "an integer ≥ 0"),
    Rule("judge.worker_memory_mb", at_least(1), "an integer ≥ 1"),
    Rule("judge.float_rounding", at_least(0), "an integer ≥ 0"),
    Rule("judge.min_share", unit(lo_open=True), "a share in (0, 1]"),
    Rule("judge.min_count", at_least(1), "an integer ≥ 1"),
    Rule("judge.extract.max_answer_chars", at_least(1), "an integer ≥ 1"),
    Rule("judge.code.test_timeout_s", positive, "a number of seconds > 0"),
    Rule("judge.code.total_timeout_s", positive, "a number of seconds > 0"),
    Rule("judge.code.memory_mb", at_least(1), "an integer ≥ 1"),
    Rule("judge.code.max_processes", at_least(1), "an integer ≥ 1"),
    Rule("judge.code.max_tests", at_least(1), "an integer ≥ 1", optional=True),
    Rule("judge.llm.batch_size", at_least(1), "an integer ≥ 1"),
    Rule("selection.max_per_problem", at_least(1), "an integer ≥ 1", optional=True),
    Rule("selection.pass_rate_min", unit(), "a pass rate in [0, 1]", optional=True),
    Rule("selection.pass_rate_max", unit(), "a pass rate in [0, 1]", optional=True),
    Rule("selection.near_dup_threshold", unit(), "a similarity in [0, 1]"),
    Rule("selection.decontam_ngram", at_least(1), "an integer ≥ 1"),
    Rule("format.max_per_problem", at_least(1), "an integer ≥ 1", optional=True),
    Rule("score.token_budget", at_least(1), "an integer ≥ 1"),
    Rule("score.head_chunk_mb", at_least(1), "an integer ≥ 1"),
    Rule("score.block_size", at_least(1), "an integer ≥ 1"),
    Rule("score.world_size", at_least(1), "an integer ≥ 1"),
    Rule("score.max_length", at_least(1), "an integer ≥ 1", optional=True),
    Rule("trainer.num_processes", at_least(1), "an integer ≥ 1"),
]


def _relations(cfg: Any) -> Iterator[str]:
    """Rules between two keys."""
    shard, shards = _get(cfg, "sampler.shard"), _get(cfg, "sampler.shards")
    if _int(shards) and shards >= 1 and shard not in (None, _ABSENT) and not (_int(shard) and 0 <= shard < shards):
        yield f"config sampler.shard: expected null or an integer in [0, sampler.shards={shards}), got {shard!r}"
    rank, world = _get(cfg, "score.rank"), _get(cfg, "score.world_size")
    if _int(world) and world >= 1 and rank is not _ABSENT and not (_int(rank) and 0 <= rank < world):
        yield f"config score.rank: expected an integer in [0, score.world_size={world}), got {rank!r}"
    n, ks = _get(cfg, "eval.n"), _get(cfg, "eval.ks")
    if _int(n) and n >= 1 and ks not in (None, _ABSENT):
        bad = [k for k in ks if not (_int(k) and 1 <= k <= n)]
        if bad:
            yield f"config eval.ks: expected integers in [1, eval.n={n}], got {list(ks)!r}"
    lo, hi = _get(cfg, "selection.pass_rate_min"), _get(cfg, "selection.pass_rate_max")
    if _num(lo) and _num(hi) and lo >= hi:
        yield f"config selection.pass_rate_min: expected < selection.pass_rate_max ({hi}), got {lo!r}"
    sizes = _get(cfg, "dataset.sizes")
    if sizes not in (None, _ABSENT):
        for split, v in sizes.items():
            if v is not None and not (_int(v) and v >= 1):
                yield f"config dataset.sizes.{split}: expected an integer ≥ 1 or null, got {v!r}"


def config_mistakes(cfg: Any) -> list[str]:
    """Every out-of-range value in ``cfg``, one message each (empty: the config is fine)."""
    return [m for m in (r.check(cfg) for r in RULES) if m] + list(_relations(cfg))


def check_config(cfg: Any) -> None:
    """Refuse a config with out-of-range values before any stage works (all mistakes at once)."""
    mistakes = config_mistakes(cfg)
    if mistakes:
        raise ConfigError(mistakes)


# --------------------------------------------------------------------------- one-line errors

def is_user_error(e: BaseException) -> bool:
    from hydra.errors import CompactHydraException, HydraException
    from omegaconf.errors import OmegaConfBaseException

    from reasonkit.pipeline.artifacts import MissingArtifact

    if isinstance(e, (InputError, MissingArtifact, CompactHydraException, OmegaConfBaseException)):
        return True
    # Hydra's composition errors (unknown group option, typo'd key) are HydraExceptions too
    return type(e) is HydraException or type(e).__module__.startswith("hydra.errors")


def is_environment_error(e: BaseException) -> bool:
    """Not the user's mistake, but fully explained by its own message (a full disk): one line, exit 1."""
    from reasonkit.pipeline.artifacts import OutOfSpace

    return isinstance(e, OutOfSpace)


def is_one_line(e: BaseException) -> bool:
    return is_user_error(e) or is_environment_error(e)


_NOISE = ("object_type=", "reference_type=")


def _one_line(text: str) -> str:
    """Hydra/OmegaConf messages span lines (key, then object types, then the search path)."""
    text = str(text).split("Config search path:")[0]
    return " ".join(ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith(_NOISE))


def error_lines(e: BaseException) -> list[str]:
    """What the user sees for their mistake: one line per mistake."""
    if isinstance(e, ConfigError):
        return list(e.lines)
    parts = [_one_line(str(e))]
    cause = e.__cause__
    if cause is not None and _one_line(str(cause)) not in parts[0]:
        parts.append(_one_line(str(cause)))
    return ["; ".join(p for p in parts if p) or type(e).__name__]


def _user_wants_tracebacks() -> bool:
    return os.environ.get("HYDRA_FULL_ERROR") == "1" and os.environ.get(_OURS) != "1"


@contextmanager
def one_line_errors(stream: TextIO | None = None) -> Iterator[None]:
    """Wrap the CLI: a user's mistake → one line per mistake on stderr, exit status 2.

    Hydra prints its own multi-line report unless ``HYDRA_FULL_ERROR=1``, so that is set (and
    marked as ours, so child processes still print one line); a user who sets it gets tracebacks.
    """
    if _user_wants_tracebacks():
        yield
        return
    os.environ["HYDRA_FULL_ERROR"] = "1"
    os.environ[_OURS] = "1"
    real = sys.stderr
    sys.stderr = held = _HoldJobBanner(real)
    try:
        yield
    except Exception as e:  # noqa: BLE001 - re-raised unless it is the user's mistake
        sys.stderr = real
        if not is_one_line(e):
            real.write("".join(held.held))
            raise
        out = stream or real
        for line in error_lines(e):
            print(f"reasonkit: error: {line}", file=out)
        out.flush()
        raise SystemExit(EXIT_USER_ERROR if is_user_error(e) else 1) from None
    finally:
        sys.stderr = real


class _HoldJobBanner:
    """stderr, minus Hydra's ``Error executing job with overrides: …`` line (written just before
    it re-raises the job's exception): kept back, and written only if the error is not the user's."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self.held: list[str] = []

    def write(self, text: str) -> int:
        if text.startswith("Error executing job with overrides:"):
            self.held.append(text)
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
