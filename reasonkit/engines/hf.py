"""transformers backend: the embedded default and the fallback when vLLM cannot start.

Sampling is done by a logits processor that adds Gumbel noise drawn from one generator per
sample (seeded from the sample id) and lets greedy decoding take the argmax: that is an exact
draw from the temperature/top-p distribution, and a sample's randomness no longer depends on
which other samples share its batch. Log-likelihoods (``stage=score``) go through the fast
chunked scorer in ``hf_loglik.py``.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessor, LogitsProcessorList

from reasonkit.engines import ENGINES, hf_loglik
from reasonkit.engines.base import Completion, GenRequest, TokenPair
from reasonkit.engines.common import apply_think, cfg_get, plain, think_mode

log = logging.getLogger(__name__)

# SamplingParams fields this backend honours; anything else is refused rather than ignored.
SUPPORTED = {"temperature", "top_p", "top_k", "max_tokens", "stop", "n", "seed", "skip_special_tokens"}


class _SeededSampler(LogitsProcessor):
    def __init__(self, seeds: list[int], temperature: float, top_p: float, top_k: int):
        self.gens = [torch.Generator().manual_seed(s) for s in seeds]
        self.t, self.top_p, self.top_k = temperature, top_p, top_k

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.t <= 0:
            return scores
        scores = scores.float() / self.t
        if self.top_k and self.top_k > 0:
            kth = torch.topk(scores, min(self.top_k, scores.shape[-1]), dim=-1).values[..., -1:]
            scores = scores.masked_fill(scores < kth, float("-inf"))
        if self.top_p < 1.0:
            srt, idx = torch.sort(scores, descending=True, dim=-1)
            cum = torch.softmax(srt, dim=-1).cumsum(-1)
            drop = cum - torch.softmax(srt, dim=-1) > self.top_p
            scores = scores.masked_fill(drop.scatter(-1, idx, drop), float("-inf"))
        u = torch.stack([torch.rand(scores.shape[-1], generator=g) for g in self.gens])
        gumbel = -torch.log(-torch.log(u.clamp_min(1e-20)))
        return scores + gumbel.to(scores.device)


@ENGINES.register("hf")
class HFEngine:
    # bump when a change can alter generated text or scores (enters every generate/eval hash)
    version = "2"
    name = "hf"

    def __init__(self, model_path: str, sampler_cfg: Any = None, revision: str | None = None):
        # sampler.engine holds the configured backend's arguments (e.g. vllm.LLM's); as a fallback
        # for another backend, hf must not pass them to from_pretrained
        own = cfg_get(sampler_cfg, "backend", "hf") == "hf"
        kw = plain(cfg_get(sampler_cfg, "engine", {})) if own else {}
        self.think = think_mode(sampler_cfg)
        self.device = kw.pop("device", "cuda" if torch.cuda.is_available() else "cpu")
        self.batch_size = int(kw.pop("batch_size", cfg_get(sampler_cfg, "batch_size", 64)))
        if revision is not None:
            kw.setdefault("revision", revision)
        self.tok = AutoTokenizer.from_pretrained(model_path, revision=kw.get("revision"))
        self.tok.padding_side = "left"
        if kw.get("dtype") is None:
            kw["dtype"] = "auto"
        self.model = AutoModelForCausalLM.from_pretrained(model_path, **kw).to(self.device).eval()
        self.max_positions = getattr(self.model.config, "max_position_embeddings", None)
        self._loglik_setup(None)

    @classmethod
    def for_scoring(cls, model_path: str, score_cfg: Any) -> HFEngine:
        """The engine ``stage=score`` runs: weights in ``score.dtype`` on ``score.device`` with
        SDPA attention (compiled decoder layers on CUDA), scoring per ``score.*`` options."""
        model = hf_loglik.load_model(model_path, score_cfg.device, score_cfg.dtype, score_cfg.compile)
        return cls.wrap(model, score_cfg)

    @classmethod
    def wrap(cls, model: Any, score_cfg: Any = None, tokenizer: Any = None) -> HFEngine:
        """An engine around a model already in memory (scoring ranks, tests, benchmarks)."""
        self = cls.__new__(cls)
        self.model, self.tok, self.think, self.batch_size = model, tokenizer, "keep", 64
        self.device = next(model.parameters()).device
        self._loglik_setup(score_cfg)
        return self

    def _loglik_setup(self, score_cfg: Any) -> None:
        self.loglik_opts = hf_loglik.LoglikOptions.of(score_cfg)
        self._verified = not self.loglik_opts.verify
        self.loglik_stats = {"verify_s": 0.0}

    def _check(self, sampling: dict[str, Any]) -> None:
        unknown = set(sampling) - SUPPORTED
        if unknown:
            raise ValueError(f"sampler.sampling: the hf backend does not support {sorted(unknown)}; "
                             f"supported: {sorted(SUPPORTED)}")

    @torch.inference_mode()
    def generate(self, requests: Sequence[GenRequest], sampling: dict[str, Any]) -> list[list[Completion]]:
        self._check(sampling)
        flat = [(ri, req.prompt, seed) for ri, req in enumerate(requests) for seed in req.seeds]
        out: list[list[Completion]] = [[] for _ in requests]
        stop = sampling.get("stop") or []
        stop = [stop] if isinstance(stop, str) else list(stop)
        for i in range(0, len(flat), self.batch_size):
            chunk = flat[i: i + self.batch_size]
            enc = self.tok([p for _, p, _ in chunk], return_tensors="pt", padding=True,
                           add_special_tokens=False).to(self.device)
            proc = _SeededSampler([s for _, _, s in chunk], float(sampling.get("temperature", 1.0)),
                                  float(sampling.get("top_p", 1.0)), int(sampling.get("top_k", 0) or 0))
            # never past the model's context (a benchmark's 32k max_tokens on a 256-position model
            # would otherwise run on past its positions); vLLM caps the same way
            room = self.max_positions - enc["input_ids"].shape[1] if self.max_positions else None
            max_new = int(sampling.get("max_tokens", 64))
            if room is not None:
                max_new = max(1, min(max_new, room))
            gen = self.model.generate(**enc, do_sample=False, max_new_tokens=max_new,
                                      logits_processor=LogitsProcessorList([proc]),
                                      pad_token_id=self.tok.pad_token_id, eos_token_id=self.tok.eos_token_id,
                                      num_beams=1, temperature=None, top_p=None, top_k=None)
            new = gen[:, enc["input_ids"].shape[1]:]
            n_prompt = enc["attention_mask"].sum(-1).tolist()
            for row, (ri, _, _) in enumerate(chunk):
                ids = new[row].tolist()
                finish = "length"
                if self.tok.eos_token_id in ids:
                    ids = ids[: ids.index(self.tok.eos_token_id) + 1]
                    finish = "stop"
                text = self.tok.decode(ids, skip_special_tokens=sampling.get("skip_special_tokens", True))
                for s in stop:
                    if s in text:
                        text, finish = text[: text.index(s)], "stop"
                text, extra = apply_think(text, self.think)
                out[ri].append(Completion(text=text, finish_reason=finish, n_prompt_tokens=int(n_prompt[row]),
                                          n_completion_tokens=len(ids), extra=extra))
        return out

    @torch.inference_mode()
    def loglikelihood(self, pairs: Sequence[TokenPair], ids: Sequence[str] | None = None
                      ) -> list[dict[str, Any]]:
        """Scores of ``pairs`` from the fast path; the first call checks it against the model's
        plain forward on its shortest pair (``score.verify``)."""
        o = self.loglik_opts
        if pairs and not self._verified:
            t0 = time.perf_counter()
            hf_loglik.verify_fast_path(self.model, pairs, o)
            self._verified = True
            self.loglik_stats["verify_s"] += time.perf_counter() - t0
        res = hf_loglik.score_token_pairs(self.model, pairs, token_budget=o.token_budget,
                                          head_chunk_mb=o.head_chunk_mb, head_impl=o.head_impl,
                                          max_length=o.max_length, ids=ids)
        return [res[i] for i in range(len(pairs))]

    def close(self) -> None:
        del self.model
