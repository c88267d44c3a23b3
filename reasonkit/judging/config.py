"""Typed schema of the ``judge`` config group.

One dataclass for the whole group (with small nested ones per concern) so that every
``conf/judge/<option>.yaml`` is checked against it at composition: a typo in a judge option fails
before any sample is read. Defaults are the ones the workflows in DESIGN.md use.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JUDGE_NAMES = ("math", "vote", "judge_vote", "code", "choice", "critique", "llm", "llm_vote")


@dataclass
class ExtractConfig:
    """How an answer is pulled out of a response (see ``reasonkit.judging.extract``)."""

    # reasoning removed before anything else is looked at
    think_tags: list[str] = field(default_factory=lambda: ["think"])
    harmony: bool = True  # gpt-oss channels: keep only the ``final`` channel
    # an opened but never closed think block (truncated generation): "drop" its text or "keep" it
    unclosed_think: str = "drop"
    # the chat template opened the think block in the prompt (R1, Qwen3 with sampler.think=keep):
    # a response without any closing tag is then reasoning only (no answer)
    opened_think: bool = False
    # nothing found outside the reasoning: "none" (no answer) or "last_boxed" (the last box of the
    # final or unclosed think block)
    think_fallback: str = "none"
    # a response that stopped on the length limit (finish_reason "length") may be cut anywhere:
    # "markers" (only explicit markers: answer tag, box, ####, "the answer is"), "none" or "all"
    on_length: str = "markers"
    # extractors tried in order; the first that finds something wins. math_verify: math-verify's
    # own parser (LaTeX, then plain expressions) on the final tail_chars of the response;
    # last_number (off by default) keeps the last number of the text
    order: list[str] = field(
        default_factory=lambda: ["answer_tag", "boxed", "gsm8k", "answer_is", "math_verify"])
    tail_chars: int = 1000
    # answers longer than this are not sent to the verifier (verdict false, counted in stats)
    max_answer_chars: int = 2000


@dataclass
class SandboxConfig:
    """Limits for running untrusted programs (``judge=code``)."""

    backend: str = "bwrap"  # bwrap (namespaces; scripts/install_sandbox.sh) | none (rlimits only)
    python: str | None = None  # interpreter for solutions; default: the running one
    test_timeout_s: float = 4.0  # wall time per test, counted from the test's fork
    total_timeout_s: float = 60.0  # all tests of one solution, counted after the sandbox is up
    spawn_timeout_s: float = 20.0  # sandbox start (not charged to any test)
    memory_mb: int = 1024  # RLIMIT_AS per test process
    # RLIMIT_NPROC per test (the sandbox runs under its own uid). Memory is capped per process, so
    # one sandbox can hold at most memory_mb * max_processes.
    max_processes: int = 16
    max_file_mb: int = 32  # RLIMIT_FSIZE
    workdir_mb: int = 128  # size of the throwaway tmpfs working dir
    max_output_kb: int = 1024  # stdout kept per test
    uid_base: int = 61000  # concurrent sandboxes run as uid_base + slot when started as root
    stop_on_fail: bool = True  # kill the solution at its first failing test
    max_tests: int | None = None  # only the first N tests (None: all)
    ro_binds: list[str] = field(default_factory=list)  # extra host dirs visible read-only


@dataclass
class LLMJudgeConfig:
    """A judge model asked through any engine; its reply must contain a JSON object."""

    prompt: str = (
        "You are grading an answer to a problem.\n\nProblem:\n{prompt}\n\n"
        "Reference answer:\n{answer}\n\nCandidate response:\n{response}\n\n"
        "Is the candidate's final answer equivalent to the reference answer? Reply with a JSON "
        'object only: {{"correct": true or false, "reason": "<one sentence>"}}')
    sampling: dict[str, Any] = field(
        default_factory=lambda: {"temperature": 0.0, "max_tokens": 512})
    seed: int = 0
    batch_size: int = 64
    strip_reasoning: bool = True  # judge only the response's final part, not its thinking


@dataclass
class LLMVoteConfig:
    """``judge=llm_vote``: the judge model clusters a problem's answers; its reply must contain a
    JSON object of counts. Placeholders: {prompt}, {answers} (numbered, one per line), {n}."""

    prompt: str = (
        "Below are {n} final answers that different solutions gave to the same problem.\n\n"
        "Problem:\n{prompt}\n\nAnswers:\n{answers}\n\n"
        "Group the answers that are mathematically equivalent. Reply with a JSON object only: one key "
        "per group, the group's answer copied exactly from the list, and as value the number of listed "
        'answers in that group, e.g. {{"1/2": 5, "3": 2}}.')
    sampling: dict[str, Any] = field(
        default_factory=lambda: {"temperature": 0.0, "max_tokens": 1024})
    seed: int = 0
    batch_size: int = 256  # samples per engine call (whole problems)


@dataclass
class JudgeConfig:
    """The ``judge`` group. ``name`` selects the judge; other fields are read by the judges that
    need them and ignored by the rest."""

    name: str = "math"
    extract: ExtractConfig = field(default_factory=ExtractConfig)

    # verification (math, vote, judge_vote)
    timeout_s: float = 5.0  # hard per-item limit: the worker is killed past it
    workers: int = 0  # processes (0: os.cpu_count())
    batch_size: int = 1024  # samples per batch (whole problems); two batches are in flight
    cache_size: int = 200_000  # (gold, answer) verdicts kept
    worker_memory_mb: int = 4096  # RLIMIT_AS per verifier worker
    start_method: str = "forkserver"
    fast_path: bool = True  # decide string-identical and plain-integer answers without sympy
    float_rounding: int = 6  # passed to math_verify.verify
    numeric_precision: int = 15
    strict: bool = True
    second_checker: str | None = None  # None | "normalized": an independent string/number check
    disagreements_path: str | None = None  # JSONL log of primary vs second checker

    # pseudo-labels (vote, judge_vote)
    min_share: float = 0.9
    min_count: int = 4

    # choice
    choices: str = "ABCD"

    # critique
    positive: list[str] = field(default_factory=lambda: ["right", "correct", "true", "yes"])
    negative: list[str] = field(default_factory=lambda: ["wrong", "incorrect", "false", "no"])

    code: SandboxConfig = field(default_factory=SandboxConfig)
    llm: LLMJudgeConfig = field(default_factory=LLMJudgeConfig)
    llm_vote: LLMVoteConfig = field(default_factory=LLMVoteConfig)
