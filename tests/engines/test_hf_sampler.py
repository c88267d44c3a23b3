"""The hf backend's sampler: counter-based Gumbel noise is an exact draw and a pure function of
(seed, step, token); the GPU path's static batch (padded with duplicates, prompt-length buckets,
static KV cache) gives the texts the plain path gives."""
from __future__ import annotations

import math

import torch

from engine_helpers import SAMPLING, requests, texts
from reasonkit.engines.hf import HFEngine, counter_uniform


def test_noise_is_a_function_of_seed_step_and_token_only():
    seeds = torch.tensor([3, 2**40 + 7, 11])
    a = counter_uniform(seeds, 5, 1000)
    # same rows in another batch, another order: the same numbers
    b = counter_uniform(torch.tensor([11, 99, 3]), 5, 1000)
    assert torch.equal(a[0], b[2]) and torch.equal(a[2], b[0])
    assert not torch.equal(a[0], counter_uniform(seeds, 6, 1000)[0])  # the step matters
    assert not torch.equal(a[0], a[1])  # the seed matters, including its high bits
    assert not torch.equal(counter_uniform(torch.tensor([7]), 0, 50), counter_uniform(torch.tensor([2**40 + 7]), 0, 50))
    assert float(a.min()) > 0 and float(a.max()) < 1


def test_gumbel_max_over_the_noise_draws_from_the_softmax():
    """10k draws of a 5-way distribution (seeds 0..9999): frequencies within 5 standard errors."""
    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0])
    p = torch.softmax(logits, 0)
    n = 10_000
    u = counter_uniform(torch.arange(n), 0, 5)
    picks = torch.argmax(logits[None] - torch.log(-torch.log(u)), dim=-1)
    freq = torch.bincount(picks, minlength=5).float() / n
    se = torch.sqrt(p * (1 - p) / n)
    assert bool(((freq - p).abs() < 5 * se).all()), (freq, p)
    # and the uniforms themselves: mean 1/2, variance 1/12
    assert abs(float(u.mean()) - 0.5) < 5 * math.sqrt(1 / 12 / u.numel())


def test_static_batch_gives_the_plain_texts(tiny_model):
    plain = HFEngine(tiny_model, {"backend": "hf", "engine": {"dtype": "float32", "batch_size": 5}})
    static = HFEngine(tiny_model, {"backend": "hf", "engine": {"dtype": "float32", "batch_size": 8,
                                                              "static_cache": True, "pad_to_multiple_of": 16}})
    reqs = requests(range(3), n=4) + requests([123456789], n=1)  # 13 samples: the last batch is padded
    assert static.static and not plain.static
    assert texts(static.generate(reqs, SAMPLING)) == texts(plain.generate(reqs, SAMPLING))
