"""Reply → value parsers for ``transform.parser.name``.

Why strict parsers: a transform's value decides what is kept (difficulty bounds) or trained on (a
rewrite). A reply that does not fit the expected form is a recorded ``ParseError`` (value None,
raw reply kept, counted in the manifest), never a best guess. Each parser has its own version;
the transform artifact's hash covers the version of the one it runs.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from reasonkit.records import InputError
from reasonkit.registry import Registry
from reasonkit.think import strip_think

from .config import ParserConfig


class ParseError(ValueError):
    """The reply does not hold a value of the expected form."""


@dataclass(frozen=True)
class Parser:
    name: str
    version: str
    fn: Callable[[str, ParserConfig], Any]

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"

    def __call__(self, reply: str, cfg: ParserConfig) -> Any:
        return self.fn(reply, cfg)


PARSERS: Registry[Parser] = Registry("transform.parser.name", "reasonkit.transform",
                                     modules={"int_range": "parsers", "text": "parsers", "json": "parsers"})


def _register(name: str, version: str):
    def deco(fn: Callable[[str, ParserConfig], Any]) -> Callable[[str, ParserConfig], Any]:
        PARSERS.register(name)(Parser(name, version, fn))
        return fn
    return deco


def final_part(reply: str) -> str:
    """The reply without its reasoning: a model that thinks aloud is judged on what it concludes
    (an unclosed think block means it never concluded)."""
    return strip_think(reply or "", ("think",), "drop").strip()


def _last_group(pattern: str, text: str) -> str | None:
    found = None
    for m in re.finditer(pattern, text, flags=re.DOTALL):
        found = m.group(1) if m.groups() else m.group(0)
    return found


@_register("int_range", "1")
def int_range(reply: str, cfg: ParserConfig) -> int:
    """``difficulty: int 1-10``: the last match of ``pattern`` (its first group), an integer in
    [min, max]."""
    body = final_part(reply)
    pattern = cfg.pattern or r"(-?\d+)"
    raw = _last_group(pattern, body)
    if raw is None:
        raise ParseError(f"no match for {pattern!r} in the reply")
    try:
        value = int(raw.strip())
    except ValueError:
        raise ParseError(f"matched {raw.strip()[:40]!r}, expected an integer") from None
    if (cfg.min is not None and value < cfg.min) or (cfg.max is not None and value > cfg.max):
        raise ParseError(f"{value} is outside [{cfg.min}, {cfg.max}]")
    return value


@_register("text", "1")
def text(reply: str, cfg: ParserConfig) -> str:
    """``rewritten: str``: the group of ``pattern`` (e.g. between tags) or the whole final part,
    at least ``min_chars`` long and containing ``required`` when set."""
    body = final_part(reply)
    value = body if cfg.pattern is None else _last_group(cfg.pattern, body)
    if value is None:
        raise ParseError(f"no match for {cfg.pattern!r} in the reply")
    value = value.strip()
    if len(value) < max(1, cfg.min_chars):
        raise ParseError(f"{len(value)} characters, expected at least {max(1, cfg.min_chars)}")
    if cfg.required and not re.search(cfg.required, value):
        raise ParseError(f"the text lacks {cfg.required!r}")
    return value


_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}


@_register("json", "1")
def json_value(reply: str, cfg: ParserConfig) -> Any:
    """``key`` of the last JSON object in the reply that has it with the expected ``type``."""
    if not cfg.key:
        raise InputError("transform.parser.key: the json parser needs the key to read")
    want = _TYPES.get(cfg.type)
    if want is None:
        raise InputError(f"transform.parser.type: expected one of {', '.join(_TYPES)}, got {cfg.type!r}")
    body = final_part(reply)
    dec = json.JSONDecoder()
    for i in reversed([i for i, ch in enumerate(body) if ch == "{"][-50:]):
        try:
            obj, _ = dec.raw_decode(body, i)
        except json.JSONDecodeError:
            continue
        v = obj.get(cfg.key) if isinstance(obj, dict) else None
        if isinstance(v, want) and not (cfg.type in ("int", "float") and isinstance(v, bool)):
            if cfg.type != "str" and ((cfg.min is not None and v < cfg.min) or (cfg.max is not None and v > cfg.max)):
                continue
            return v
    raise ParseError(f'no JSON object with "{cfg.key}" of type {cfg.type} in the reply')


def get(name: str) -> Parser:
    try:
        return PARSERS.get(name)
    except KeyError as e:
        raise InputError(f"transform.parser.name: {e.args[0].split(': ', 1)[1]}") from None
