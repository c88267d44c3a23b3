"""Out-of-range config values are refused before any stage works, one line per mistake naming the
key and the expected range (``reasonkit.checks.check_config``); every shipped option passes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from reasonkit.checks import ConfigError, check_config, config_mistakes
from reasonkit.config import CONF_DIR, register

register()
CASES = json.loads((Path(__file__).parent / "cases" / "config_values.json").read_text(encoding="utf-8"))


def composed(*overrides: str):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return compose("config", overrides=list(overrides))


def options(group: str) -> list[str]:
    root = CONF_DIR / group
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.yaml"))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_out_of_range_value_is_named_with_its_range(case):
    mistakes = config_mistakes(composed(*case["overrides"]))
    assert len(mistakes) == 1, mistakes
    (line,) = mistakes
    assert line.startswith(f"config {case['key']}: expected ") and case["says"] in line, line
    assert "\n" not in line


def test_several_mistakes_one_line_each():
    cfg = composed("sampler.n=-1", "sampler.sampling.top_p=1.5", "selection.max_per_problem=0")
    with pytest.raises(ConfigError) as e:
        check_config(cfg)
    assert [ln.split(":")[0] for ln in e.value.lines] == [
        "config sampler.n", "config sampler.sampling.top_p", "config selection.max_per_problem"]
    assert str(e.value).count("\n") == 2


GROUPS = {"dataset": "dataset", "sampler": "sampler", "judge": "judge", "score": "score",
          "selection": "selection", "format": "format", "trainer": "trainer", "eval": "eval",
          "experiment": "experiment", "debug": "debug"}
SHIPPED = [(g, o) for g, d in GROUPS.items() for o in options(d)]


@pytest.mark.parametrize("group,option", SHIPPED, ids=[f"{g}={o}" for g, o in SHIPPED])
def test_every_shipped_option_passes(group, option):
    """No false refusals: the defaults and every preset the project ships are in range."""
    extra = {"dataset=jsonl": ["dataset.files.train=x.jsonl", "dataset.files.test=y.jsonl"]}
    assert config_mistakes(composed(f"{group}={option}", *extra.get(f"{group}={option}", []))) == []
