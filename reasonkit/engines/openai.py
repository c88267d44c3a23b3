"""``sampler.backend=openai``: async client for OpenAI-compatible servers (``vllm serve`` first).

Why this shape:
- One HTTP request per sample (n=1 with that sample's seed), so a sample's text depends on its id
  only, not on which server, batch or retry produced it; results are identical to an
  uninterrupted run even when a server dies and comes back. ``per_sample_seed: false`` sends one
  request with ``n`` for servers that do not honour seeds.
- Bounded concurrency (one semaphore over all servers), least-busy load balancing over several
  URLs, a server that refused a connection is skipped for a cool-down, and every retryable
  failure (connection, timeout, 429, 5xx) is retried with capped exponential backoff + jitter.
  Client errors (4xx) fail at once with the server's message: retrying them cannot help.
- ``launch: true`` starts ``vllm serve`` itself (one per GPU group, see ``server.py``), waits for
  ``/health`` and stops it by process group in ``close()``; a launched server that dies is
  restarted (``max_restarts``) while the client keeps retrying.
- API keys come only from the environment variable named by ``api_key_env``.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from dataclasses import dataclass
from typing import Any, Sequence

from reasonkit.engines import ENGINES
from reasonkit.engines.base import Completion, GenRequest
from reasonkit.engines.common import apply_think, cfg_get, check_engine_owned, plain, think_mode

log = logging.getLogger(__name__)


@dataclass
class ServerOptions:
    """Keys of ``sampler.server`` for this backend (unknown keys are refused at start-up)."""

    urls: list[str] | None = None          # OpenAI base URLs (…/v1); ignored when launch is true
    launch: bool = False                    # start `vllm serve` ourselves
    args: dict[str, Any] | None = None      # passthrough `vllm serve` flags when launching
    gpu_groups: list[list[int]] | None = None
    num_servers: int | None = None
    gpus_per_server: int | None = None
    host: str = "127.0.0.1"
    port: int | None = None                 # first port when launching (else free ports)
    env: dict[str, str] | None = None       # extra environment for launched servers
    log_dir: str | None = None
    ready_timeout: float = 600.0
    max_restarts: int = 3                   # per launched server, while a run is going on
    model: str | None = None                # model name sent to the server (default: the path)
    api: str = "completions"                # completions | chat
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 256
    timeout: float = 600.0                  # seconds per HTTP request
    max_retries: int = 8
    backoff: float = 1.0                    # first retry delay; doubles up to backoff_max
    backoff_max: float = 30.0
    cooldown: float = 5.0                   # skip a URL this long after it refused a connection
    per_sample_seed: bool = True
    extra_body: dict[str, Any] | None = None  # merged into every request (vLLM extras)
    log_every: float = 30.0


# Request fields the OpenAI API defines; every other SamplingParams field goes in extra_body,
# which vLLM's server reads (top_k, min_p, repetition_penalty, min_tokens, ...).
_STD = {
    "completions": {"temperature", "top_p", "max_tokens", "stop", "presence_penalty", "frequency_penalty",
                    "logit_bias", "logprobs", "echo", "best_of", "suffix", "user"},
    "chat": {"temperature", "top_p", "max_tokens", "stop", "presence_penalty", "frequency_penalty",
             "logit_bias", "user", "max_completion_tokens"},
}


class EngineError(RuntimeError):
    """A request failed for good (non-retryable error, or retries exhausted)."""


class MalformedResponse(ValueError):
    """A 2xx answer that is not a usable completion (a body cut short by a proxy or a server going
    down mid-answer, an HTML error page): the next attempt may well succeed, so it is retried."""


def parse_options(server_cfg: dict[str, Any]) -> ServerOptions:
    known = set(ServerOptions.__dataclass_fields__)
    unknown = sorted(set(server_cfg) - known)
    if unknown:
        raise ValueError(f"sampler.server: unknown keys {unknown}; expected some of {sorted(known)}")
    opts = ServerOptions(**server_cfg)
    if opts.api not in _STD:
        raise ValueError(f"sampler.server.api: expected 'completions' or 'chat', got {opts.api!r}")
    if not opts.launch and not opts.urls:
        raise ValueError("sampler.server: set urls: [http://host:port/v1, ...] or launch: true")
    if opts.concurrency < 1:
        raise ValueError(f"sampler.server.concurrency: expected >= 1, got {opts.concurrency}")
    return opts


@ENGINES.register("openai")
class OpenAIEngine:
    # bump when a change can alter generated text or scores (enters every generate/eval hash)
    version = "1"
    name = "openai"

    def __init__(self, model_path: str, sampler_cfg: Any, revision: str | None = None):
        self.model_path = model_path
        self.opts = parse_options(plain(cfg_get(sampler_cfg, "server", {})))
        self.think = think_mode(sampler_cfg)
        sampling = plain(cfg_get(sampler_cfg, "sampling", {}))
        check_engine_owned(sampling)
        self.servers: list[Any] = []
        self._restarts: dict[int, int] = {}
        if self.opts.launch:
            from reasonkit.engines.server import launch_servers

            if revision is not None:  # `vllm serve --revision`: the weights the model config pins
                self.opts.args = {"revision": revision, **(self.opts.args or {})}
            self.servers = launch_servers(model_path, plain(vars(self.opts)))
            self.urls = [s.url for s in self.servers]
        else:
            self.urls = [u.rstrip("/") for u in self.opts.urls or []]
        served = (self.opts.args or {}).get("served_model_name")
        self.model = self.opts.model or (served[0] if isinstance(served, list) else served) or model_path
        self._loop = asyncio.new_event_loop()
        self._clients: list[Any] = []
        self._inflight = [0] * len(self.urls)
        self._down_until = [0.0] * len(self.urls)
        self._restart_locks: list[asyncio.Lock] | None = None
        self.stats = {"requests": 0, "done": 0, "retries": 0, "restarts": 0, "max_inflight": 0}

    # -- plumbing ---------------------------------------------------------------------------
    def _ensure_clients(self) -> None:
        if self._clients:
            return
        from openai import AsyncOpenAI

        key = os.environ.get(self.opts.api_key_env) or "EMPTY"  # vLLM without --api-key accepts any
        self._clients = [AsyncOpenAI(base_url=u, api_key=key, max_retries=0, timeout=self.opts.timeout)
                         for u in self.urls]

    def _run(self, coro):
        self._ensure_clients()
        return self._loop.run_until_complete(coro)

    def _pick(self) -> int:
        now = time.monotonic()
        up = [i for i in range(len(self.urls)) if self._down_until[i] <= now]
        pool = up or range(len(self.urls))
        best = min(self._inflight[i] for i in pool)
        return random.choice([i for i in pool if self._inflight[i] == best])

    @staticmethod
    def _retryable(e: Exception) -> tuple[bool, bool]:
        """(retry?, was the server unreachable?)"""
        import json

        import openai

        if isinstance(e, openai.APIConnectionError):  # includes APITimeoutError
            return True, not isinstance(e, openai.APITimeoutError)
        if isinstance(e, openai.APIStatusError):
            return e.status_code in (408, 409, 425, 429) or e.status_code >= 500, False
        # a 2xx whose body is not JSON / not a completion: server-side garbage, not our request
        if isinstance(e, (json.JSONDecodeError, MalformedResponse, openai.APIResponseValidationError)):
            return True, False
        return False, False

    @staticmethod
    def _check_response(resp: Any) -> Any:
        choices = getattr(resp, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise MalformedResponse(f"response has no choices: {str(resp)[:200]!r}")
        return resp

    async def _maybe_restart(self, i: int) -> None:
        """If we launched server ``i`` and its process is gone, start it again (once at a time)."""
        if not self.servers:
            return
        if self._restart_locks is None:
            self._restart_locks = [asyncio.Lock() for _ in self.servers]
        srv = self.servers[i]
        async with self._restart_locks[i]:
            if srv.alive():
                return
            n = self._restarts.get(i, 0)
            if n >= self.opts.max_restarts:
                return
            self._restarts[i] = n + 1
            self.stats["restarts"] += 1
            log.warning("vllm serve %s died (restart %d/%d): restarting", srv.url, n + 1, self.opts.max_restarts)
            from reasonkit.engines.server import ServerError

            try:
                await asyncio.get_running_loop().run_in_executor(
                    None, lambda: srv.start().wait_ready(self.opts.ready_timeout))
            except ServerError as e:  # e.g. its port not free yet: the next retry may restart again
                log.error("restarting %s failed: %s", srv.url, e)

    async def _call(self, what: str, payload: dict[str, Any], sem: asyncio.Semaphore):
        async with sem:
            attempt = 0
            while True:
                i = self._pick()
                self._inflight[i] += 1
                self.stats["max_inflight"] = max(self.stats["max_inflight"], sum(self._inflight))
                try:
                    client = self._clients[i]
                    api = client.chat.completions if what == "chat" else client.completions
                    self.stats["requests"] += 1
                    resp = self._check_response(await api.create(**payload))
                    self.stats["done"] += 1
                    return resp
                except Exception as e:  # noqa: BLE001 - sorted into retryable or fatal below
                    retry, unreachable = self._retryable(e)
                    if not retry:
                        raise EngineError(f"{self.urls[i]}: {what} request failed: {type(e).__name__}: {e}") from e
                    attempt += 1
                    if attempt > self.opts.max_retries:
                        raise EngineError(f"{what} request failed after {attempt} attempts "
                                          f"(servers {self.urls}); last error from {self.urls[i]}: "
                                          f"{type(e).__name__}: {e}") from e
                    if unreachable:
                        self._down_until[i] = time.monotonic() + self.opts.cooldown
                    self.stats["retries"] += 1
                    delay = min(self.opts.backoff_max, self.opts.backoff * 2 ** (attempt - 1))
                    delay *= 0.5 + random.random()
                    log.warning("%s: %s (%r) (attempt %d/%d), retrying in %.1fs", self.urls[i], type(e).__name__,
                                e.__cause__ or e, attempt, self.opts.max_retries, delay)
                    if unreachable:
                        await self._maybe_restart(i)
                    await asyncio.sleep(delay)
                finally:
                    self._inflight[i] -= 1

    def _payload(self, sampling: dict[str, Any], prompt: Any, n: int, seed: int | None) -> dict[str, Any]:
        std = _STD[self.opts.api]
        body: dict[str, Any] = {"model": self.model, "n": n}
        if seed is not None:
            body["seed"] = seed
        extra: dict[str, Any] = {}
        if self.opts.api == "completions":
            body["prompt"] = prompt
            extra["add_special_tokens"] = False  # prompts arrive rendered, as in the other backends
        else:
            body["messages"] = prompt
        for k, v in sampling.items():
            if self.opts.api == "chat" and k == "logprobs" and v is not None:
                body["logprobs"], body["top_logprobs"] = True, v
            elif k in std:
                body[k] = v
            else:
                extra[k] = v
        extra.update(self.opts.extra_body or {})
        if extra:
            body["extra_body"] = extra
        return body

    def _messages(self, req: GenRequest) -> list[dict[str, str]]:
        msgs = getattr(req, "messages", None)
        return list(msgs) if msgs else [{"role": "user", "content": req.prompt}]

    def _completion(self, choice: Any, usage: Any, n: int) -> Completion:
        extra: dict[str, Any] = {}
        if self.opts.api == "chat":
            msg = choice.message
            text = msg.content or ""
            reasoning = getattr(msg, "reasoning_content", None) or getattr(msg, "reasoning", None)
            if reasoning:  # the server split it out (--reasoning-parser): put it back as <think>
                text = f"<think>{reasoning}</think>{text}"
        else:
            text = choice.text
        text, extra = apply_think(text, self.think)
        stop_reason = getattr(choice, "stop_reason", None)
        if stop_reason is not None:
            extra["stop_reason"] = stop_reason
        return Completion(text=text, finish_reason=choice.finish_reason,
                          n_prompt_tokens=getattr(usage, "prompt_tokens", None),
                          # usage counts all n choices together; exact per sample only for n=1
                          n_completion_tokens=getattr(usage, "completion_tokens", None) if n == 1 else None,
                          extra=extra)

    # -- Engine interface -------------------------------------------------------------------
    def generate(self, requests: Sequence[GenRequest], sampling: dict[str, Any]) -> list[list[Completion]]:
        sampling = plain(sampling)
        check_engine_owned(sampling)
        return self._run(self._generate(requests, sampling))

    async def _generate(self, requests: Sequence[GenRequest], sampling: dict[str, Any]) -> list[list[Completion]]:
        sem = asyncio.Semaphore(self.opts.concurrency)
        what = self.opts.api
        jobs: list[tuple[int, int, Any]] = []  # (request, first sample, coroutine)
        for ri, req in enumerate(requests):
            prompt = req.prompt if what == "completions" else self._messages(req)
            if self.opts.per_sample_seed:
                for k, seed in enumerate(req.seeds):
                    jobs.append((ri, 1, self._call(what, self._payload(sampling, prompt, 1, seed), sem)))
            elif req.ids:
                jobs.append((ri, len(req.ids), self._call(what, self._payload(sampling, prompt, len(req.ids),
                                                                              req.seeds[0]), sem)))
        tasks = [asyncio.ensure_future(c) for _, _, c in jobs]
        progress = asyncio.ensure_future(self._progress(tasks))
        try:
            responses = await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            progress.cancel()
        out: list[list[Completion]] = [[] for _ in requests]
        for (ri, n, _), resp in zip(jobs, responses):
            choices = sorted(resp.choices, key=lambda c: c.index)
            out[ri].extend(self._completion(c, resp.usage, n) for c in choices)
        return out

    async def _progress(self, tasks: list[asyncio.Future]) -> None:
        t0 = time.monotonic()
        while True:
            await asyncio.sleep(self.opts.log_every)
            done = sum(t.done() for t in tasks)
            log.info("openai: %d/%d requests done in %.0fs (%d retries so far)", done, len(tasks),
                     time.monotonic() - t0, self.stats["retries"])

    def close(self) -> None:
        try:
            if self._clients and not self._loop.is_closed():
                clients = self._clients

                async def _close() -> None:
                    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

                self._loop.run_until_complete(_close())
        finally:
            self._clients = []
            if not self._loop.is_closed():
                self._loop.close()
            for s in self.servers:
                s.stop()
            self.servers = []
