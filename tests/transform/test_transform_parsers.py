"""The transform parsers on hand-written replies: a value only where the reply has the expected
form, a ParseError (recorded, never guessed) everywhere else."""
from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from reasonkit.config import CONF_DIR
from reasonkit.transform import parsers
from reasonkit.transform.config import ParserConfig, TransformConfig, check
from reasonkit.transform.parsers import ParseError


def option(name: str) -> TransformConfig:
    node = OmegaConf.merge(OmegaConf.structured(TransformConfig), OmegaConf.load(CONF_DIR / "transform" / f"{name}.yaml"))
    return OmegaConf.to_object(node)


def parse(name: str, reply: str):
    c = option(name)
    return parsers.get(c.parser.name)(reply, c.parser)


def test_difficulty_labels():
    assert parse("difficulty", "Difficulty: 7") == 7
    assert parse("difficulty", "**Difficulty**: 3\n") == 3
    # the conclusion counts, not the reasoning; the last label wins
    assert parse("difficulty", "<think>Difficulty: 9? no</think>Difficulty: 4") == 4
    assert parse("difficulty", "difficulty: 2 ... on reflection, Difficulty: 5") == 5
    for bad, why in (("Difficulty: 11", "outside"), ("Difficulty: 0", "outside"), ("It is hard.", "no match"),
                     ("<think>Difficulty: 6", "no match"),  # never concluded
                     ("", "no match")):
        with pytest.raises(ParseError, match=why):
            parse("difficulty", bad)


def test_rewrite_needs_tags_length_and_a_boxed_answer():
    good = "<solution>First 3+4=7, so the answer is \\boxed{7}.</solution>"
    assert parse("rewrite", good) == "First 3+4=7, so the answer is \\boxed{7}."
    assert parse("rewrite", "<think>draft</think>" + good).endswith("\\boxed{7}.")
    for bad, why in (("First 3+4=7, so \\boxed{7}.", "no match"),  # no tags
                     ("<solution>\\boxed{7}</solution>", "at least 20"),
                     ("<solution>First 3+4=7, so the answer is seven.</solution>", "lacks")):
        with pytest.raises(ParseError, match=why):
            parse("rewrite", bad)


def test_paraphrase():
    assert parse("paraphrase", "Sure! <paraphrase>Ann has 3 apples and gets 4 more. How many now?</paraphrase>") \
        == "Ann has 3 apples and gets 4 more. How many now?"
    with pytest.raises(ParseError):
        parse("paraphrase", "<paraphrase>short</paraphrase>")


def test_json_parser():
    c = ParserConfig(name="json", field="difficulty", key="level", type="int", min=1, max=5)
    p = parsers.get("json")
    assert p('{"level": 9} then {"level": 3, "why": "x"}', c) == 3
    assert p('{"level": 2} {"level": 7}', c) == 2  # out of range objects are skipped
    for bad in ('{"level": true}', '{"level": "3"}', "level 3", '{"other": 1}'):
        with pytest.raises(ParseError):
            p(bad, c)
    with pytest.raises(ValueError, match="transform.parser.key"):
        p("{}", ParserConfig(name="json"))


def test_unknown_parser_and_bad_config_are_named():
    with pytest.raises(ValueError, match="transform.parser.name: unknown option 'regexx'"):
        parsers.get("regexx")
    with pytest.raises(ValueError, match="transform.level"):
        check(TransformConfig(name="x", level="token"))
    with pytest.raises(ValueError, match="after=dataset"):
        check(TransformConfig(name="x", level="sample", after="dataset"))
    with pytest.raises(ValueError, match="apply=response"):
        check(TransformConfig(name="x", level="problem", apply="response"))


def test_parser_versions_are_registered():
    for name in ("int_range", "text", "json"):
        assert parsers.get(name).tag == f"{name}@{parsers.get(name).version}"
