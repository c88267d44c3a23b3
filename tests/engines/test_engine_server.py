"""The OpenAI-compatible backend against a real ``vllm serve`` on 127.0.0.1 (CPU, tiny model).

One server for the whole session (the ``served`` fixture); the test that kills it runs last and
leaves it restarted.
"""
from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from engine_helpers import SAMPLING, SERVER_ARGS, requests, sampler, texts
from reasonkit.engines.base import GenRequest

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

def _read(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except OSError:
        return b""


def client(served, **server):
    """Another OpenAIEngine talking to the session's server (no launch)."""
    from reasonkit.engines.openai import OpenAIEngine

    opts = {"urls": [served.urls[0]], "model": served.model, "timeout": 60, **server}
    return OpenAIEngine(served.model_path, sampler(backend="openai", server=opts))


def test_server_is_healthy_and_serves_the_model(served):
    srv = served.servers[0]
    assert srv.healthy()
    with urllib.request.urlopen(srv.url + "/models", timeout=10) as r:
        assert [m["id"] for m in json.load(r)["data"]] == [served.model]


def test_server_samples_equal_offline_engine_samples(served, vllm_engine):
    """Per-sample seeds: the same ids give the same texts in another process, through HTTP,
    under concurrency, as in the offline engine: results depend on the sample id only."""
    reqs = requests(range(5))
    over_http = served.generate(reqs, SAMPLING)
    assert [len(r) for r in over_http] == [4] * 5
    assert texts(over_http) == texts(vllm_engine.generate(reqs, SAMPLING))
    offline = vllm_engine.generate(reqs, SAMPLING)
    for a, b in zip(over_http, offline):
        for x, y in zip(a, b):
            assert (x.finish_reason, x.n_prompt_tokens, x.n_completion_tokens) == \
                   (y.finish_reason, y.n_prompt_tokens, y.n_completion_tokens)
    # concurrency 1 and reversed order: same texts
    serial = client(served, concurrency=1)
    try:
        assert texts(serial.generate(reqs[::-1], SAMPLING))[::-1] == texts(over_http)
    finally:
        serial.close()


def test_n_in_one_request_when_seeds_are_per_request(served):
    eng = client(served, per_sample_seed=False)
    try:
        res = eng.generate(requests(range(2), n=3), SAMPLING)
    finally:
        eng.close()
    assert [len(r) for r in res] == [3, 3]
    assert all(c.n_completion_tokens is None and c.finish_reason in ("length", "stop") for r in res for c in r)
    assert len({c.text for c in res[0]}) > 1


def test_chat_api_applies_the_servers_template(served, vllm_engine):
    eng = client(served, api="chat")
    try:
        req = GenRequest(prompt="What is 1 plus 2?", ids=["c_0", "c_1"], seeds=[1, 2])
        chat = eng.generate([req], {"max_tokens": 8, "temperature": 1.0})[0]
    finally:
        eng.close()
    rendered = vllm_engine.tokenizer.apply_chat_template([{"role": "user", "content": req.prompt}],
                                                         add_generation_prompt=True, tokenize=False)
    offline = vllm_engine.generate([GenRequest(prompt=rendered, ids=req.ids, seeds=req.seeds)],
                                   {"max_tokens": 8, "temperature": 1.0})[0]
    assert [c.n_prompt_tokens for c in chat] == [c.n_prompt_tokens for c in offline]
    assert [c.text for c in chat] == [c.text for c in offline]


def test_vllm_extras_pass_through_and_client_errors_fail_fast(served):
    res = served.generate(requests(range(2)), {**SAMPLING, "top_k": 5, "min_tokens": 10, "stop": [" "]})
    assert all(c.n_completion_tokens >= 10 for r in res for c in r)
    from reasonkit.engines.openai import EngineError

    retries = served.stats["retries"]
    with pytest.raises(EngineError, match="BadRequestError"):  # 400: not retried
        served.generate(requests(range(1)), {"max_tokens": 10_000})
    assert served.stats["retries"] == retries


def test_failover_between_urls(served):
    """Two URLs, one dead: every request still completes, on the live server."""
    from reasonkit.engines.server import free_port

    dead = f"http://127.0.0.1:{free_port()}/v1"
    eng = client(served, urls=[dead, served.urls[0]], backoff=0.05, backoff_max=0.2, cooldown=30)
    try:
        res = eng.generate(requests(range(4)), SAMPLING)
        assert texts(res) == texts(served.generate(requests(range(4)), SAMPLING))
        # half the first wave goes to the dead URL (least busy); after its refusal it is skipped
        # for the cool-down, so no request is retried twice
        assert 1 <= eng.stats["retries"] <= 16
    finally:
        eng.close()


def test_no_server_at_all_fails_clearly_and_quickly(tiny_model):
    from reasonkit.engines.openai import EngineError, OpenAIEngine
    from reasonkit.engines.server import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    eng = OpenAIEngine(tiny_model, sampler(backend="openai", server={
        "urls": [url], "max_retries": 2, "backoff": 0.05, "timeout": 5}))
    t0 = time.monotonic()
    try:
        with pytest.raises(EngineError, match=r"after 3 attempts.*APIConnectionError"):
            eng.generate(requests(range(2)), SAMPLING)
    finally:
        eng.close()
    assert time.monotonic() - t0 < 15


def test_launched_server_that_never_comes_up(tiny_model, tmp_path):
    """A model folder vLLM cannot load: the launch fails with vLLM's own error, nothing lingers."""
    from reasonkit.engines.openai import OpenAIEngine
    from reasonkit.engines.server import ServerError

    bad = tmp_path / "not-a-model"
    bad.mkdir()
    (bad / "config.json").write_text('{"model_type": "no_such_arch"}')
    t0 = time.monotonic()
    with pytest.raises(ServerError, match=r"exited with code [1-9](.|\n)*no_such_arch"):
        OpenAIEngine(str(bad), sampler(backend="openai", server={
            "launch": True, "args": SERVER_ARGS, "log_dir": str(tmp_path), "ready_timeout": 300}))
    assert not [p for p in Path("/proc").glob("[0-9]*/cmdline") if str(bad).encode() in _read(p)]
    assert time.monotonic() - t0 < 240


def test_thousands_of_concurrent_requests(served):
    eng = client(served, concurrency=1000, timeout=300)
    try:
        res = eng.generate(requests(range(500), n=4), {"temperature": 1.0, "max_tokens": 2})
        assert [len(r) for r in res] == [4] * 500
        assert all(c.n_completion_tokens <= 2 and c.finish_reason in ("length", "stop") for r in res for c in r)
        # a few requests hit a keep-alive connection the server was closing (ReadError) and were
        # retried: that is the retry path doing its job, not lost work
        assert eng.stats["done"] == 2000 and eng.stats["retries"] <= 100  # seen: 8 and 30 of 2000
        assert eng.stats["max_inflight"] >= 900  # the client really had ~1000 requests open at once
    finally:
        eng.close()


def test_server_killed_mid_run_is_restarted_and_the_run_completes(served, vllm_engine, monkeypatch):
    """SIGKILL the whole server during a large request set: the client retries, the engine
    restarts the server it launched, and the results are exactly those of an uninterrupted run.

    The kill is synchronous with the client's own bookkeeping (the 10th completed request kills
    the server before the client sends anything else) and at most 8 requests are in flight, so
    the remaining requests can only complete through a restarted server, however loaded the
    machine is. (A polling killer thread raced the run: on a loaded machine the batch could finish
    before the thread looked, and no restart happened.)"""
    reqs = requests(range(40), n=4)
    sampling = {**SAMPLING, "max_tokens": 64}
    expected = texts(vllm_engine.generate(reqs, sampling))
    srv = served.servers[0]
    old_pid = srv.pid
    before = dict(served.stats)

    class KillAtTenth(dict):
        killed = False

        def __setitem__(self, key, value):
            super().__setitem__(key, value)
            if key == "done" and value - before["done"] == 10 and not self.killed:
                KillAtTenth.killed = True
                srv.kill()

    monkeypatch.setattr(served, "stats", KillAtTenth(served.stats))
    monkeypatch.setattr(served.opts, "concurrency", 8)
    got = served.generate(reqs, sampling)
    assert KillAtTenth.killed
    assert [len(r) for r in got] == [4] * len(reqs)
    assert served.stats["restarts"] == before["restarts"] + 1
    assert served.stats["retries"] > before["retries"]
    assert srv.alive() and srv.pid != old_pid and srv.healthy()
    assert texts(got) == expected
