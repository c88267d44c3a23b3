"""The hard-timeout pool: stuck items are killed, not waited for; no signals; any thread."""
import threading
import time

import pytest

from reasonkit.judging.pool import HardTimeoutPool


def test_stuck_item_is_killed_and_others_finish():
    with HardTimeoutPool("time:sleep", workers=2, timeout_s=0.5) as pool:
        t0 = time.monotonic()
        res = pool.run([0, 30, 0, 0, 30, 0])
        elapsed = time.monotonic() - t0
        assert [r.status for r in res] == ["ok", "timeout", "ok", "ok", "timeout", "ok"]
        assert elapsed < 5, elapsed
        assert pool.stats["timeouts"] == 2 and pool.stats["respawns"] == 2
        # the replacement workers serve the next round
        assert [r.status for r in pool.run([0, 0, 0])] == ["ok"] * 3


def test_items_are_timed_individually_within_a_chunk():
    # 12 items of 0.2 s on one worker: each is under the 0.5 s limit although the chunk is not
    with HardTimeoutPool("time:sleep", workers=1, timeout_s=0.5) as pool:
        res = pool.run([0.2] * 12)
    assert all(r.status == "ok" for r in res)


def test_errors_are_per_item():
    with HardTimeoutPool("math:sqrt", workers=1, timeout_s=5) as pool:
        res = pool.run([4, -1, 9])
    assert [r.status for r in res] == ["ok", "error", "ok"]
    assert res[0].value == 2.0 and "ValueError" in res[1].value


def test_works_from_a_worker_thread():
    out = {}

    def work():
        with HardTimeoutPool("time:sleep", workers=2, timeout_s=0.5) as pool:
            out["res"] = [r.status for r in pool.run([0, 10])]

    t = threading.Thread(target=work)
    t.start()
    t.join(30)
    assert out["res"] == ["ok", "timeout"]


def test_workers_that_die_at_start_raise_a_clear_error():
    # a worker that cannot even import its target is a broken setup, not a verdict
    with HardTimeoutPool("no_such_module_rk:fn", workers=1, timeout_s=5) as pool:
        with pytest.raises(RuntimeError, match="exit during start-up"):
            pool.run([3])


def test_crash_is_the_items_verdict_and_the_pool_recovers():
    # os._exit(3) kills the worker mid-item (like a segfault or the OOM killer would)
    with HardTimeoutPool("os:_exit", workers=1, timeout_s=5) as pool:
        res = pool.run([3])
        assert res[0].status == "crash" and "exit code 3" in res[0].value
        assert pool.stats["crashes"] == 1


def test_close_stops_workers():
    pool = HardTimeoutPool("time:sleep", workers=2, timeout_s=5)
    pool.run([0, 0])
    procs = [w.proc for w in pool._workers]
    assert all(p.is_alive() for p in procs)
    pool.close()
    assert not any(p.is_alive() for p in procs)
