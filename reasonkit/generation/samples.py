"""Problems → sample records through one engine, and what of the sampler decides their text.

``generate_samples`` is shared by the generate and eval stages; ``sampler_identity`` and
``code_versions`` are what those stages hash, so a change to either reaches every stage that
samples.
"""
from __future__ import annotations

from itertools import islice
from typing import Any, Iterable, Iterator

from tqdm import tqdm

from reasonkit.engines import GenRequest, sample_seed
from reasonkit.models import load as models
from reasonkit.records import sample_id

# Sampler fields that change how work is split, batched or served, not what is produced (each with
# its reason in reasonkit.pipeline.identity.ALLOWED_READS). ``server`` is hashed by its own list.
NOT_HASHED = ("shard", "shards", "batch_size", "fallback", "server", "gpu_groups", "num_servers",
              "gpus_per_server", "host", "port", "env", "log_dir", "ready_timeout", "max_restarts",
              "api_key_env", "concurrency", "timeout", "max_retries", "backoff", "backoff_max", "cooldown",
              "log_every")
# Server options that change what comes back: chat vs completions API, one request per sample
# (its own seed) or n per request, vLLM extras, the model name asked for.
SERVER_HASHED = ("api", "per_sample_seed", "extra_body", "model")
# Layout of a sample record and the prompt assembly in generate_samples; bump on any change.
RECORD_VERSION = "2"


def sampler_identity(sampler) -> dict[str, Any]:
    """The sampler values that determine generated text (generate and eval share this)."""
    from reasonkit.engines import ENGINES

    keys = {k: sampler[k] for k in sampler if k not in NOT_HASHED}
    server = sampler.get("server") or {}
    keys["server"] = {k: server[k] for k in SERVER_HASHED if k in server}
    keys["engine_version"] = ENGINES.get(sampler.backend).version  # the backend's own code
    return keys


def code_versions() -> dict[str, str]:
    from reasonkit.think import THINK_VERSION

    return {"record": RECORD_VERSION, "think": THINK_VERSION}


# Completion.extra keys copied into sample records.
RECORD_EXTRAS = ("reasoning", "think_closed", "stop_reason")


def check_prompt_api(sampler) -> None:
    """A prompt rendered with the chat template here must not be wrapped as a chat message again."""
    server = sampler.get("server") or {}
    if sampler.backend == "openai" and server.get("api") == "chat" and sampler.chat:
        raise ValueError("sampler.server.api=chat sends each prompt as a user message and the server applies "
                         "the chat template, but sampler.chat=true already rendered it here: set "
                         "sampler.chat=false (server templates) or sampler.server.api=completions")


def batched(it: Iterable, n: int) -> Iterator[list]:
    it = iter(it)
    while chunk := list(islice(it, n)):
        yield chunk


def generate_samples(engine, tok, problems: Iterable[dict], *, n: int, seed: int, sampling: dict[str, Any],
                     model_name: str, system: str | None, batch_problems: int, done: set[str] = frozenset(),
                     chat: bool = True, instruction=lambda p: p, progress: str | None = None,
                     with_chunks: bool = False) -> Iterator:
    """Yield batches of sample records for ``problems``, skipping ids in ``done`` (with
    ``with_chunks``: ``(records, problems of this batch)``, so callers know which problems are done)."""
    problems = list(problems) if progress else problems
    bar = tqdm(total=len(problems), desc=progress, unit="problem", disable=progress is None)
    for chunk in batched(problems, batch_problems):
        reqs, owners = [], []
        for p in chunk:
            ks = [k for k in range(n) if sample_id(p["id"], k) not in done]
            if not ks:
                continue
            text = instruction(p["prompt"])
            rendered = models.render(tok, text, system) if chat else text
            ids = [sample_id(p["id"], k) for k in ks]
            reqs.append(GenRequest(prompt=rendered, ids=ids, seeds=[sample_seed(seed, i) for i in ids]))
            owners.append((p, ks, text))
        results = engine.generate(reqs, sampling) if reqs else []
        batch = []
        for (p, ks, text), req, comps in zip(owners, reqs, results):
            for k, sid, s, c in zip(ks, req.ids, req.seeds, comps):
                batch.append({"id": sid, "problem_id": p["id"], "k": k, "prompt": text, "answer": p.get("answer"),
                              "response": c.text, "model": model_name, "sampling": dict(sampling), "seed": s,
                              "finish_reason": c.finish_reason, "n_prompt_tokens": c.n_prompt_tokens,
                              "n_completion_tokens": c.n_completion_tokens, "meta": dict(p.get("meta") or {}),
                              # backend extras worth keeping: <think> split (sampler.think), stop_reason
                              **{k: c.extra[k] for k in RECORD_EXTRAS if k in c.extra}})
        bar.update(len(chunk))
        yield (batch, chunk) if with_chunks else batch
    bar.close()
