"""Moved to ``reasonkit.generation``; this re-export keeps judging/evaluation imports working."""
from reasonkit.generation.samples import check_prompt_api, code_versions, generate_samples, sampler_identity  # noqa: F401, I001
