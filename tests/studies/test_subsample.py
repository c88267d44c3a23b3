"""selection.subsample: a seeded subset of the selected problems (or rows), order kept."""
from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from reasonkit.selection.config import SelectionConfig
from reasonkit.selection.subsample import check, subsample


def _records() -> list[dict]:
    # 10 problems with 1..3 records each, grouped by problem as select writes them
    return [{"id": f"p{p}_{k}", "problem_id": f"p{p}"} for p in range(10) for k in range(p % 3 + 1)]


def _cfg(**kw):
    return OmegaConf.structured(SelectionConfig(**kw))


def test_problems_keeps_whole_problems_in_order():
    recs = _records()
    stats: dict = {}
    out = list(subsample(_cfg(subsample=4, seed=1), lambda: iter(recs), stats))
    pids = list(dict.fromkeys(r["problem_id"] for r in out))
    assert len(pids) == 4
    # every record of a chosen problem is kept, and the selection's order is kept
    assert out == [r for r in recs if r["problem_id"] in pids]
    assert stats["subsample_of"] == 10 and stats["subsample_kept"] == 4


def test_seed_changes_the_subset_and_is_reproducible():
    recs = _records()
    pick = lambda seed: [r["id"] for r in subsample(_cfg(subsample=3, seed=seed), lambda: iter(recs), {})]
    assert pick(1) == pick(1)
    assert len({tuple(pick(s)) for s in range(1, 6)}) > 1


def test_rows_unit_and_short_pool():
    recs = _records()
    stats: dict = {}
    out = list(subsample(_cfg(subsample=5, subsample_unit="rows"), lambda: iter(recs), stats))
    assert len(out) == 5 and [r for r in recs if r in out] == out
    stats = {}
    out = list(subsample(_cfg(subsample=100), lambda: iter(recs), stats))
    assert out == recs and stats["subsample_short"] is True


@pytest.mark.parametrize("kw,msg", [({"subsample": 0}, "selection.subsample"),
                                    ({"subsample_unit": "tokens"}, "selection.subsample_unit")])
def test_bad_options_are_refused(kw, msg):
    with pytest.raises(ValueError, match=msg):
        check(_cfg(**kw))
