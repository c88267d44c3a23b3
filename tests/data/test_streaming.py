"""The streaming pieces behind judge/select/format memory staying flat (benchmarks/memory_bench.py
measures the stages; these check the pieces' behaviour and that their memory does not grow)."""
from __future__ import annotations

import tracemalloc

import pytest

from reasonkit.formats.writers import cap_per_problem
from reasonkit.judging.stage import summarize
from reasonkit.pipeline.artifacts import write_sharded
from reasonkit.records import SeenIds
from reasonkit.selection.strategies import with_scores


def samples(n: int, per: int = 4):
    for i in range(n):
        p, k = divmod(i, per)
        yield {"id": f"p{p}_{k}", "problem_id": f"p{p}", "response": "x" * 50, "correct": k % 2 == 0}


def test_seen_ids_exact_across_flushes():
    seen = SeenIds(flush_at=64)
    for i in range(1000):
        assert f"p{i}" not in seen
        seen.add(f"p{i}")
    assert all(f"p{i}" in seen for i in range(1000))
    assert not any(f"q{i}" in seen for i in range(1000))
    seen.add(7)  # non-string ids (integer problem ids) work too
    assert 7 in seen


def test_with_scores_joins_in_order_and_refuses_misaligned():
    s = list(samples(6))
    scores = [{"id": r["id"], "llh_mean": -i} for i, r in enumerate(s)]
    out = list(with_scores(s, scores))
    assert [o["score"] for o in out] == [{"llh_mean": -i} for i in range(6)]
    with pytest.raises(ValueError, match="must follow the judge artifact's order"):
        list(with_scores(s, scores[::-1]))
    with pytest.raises(ValueError, match="has no judged sample"):
        list(with_scores(s[:-1], scores))


def test_cap_per_problem_caps_and_refuses_a_split_problem():
    stats: dict = {}
    kept = list(cap_per_problem(samples(12), 3, stats))
    assert len(kept) == 9 and stats["dropped_over_max_per_problem"] == 3
    split = list(samples(8))
    split = split[:2] + split[4:] + split[2:4]  # p0 again after p1
    with pytest.raises(ValueError, match="appears again after other problems"):
        list(cap_per_problem(split, 3, {}))
    assert len(list(cap_per_problem(split, None, {}))) == 8  # no cap: order does not matter


def test_summarize_counts_problems_streaming():
    counts: dict = {}
    recs = list(samples(10, per=2))  # k=0 right, k=1 wrong: every problem mixed
    recs[-2]["correct"] = False  # last problem all wrong
    assert list(summarize(iter(recs), counts)) == recs
    assert counts == {"samples": 10, "correct": 4, "accuracy": 0.4, "problems": 5, "problems_all_right": 0,
                      "problems_all_wrong": 1}


def test_write_sharded_streams_and_leaves_no_shard_on_failure(tmp_path):
    (tmp_path / "a").mkdir()
    assert write_sharded(tmp_path / "a", samples(0)) == 0
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["part-00000.jsonl"]  # an empty shard, as before
    (tmp_path / "b").mkdir()

    def failing():
        yield from samples(5)
        raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError):
        write_sharded(tmp_path / "b", failing(), shard_size=3)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["part-00000.jsonl"]  # the full shard only
    assert len((tmp_path / "b" / "part-00000.jsonl").read_text().splitlines()) == 3


def _peak(n: int, tmp_path) -> int:
    out = tmp_path / f"o{n}"
    out.mkdir()
    tracemalloc.start()
    counts: dict = {}
    stats: dict = {}
    recs = cap_per_problem(summarize(samples(n), counts), 2, stats)
    write_sharded(out, recs, shard_size=max(n // 3, 1))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert counts["samples"] == n
    return peak


def test_memory_does_not_grow_with_the_stream(tmp_path):
    small, big = _peak(5_000, tmp_path), _peak(80_000, tmp_path)
    # 16x the records (20k problems): SeenIds may hold 8 bytes per problem plus its bounded set of
    # recent digests (≤ 2**14 ints, ~1.3 MB); nothing may be held per record
    assert big - small < 20_000 * 8 + 2_000_000, (small, big)
