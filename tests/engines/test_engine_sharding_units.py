"""Problem → part → shard assignment, part locks and device groups (no engine needed)."""
from __future__ import annotations

import threading
import time

import pytest
from filelock import FileLock

from reasonkit.generation.sharding import Layout, claimed_parts, device_groups, gather_shard_info, write_shard_info


@pytest.mark.parametrize("n", [1, 24, 31, 32, 33, 160, 500, 40_000])
def test_parts_cover_problems_in_order_whatever_the_shard_count(n):
    lay = Layout.for_problems(n)
    spans = [lay.bounds(p) for p in range(lay.parts)]
    assert spans[0][0] == 0 and spans[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # contiguous, in problem order
    sizes = [hi - lo for lo, hi in spans]
    assert max(sizes) - min(sizes) <= 1 and (lay.parts == 1 or min(sizes) >= 32)
    for shards in (1, 2, 3, 8):
        owned = [lay.parts_of(shards, i) for i in range(shards)]
        assert sorted(p for o in owned for p in o) == list(range(lay.parts))  # each part exactly once
    assert lay.parts_of(4, None) == list(range(lay.parts))


def test_layout_examples():
    assert Layout.for_problems(24).parts == 1
    assert Layout.for_problems(500).parts == 15
    assert Layout.for_problems(40_000).parts == 64
    with pytest.raises(ValueError, match="sampler.shard"):
        Layout.for_problems(100).parts_of(2, 2)


def test_layout_refuses_a_changed_problem_set(tmp_path):
    Layout.for_problems(100).record(tmp_path)
    Layout.for_problems(100).record(tmp_path)  # same: fine
    with pytest.raises(ValueError, match="cut for 100 problems"):
        Layout.for_problems(120).record(tmp_path)


def test_claimed_parts_skip_locked_parts_until_their_holder_finishes(tmp_path):
    lay = Layout(10, 3)
    held = FileLock(str(lay.part_path(tmp_path, 1)) + ".lock", thread_local=False)
    held.acquire()

    def other_process_finishes_part_1():
        time.sleep(0.5)
        lay.part_path(tmp_path, 1).write_text("")
        held.release()

    t = threading.Thread(target=other_process_finishes_part_1)
    t.start()
    got = []
    for group in claimed_parts(tmp_path, [0, 1, 2], poll=0.1):
        got.append(group)
        for p in group:
            lay.part_path(tmp_path, p).write_text("")
    t.join()
    assert got == [[0, 2]]  # both free parts in one group; part 1 was someone else's, finished by them
    assert lay.missing(tmp_path) == []


def test_a_part_whose_holder_died_is_computed(tmp_path):
    lay = Layout(10, 2)
    held = FileLock(str(lay.part_path(tmp_path, 1)) + ".lock", thread_local=False)
    held.acquire()
    threading.Timer(0.3, held.release).start()  # the holder dies without finishing part 1
    got = []
    for group in claimed_parts(tmp_path, [0, 1], poll=0.1):
        got.append(group)
        for p in group:
            lay.part_path(tmp_path, p).write_text("")
    assert got == [[0], [1]]


def test_device_groups(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7")
    assert device_groups(2) == ["4,5", "6,7"]
    assert device_groups(4) == ["4", "5", "6", "7"]
    with pytest.raises(ValueError, match="need a GPU each"):
        device_groups(8)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert device_groups(3) == [None, None, None]


def test_shard_infos_are_gathered_with_fallbacks(tmp_path):
    write_shard_info(tmp_path, 0, {"engine": {"backend": "vllm"}})
    write_shard_info(tmp_path, 1, {"engine": {"backend": "hf", "fallback_from": "vllm", "fallback_reason": "x"}})
    g = gather_shard_info(tmp_path)
    assert g["backends"] == ["hf", "vllm"] and g["fallbacks"] == {"1": "x"}
