"""Redaction rules: credential env values are cut from any string, credential keys are blanked,
key-shaped tokens are cut even when no variable holds them, and ordinary settings survive."""
from reasonkit.tracking.redact import REDACTED, redact, scrub, secret_values

ENV = {"WANDB_API_KEY": "a" * 40, "HF_TOKEN": "hf_" + "b" * 20, "SSH_AUTH_SOCK": "/tmp/agent.1",
       "GIT_AUTHOR": "x", "PATH": "/usr/bin:/bin", "SHORT_TOKEN": "1234", "AWS_SECRET_ACCESS_KEY": "c" * 30}


def test_secret_values_by_variable_name_and_length():
    vals = secret_values(ENV)
    assert vals == {"a" * 40: "WANDB_API_KEY", "hf_" + "b" * 20: "HF_TOKEN", "/tmp/agent.1": "SSH_AUTH_SOCK",
                    "c" * 30: "AWS_SECRET_ACCESS_KEY"}   # PATH: not a credential; SHORT_TOKEN: too short


def test_scrub_replaces_embedded_values_and_key_shapes():
    s = secret_values(ENV)
    assert scrub(f"Authorization: Bearer {'a' * 40}!", s) == "Authorization: Bearer <redacted:WANDB_API_KEY>!"
    assert scrub("key sk-" + "Z" * 30 + " end", s) == f"key {REDACTED} end"
    assert scrub("ghp_" + "q" * 36, {}) == REDACTED
    assert scrub("nothing to see", s) == "nothing to see"


def test_redact_walks_nested_configs_and_keeps_tokenizer_settings():
    s = secret_values(ENV)
    cfg = {"sampler": {"api_key": "whatever-value", "max_tokens": 48, "stop": ["</s>", "c" * 30]},
           "model": {"pad_token": "<pad>", "eos_token": "</s>", "hf_token": None},
           "db": {"password": "hunter2hunter2"}, "n": 3}
    out = redact(cfg, s)
    assert out == {"sampler": {"api_key": REDACTED, "max_tokens": 48,
                               "stop": ["</s>", "<redacted:AWS_SECRET_ACCESS_KEY>"]},
                   "model": {"pad_token": "<pad>", "eos_token": "</s>", "hf_token": None},
                   "db": {"password": REDACTED}, "n": 3}
    assert cfg["sampler"]["api_key"] == "whatever-value"   # the input is not modified
