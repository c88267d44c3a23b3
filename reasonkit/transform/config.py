"""Schema of the ``transform`` group (``conf/transform/<option>.yaml``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reasonkit.records import InputError

LEVELS = ("problem", "sample")
AFTER = ("judge", "dataset")
APPLY = ("field", "response")
UNPARSED = ("keep", "drop")


@dataclass
class ParserConfig:
    """How a reply becomes the field's value; a reply that does not fit is recorded, never guessed."""

    name: str = "text"  # int_range | text | json (reasonkit/transform/parsers.py)
    field: str = "transformed"  # record field that receives the value
    # int_range / text: a regex whose first group is the value (last match wins); text without a
    # pattern takes the whole reply after its reasoning
    pattern: str | None = None
    min: float | None = None  # int_range: accepted range, inclusive
    max: float | None = None
    key: str | None = None  # json: the key of the last JSON object holding the value
    type: str = "str"  # json: str | int | float | bool
    min_chars: int = 1  # text: shorter values are refused
    required: str | None = None  # text: a regex the value must contain (e.g. a \boxed{} answer)


@dataclass
class BoundsConfig:
    """Keep records whose numeric field lies in [min, max] (SkyThought's difficulty bounds)."""

    min: float | None = None
    max: float | None = None
    unparsed: str = "keep"  # a record whose reply did not parse: keep | drop


@dataclass
class TransformConfig:
    name: str = "none"  # none: no transform stage in the pipeline
    # problem: one request per problem, its value given to every sample of it; sample: one each
    level: str = "problem"
    # judge: reads the judged samples and stands in for them downstream (select, score see the
    # transformed records); dataset: reads the train split's problems (before any generation)
    # and writes them back as a dataset file (``problems.jsonl``) for a later generate
    after: str = "judge"
    prompt: str = "transform_difficulty"  # conf/prompt/<name>.yaml (Jinja)
    parser: ParserConfig = field(default_factory=ParserConfig)
    # field: the value goes to ``record[parser.field]``; response: it also replaces the response
    # (the original kept in ``meta.original_response``) where it parsed
    apply: str = "field"
    bounds: BoundsConfig = field(default_factory=BoundsConfig)
    sampling: dict[str, Any] = field(default_factory=lambda: {"temperature": 0.0, "max_tokens": 512})
    seed: int = 0
    batch_size: int = 32  # requests per engine call (and per fsync'd append)
    reply_chars: int = 2000  # how much of each raw reply the record keeps


def check(c: Any) -> None:
    """Config mistakes, one line each, before any request is sent."""
    for key, value, allowed in (("level", c.level, LEVELS), ("after", c.after, AFTER), ("apply", c.apply, APPLY),
                                ("bounds.unparsed", c.bounds.unparsed, UNPARSED)):
        if value not in allowed:
            raise InputError(f"transform.{key}: expected one of {', '.join(allowed)}, got {value!r}")
    if c.after == "dataset" and (c.level != "problem" or c.apply != "field"):
        raise InputError("transform.after=dataset: there are no samples yet; expected level=problem and apply=field")
    if c.apply == "response" and c.level != "sample":
        raise InputError("transform.apply=response rewrites each sample's response; expected level=sample")
    if int(c.batch_size) < 1:
        raise InputError(f"transform.batch_size: expected >= 1, got {c.batch_size}")
