"""``sampler.backend=vllm``: the offline ``vllm.LLM`` engine (tensor parallel inside one process).

Why one vLLM request per sample (n=1, its own seed) instead of one request with ``n``: a sample's
randomness must depend only on its id, so that a problem sampled in a batch of 1 or 1,000, in
shard 0 of 1 or shard 3 of 8, gets the same text. vLLM's prefix cache computes the shared prompt
once, so this costs little. ``sampler.engine`` goes to ``vllm.LLM`` and ``sampler.sampling`` to
``SamplingParams`` unchanged: every vLLM option is available and a typo fails at start-up.
"""
from __future__ import annotations

import gc
import logging
import os
from collections.abc import Sequence
from typing import Any

from reasonkit.engines import ENGINES
from reasonkit.engines.base import Completion, GenRequest, TokenPair, check_pairs, loglik_result
from reasonkit.engines.common import (CPU_ENGINE_DEFAULTS, apply_think, cfg_get, check_engine_owned, cpu_env,
                                      on_cpu, plain, think_mode)

log = logging.getLogger(__name__)

# In-process engines share vLLM's (process-global) distributed state; tear it down only when the
# last one closes, or the others lose their model-parallel groups.
_LIVE_ENGINES = 0
_PARKED: list[Any] = []


@ENGINES.register("vllm")
class VLLMEngine:
    """Offline vLLM. Prompts arrive rendered (chat template already applied) and are tokenized
    without extra special tokens, exactly like the hf backend, so both see the same token ids."""
    # bump when a change can alter generated text or scores (enters every generate/eval hash)
    version = "1"

    name = "vllm"

    def __init__(self, model_path: str, sampler_cfg: Any, revision: str | None = None):
        cpu = on_cpu()
        if cpu:  # must be in the environment before vllm reads its envs module
            for k, v in cpu_env().items():
                os.environ.setdefault(k, v)
        from vllm import LLM, SamplingParams

        self._SamplingParams = SamplingParams
        self.think = think_mode(sampler_cfg)
        sampling = plain(cfg_get(sampler_cfg, "sampling", {}))
        check_engine_owned(sampling)
        self._params(sampling, seed=0)  # unknown SamplingParams fields fail here, before any work
        kwargs = plain(cfg_get(sampler_cfg, "engine", {}))
        kwargs.setdefault("model", model_path)
        if revision is not None:  # the weights and the tokenizer at the revision the model config pins
            kwargs.setdefault("revision", revision)
            kwargs.setdefault("tokenizer_revision", revision)
        kwargs.setdefault("seed", int(cfg_get(sampler_cfg, "seed", 0) or 0))
        if cpu:
            kwargs.setdefault("enforce_eager", True)  # no torch.compile warm-up on CPU
            for k, v in CPU_ENGINE_DEFAULTS.items():  # see common.py: seeded sampling on CPU
                kwargs.setdefault(k, v)
        self.engine_kwargs = kwargs
        log.info("vllm.LLM(%s)", ", ".join(f"{k}={v!r}" for k, v in kwargs.items()))
        self.llm = LLM(**kwargs)
        global _LIVE_ENGINES
        _LIVE_ENGINES += 1
        self.tokenizer = self.llm.get_tokenizer()

    def _params(self, sampling: dict[str, Any], seed: int | None, **over: Any):
        try:
            return self._SamplingParams(**{**sampling, **over, "n": 1, "seed": seed})
        except TypeError as e:  # unknown field name
            raise ValueError(f"sampler.sampling: not a vllm.SamplingParams field set: {e}") from None

    def generate(self, requests: Sequence[GenRequest], sampling: dict[str, Any]) -> list[list[Completion]]:
        sampling = plain(sampling)
        check_engine_owned(sampling)
        prompts, params, owner = [], [], []
        for ri, req in enumerate(requests):
            if len(req.ids) != len(req.seeds):
                raise ValueError(f"GenRequest for {req.ids[:1]}: {len(req.ids)} ids but {len(req.seeds)} seeds")
            for seed in req.seeds:
                prompts.append(req.prompt)
                params.append(self._params(sampling, seed))
                owner.append(ri)
        if not prompts:
            return [[] for _ in requests]
        outs = self.llm.generate(prompts, params, use_tqdm=False,
                                 tokenization_kwargs={"add_special_tokens": False})
        result: list[list[Completion]] = [[] for _ in requests]
        for ri, out in zip(owner, outs):
            c = out.outputs[0]
            text, extra = apply_think(c.text, self.think)
            if c.stop_reason is not None:
                extra["stop_reason"] = c.stop_reason
            result[ri].append(Completion(text=text, finish_reason=c.finish_reason,
                                         n_prompt_tokens=len(out.prompt_token_ids or ()),
                                         n_completion_tokens=len(c.token_ids), extra=extra))
        return result

    @classmethod
    def for_scoring(cls, model_path: str, score_cfg: Any) -> VLLMEngine:
        """The engine ``stage=score`` runs: ``score.vllm`` goes to ``vllm.LLM`` as it is."""
        return cls(model_path, {"engine": dict(score_cfg.vllm or {})})

    def loglikelihood(self, pairs: Sequence[TokenPair], ids: Sequence[str] | None = None
                      ) -> list[dict[str, Any]]:
        """Scores from ``prompt_logprobs``: each prompt is context+continuation token ids and the
        continuation positions' log-probs are summed. vLLM returns only top-k log-probs, so
        ``entropy_mean`` is None."""
        from vllm.inputs import TokensPrompt

        check_pairs(pairs, ids=ids)
        prompts = [TokensPrompt(prompt_token_ids=list(c) + list(r)) for c, r in pairs]
        # prompt_logprobs=0: only the log-prob of the actual token at each position.
        params = self._params({"temperature": 0.0, "max_tokens": 1, "prompt_logprobs": 0}, seed=None)
        outs = self.llm.generate(prompts, params, use_tqdm=False) if prompts else []
        res = []
        for (c, r), out in zip(pairs, outs):
            full = list(c) + list(r)
            plp = out.prompt_logprobs
            total = 0.0
            for pos in range(len(c), len(full)):
                total += plp[pos][full[pos]].logprob
            res.append(loglik_result(total, None, len(r), len(c)))
        return res

    def close(self) -> None:
        """Free the engine so another can start in the same process (tests, in-process sweeps).

        vLLM's engine-core shutdown (also run when an LLM is garbage-collected) tears down the
        process-global distributed state that every other live in-process engine still uses. So
        while others are alive a closed engine is parked, and all parked engines are shut down
        when the last one closes."""
        global _LIVE_ENGINES
        llm = getattr(self, "llm", None)
        if llm is None:
            return
        self.llm = None
        _LIVE_ENGINES -= 1
        _PARKED.append(llm)
        del llm
        if _LIVE_ENGINES > 0:
            return
        while _PARKED:
            try:
                _PARKED.pop().llm_engine.engine_core.shutdown()
            except Exception as e:  # noqa: BLE001 - best effort, the process may be exiting
                log.debug("vllm engine core shutdown: %s", e)
        gc.collect()
