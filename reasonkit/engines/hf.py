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


_M32 = 0xFFFFFFFF


def _hash32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer mix (Wellons' "lowbias32") on int64 tensors: the same bits on CPU and GPU."""
    x = x & _M32
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & _M32
    x = x ^ (x >> 15)
    x = (x * 0x846CA68B) & _M32
    return x ^ (x >> 16)


def counter_uniform(seeds: torch.Tensor, step: int, vocab: int) -> torch.Tensor:
    """Uniforms in (0, 1) of shape [len(seeds), vocab], a pure function of (seed, step, token id).

    Counter-based rather than one ``torch.Generator`` per sample: a sample's noise does not depend
    on which samples share its batch or on the device, and the whole batch is drawn with a few
    element-wise kernels where the GPU is (per-sample CPU generators cost a host round trip per
    sample per token)."""
    key = _hash32(_hash32(seeds) ^ _hash32(seeds >> 32) ^ (step * 0x9E3779B9))
    tok = torch.arange(vocab, device=seeds.device, dtype=torch.int64)
    h = _hash32(_hash32(key[:, None] ^ tok[None, :]) + 0x632BE5AB)
    return ((h >> 8).to(torch.float32) + 0.5) * (1.0 / (1 << 24))


class _SeededSampler(LogitsProcessor):
    """Temperature / top-k / top-p by the Gumbel-max trick over counter-based noise: greedy
    decoding of the perturbed scores is an exact draw from the filtered distribution."""

    def __init__(self, seeds: list[int], temperature: float, top_p: float, top_k: int):
        self.seeds = torch.tensor([s & ((1 << 63) - 1) for s in seeds], dtype=torch.int64)
        self.t, self.top_p, self.top_k = temperature, top_p, top_k
        self.start: int | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.t <= 0:
            return scores
        if self.start is None:
            self.start = input_ids.shape[1]
            self.seeds = self.seeds.to(scores.device)
        scores = scores.float() / self.t
        if self.top_k and self.top_k > 0:
            kth = torch.topk(scores, min(self.top_k, scores.shape[-1]), dim=-1).values[..., -1:]
            scores = scores.masked_fill(scores < kth, float("-inf"))
        if self.top_p < 1.0:
            srt, idx = torch.sort(scores, descending=True, dim=-1)
            cum = torch.softmax(srt, dim=-1).cumsum(-1)
            drop = cum - torch.softmax(srt, dim=-1) > self.top_p
            scores = scores.masked_fill(drop.scatter(-1, idx, drop), float("-inf"))
        u = counter_uniform(self.seeds[: scores.shape[0]], input_ids.shape[1] - self.start, scores.shape[-1])
        return scores - torch.log(-torch.log(u))


@ENGINES.register("hf")
class HFEngine:
    # bump when a change can alter generated text or scores (enters every generate/eval hash)
    version = "3"
    name = "hf"

    def __init__(self, model_path: str, sampler_cfg: Any = None, revision: str | None = None):
        # sampler.engine holds the configured backend's arguments (e.g. vllm.LLM's); as a fallback
        # for another backend, hf must not pass them to from_pretrained
        own = cfg_get(sampler_cfg, "backend", "hf") == "hf"
        kw = plain(cfg_get(sampler_cfg, "engine", {})) if own else {}
        self.think = think_mode(sampler_cfg)
        self.device = kw.pop("device", "cuda" if torch.cuda.is_available() else "cpu")
        self.batch_size = int(kw.pop("batch_size", cfg_get(sampler_cfg, "batch_size", 64)))
        # GPU: a static KV cache lets transformers compile the decode step (CUDA graphs); fixed batch
        # and prompt-length buckets keep the compiled shapes few (benchmarks/gen_RESULTS.md)
        static = kw.pop("static_cache", "auto")
        self.static = self.device.startswith("cuda") if static == "auto" else bool(static)
        self.pad_multiple = int(kw.pop("pad_to_multiple_of", 64))
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
        self.static, self.pad_multiple = False, 64
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
        ids_all = self.tok([p for _, p, _ in flat], add_special_tokens=False)["input_ids"] if flat else []
        # similar lengths together: less padding (a sample's noise does not depend on its batch);
        # longest first: the static cache sized for the first batch fits every later one, so the
        # compiled decode step is built once per call (and out-of-memory shows at once)
        order = sorted(range(len(flat)), key=lambda j: -len(ids_all[j]))
        texts: dict[int, Completion] = {}
        for i in range(0, len(order), self.batch_size):
            idx = order[i: i + self.batch_size]
            rows, seeds = [ids_all[j] for j in idx], [flat[j][2] for j in idx]
            if self.static:  # one batch shape for every chunk: the compiled step is reused
                rows += [rows[0]] * (self.batch_size - len(rows))
                seeds += [seeds[0]] * (self.batch_size - len(seeds))
            enc = self.tok.pad({"input_ids": rows}, padding=True, return_tensors="pt",
                               pad_to_multiple_of=self.pad_multiple if self.static else None).to(self.device)
            proc = _SeededSampler(seeds, float(sampling.get("temperature", 1.0)),
                                  float(sampling.get("top_p", 1.0)), int(sampling.get("top_k", 0) or 0))
            # never past the model's context (a benchmark's 32k max_tokens on a 256-position model
            # would otherwise run on past its positions); vLLM caps the same way
            room = self.max_positions - enc["input_ids"].shape[1] if self.max_positions else None
            max_new = int(sampling.get("max_tokens", 64))
            if room is not None:
                max_new = max(1, min(max_new, room))
            gen_kw = {"cache_implementation": "static"} if self.static else {}
            gen = self.model.generate(**enc, do_sample=False, max_new_tokens=max_new,
                                      logits_processor=LogitsProcessorList([proc]),
                                      pad_token_id=self.tok.pad_token_id, eos_token_id=self.tok.eos_token_id,
                                      num_beams=1, temperature=None, top_p=None, top_k=None, **gen_kw)
            new = gen[:, enc["input_ids"].shape[1]:]
            n_prompt = enc["attention_mask"].sum(-1).tolist()
            for row, j in enumerate(idx):
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
                texts[j] = Completion(text=text, finish_reason=finish, n_prompt_tokens=int(n_prompt[row]),
                                      n_completion_tokens=len(ids), extra=extra)
        for j, (ri, _, _) in enumerate(flat):  # request order, each request's seeds in order
            out[ri].append(texts[j])
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
