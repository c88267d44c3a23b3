"""Schema of the ``model`` group (used as ``model@teacher``, ``model@student`` and by name in
``eval.models``).

Which fields change what a run does, and where:

* ``builtin`` / ``path`` / ``hf_id`` + ``revision``: what is loaded (``reasonkit.models.load.resolve``;
  a hub model whose revision is not a commit sha is logged once as unpinned).
* ``context_length`` and ``tensor_parallel_size``: defaults of the engine that serves the model
  (``load.sampler_for``): vLLM's ``max_model_len`` / ``tensor_parallel_size`` for
  ``sampler=vllm``, ``vllm serve --max-model-len / --tensor-parallel-size`` for ``sampler=openai``
  when it launches servers. An explicit ``sampler.engine.<key>`` (or ``sampler.server.args.<key>``)
  wins. The hf backend reads the context from the model's own config.json instead.
* ``sampling``: the model card's recommended sampling. Eval applies it to every cell of this model
  over the benchmark's own sampling; ``eval.overrides.<benchmark>.sampling`` and a non-null
  ``eval.sampling.<key>`` still win, and ``eval.model_sampling=false`` turns it off. Generation
  uses ``sampler.sampling`` as configured (a run's explicit choice): copy the preset's numbers
  there to sample training data the way the card recommends.
* ``prompt``: this model's default prompt template (``conf/prompt``) in eval, e.g. ``r1_zero``
  for a base model; ``eval.model_prompts.<entry>`` and ``eval.prompt`` win.
* ``opened_think``: the chat template opens ``<think>`` in the prompt (R1 distills, QwQ), so a
  response holds only the closing tag; eval's judge reads it with ``judge.extract.opened_think``
  for this model's cells (an explicit ``eval.judge_args.extract.opened_think`` wins).
* ``chat_template`` / ``system_prompt``: how prompts are rendered (every stage).

Documentation only (read by people, recorded with results, never by code): ``chat_format`` (what
the tokenizer's chat template renders: chatml, deepseek, llama3, harmony, or none for a base
model) and ``notes``. gpt-oss's harmony format needs no code here: its tokenizer's template
renders harmony, and the judges keep only the ``final`` channel (``judge.extract.harmony``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHAT_FORMATS = ("chatml", "deepseek", "llama3", "harmony", "none")


@dataclass
class ModelConfig:
    # Short name used in artifact names, records' provenance and report rows.
    name: str = "???"
    # Exactly one source: a builtin recipe (built locally on first use), a local folder, or a hub id.
    builtin: str | None = None
    path: str | None = None
    hf_id: str | None = None
    # A 40-hex commit sha pins a hub model; anything else (main, a tag) is unpinned (warned once).
    revision: str | None = None
    # A Jinja chat template overriding the tokenizer's (file path or inline string).
    chat_template: str | None = None
    system_prompt: str | None = None
    dtype: str = "auto"
    # Tokens of prompt + completion the engine serves (vLLM max_model_len); null: the engine's own.
    context_length: int | None = None
    # GPUs one engine spans (vLLM tensor_parallel_size); null: the engine's own (1).
    tensor_parallel_size: int | None = None
    # The model card's recommended sampling (vLLM SamplingParams names), applied by eval.
    sampling: dict[str, Any] = field(default_factory=dict)
    # The chat template ends the prompt inside <think> (responses carry only </think>).
    opened_think: bool = False
    # Default conf/prompt template for this model in eval (null: each benchmark's own).
    prompt: str | None = None
    # Documentation: chatml | deepseek | llama3 | harmony | none (base model, prompt it raw).
    chat_format: str | None = None
    notes: str | None = None
