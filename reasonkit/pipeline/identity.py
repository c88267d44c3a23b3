"""Artifact identity: what a stage's hash covers, and the check that it covers everything.

A stage's hash is ``sha256(stage name, stage version, keys(cfg), code versions, input hashes)``.
``keys`` is hand-written (a stage knows which values change its output), so it can drift: a
setting the stage reads while it runs but leaves out of its keys would let a changed config reuse
a stale result. ``ReadRecorder`` makes that drift visible: it records every config value read
(leaf paths such as ``sampler.chat``) while a stage computes keys and while it runs, and
``uncovered`` lists what was read during the run but is neither in the identity nor on the
allow-list below (settings that change how, never what, is computed). The test
``tests/pipeline/test_identity_reads.py`` runs every stage under the recorder.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any, Iterator

from omegaconf import DictConfig, ListConfig, OmegaConf

# Config values a stage may read without putting them into its hash; each says why it cannot
# change an output. Prefix match on dotted paths.
ALLOWED_READS: dict[str, str] = {
    "stage": "which stage to run, not what it computes",
    "pipeline": "which stages to run",
    "experiment_name": "labels runs and reports; outputs do not depend on it",
    "paths": "where artifacts live, not what they hold",
    "tracking": "logging to W&B or nowhere",
    "local": "cluster account/partition profile",
    "debug.name": "a label; the debug preset's effect is in the values it overrides",
    "sampler.shards": "how generation is split over processes; per-sample seeds make output independent of it",
    "sampler.shard": "which shard this process computes",
    "sampler.batch_size": "records per engine call and append batch; per-sample seeds make output independent of it",
    "sampler.fallback": "which backend starts if the configured one cannot; recorded in the manifest",
    "sampler.gpu_groups": "GPU placement",
    "sampler.num_servers": "server count (throughput)",
    "sampler.gpus_per_server": "GPU placement",
    "sampler.host": "where launched servers listen",
    "sampler.port": "where launched servers listen",
    "sampler.env": "environment of launched servers (placement, logging)",
    "sampler.log_dir": "server logs",
    "sampler.ready_timeout": "waiting for a server",
    "sampler.max_restarts": "fault tolerance",
    "sampler.server.urls": "where the server is; the model it serves is the teacher config",
    "sampler.server.launch": "whether the engine starts the server itself",
    "sampler.server.args": "server process flags (placement, memory); sampling is in sampler.sampling",
    "sampler.server.log_dir": "server logs",
    "sampler.server.ready_timeout": "waiting for a server",
    "sampler.server.api_key_env": "secret's variable name",
    "sampler.server.concurrency": "requests in flight",
    "sampler.server.timeout": "per-request timeout",
    "sampler.server.max_retries": "fault tolerance",
    "sampler.server.max_restarts": "fault tolerance",
    "sampler.server.backoff": "fault tolerance",
    "sampler.server.backoff_max": "fault tolerance",
    "sampler.server.cooldown": "fault tolerance",
    "sampler.server.log_every": "progress logging",
    "sampler.api_key_env": "secret's variable name",
    "sampler.concurrency": "requests in flight",
    "sampler.timeout": "per-request timeout",
    "sampler.max_retries": "fault tolerance",
    "sampler.backoff": "fault tolerance",
    "sampler.backoff_max": "fault tolerance",
    "sampler.cooldown": "fault tolerance",
    "sampler.log_every": "progress logging",
    "score.rank": "which slice of the work this process scores",
    "score.world_size": "number of scoring processes; merged scores equal one process's",
    "score.token_budget": "tokens per forward batch (memory), not the scores",
    "score.head_chunk_mb": "LM-head chunk size (memory), not the scores",
    "score.block_size": "kernel tile size",
    "score.verify": "an extra self-check of the fast path",
    "judge.workers": "judge process-pool size",
    "judge.timeout_workers": "judge process-pool size",
    "judge.batch_size": "records per judge batch",
    "transform.batch_size": "requests per engine call and append batch; per-request seeds make output independent of it",
    "judge.sandbox.uid_base": "uids of concurrent sandboxes",
    "trainer.launcher": "how ranks are started (python or accelerate); the trainer args decide the result",
}


def leaf_paths(cfg: DictConfig, prefix: str) -> list[str]:
    """Every leaf below ``prefix`` (lists count as leaves)."""
    node = OmegaConf.select(cfg, prefix, throw_on_missing=False) if prefix else cfg
    if not isinstance(node, DictConfig):
        return [prefix]
    out: list[str] = []
    for k in node.keys():
        out += leaf_paths(cfg, f"{prefix}.{k}" if prefix else str(k))
    return out


def _path(node: Any, key: Any = None) -> str:
    return node._get_full_key(key) if key is not None else node._get_full_key(None)


class ReadRecorder:
    """Records which config values of one root config are read, into the current bucket.

    Patches ``DictConfig._get_impl`` (attribute, item, ``get`` and ``items()`` access all go
    through it) and the ``OmegaConf`` functions that read whole subtrees (``to_container``,
    ``to_object``, ``to_yaml``, ``merge``). Reads of other configs (copies, merges) are not
    recorded, but making the copy already recorded its whole source subtree.
    """

    def __init__(self, root: DictConfig):
        self.root = root
        self.buckets: dict[str, set[str]] = {}
        self.bucket: str | None = None

    @contextlib.contextmanager
    def into(self, bucket: str) -> Iterator[set[str]]:
        prev, self.bucket = self.bucket, bucket
        try:
            yield self.buckets.setdefault(bucket, set())
        finally:
            self.bucket = prev

    def _mine(self, node: Any) -> bool:
        try:
            return node._get_root() is self.root
        except Exception:  # noqa: BLE001 - a foreign object: not ours
            return False

    def _record(self, path: str) -> None:
        if self.bucket is not None and path:
            self.buckets.setdefault(self.bucket, set()).add(path)

    @contextlib.contextmanager
    def active(self) -> Iterator["ReadRecorder"]:
        rec = self
        orig_get = DictConfig._get_impl
        whole = {name: getattr(OmegaConf, name) for name in ("to_container", "to_object", "to_yaml")}
        orig_merge = OmegaConf.merge

        def _get_impl(self, key, default_value, validate_key=True):  # noqa: ANN001
            value = orig_get(self, key, default_value, validate_key)
            if rec.bucket is not None and rec._mine(self) and not isinstance(value, DictConfig):
                rec._record(_path(self, key))
            return value

        def wrap(fn):
            def inner(cfg, *a, **kw):
                if rec.bucket is not None and isinstance(cfg, (DictConfig, ListConfig)) and rec._mine(cfg):
                    rec._record(_path(cfg) or "<root>")
                return fn(cfg, *a, **kw)
            return staticmethod(inner)

        def merge(*configs):
            for c in configs:
                if rec.bucket is not None and isinstance(c, (DictConfig, ListConfig)) and rec._mine(c):
                    rec._record(_path(c) or "<root>")
            return orig_merge(*configs)

        DictConfig._get_impl = _get_impl  # type: ignore[method-assign]
        for name, fn in whole.items():
            setattr(OmegaConf, name, wrap(fn))
        OmegaConf.merge = staticmethod(merge)  # type: ignore[method-assign]
        try:
            yield self
        finally:
            DictConfig._get_impl = orig_get  # type: ignore[method-assign]
            for name, fn in whole.items():
                setattr(OmegaConf, name, staticmethod(fn))
            OmegaConf.merge = staticmethod(orig_merge)  # type: ignore[method-assign]

    def leaves(self, bucket: str) -> set[str]:
        """The bucket's reads with whole-subtree reads expanded to their leaves."""
        out: set[str] = set()
        for p in self.buckets.get(bucket, ()):
            out.update(leaf_paths(self.root, "" if p == "<root>" else p))
        return out


def container_paths(keys: Any) -> set[str]:
    """Config subtrees placed whole into a stage's keys (their every leaf is in the hash)."""
    found: set[str] = set()

    def walk(x: Any) -> None:
        if isinstance(x, (DictConfig, ListConfig)):
            found.add(_path(x) or "<root>")
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)

    walk(keys)
    return found


def _allowed(path: str, allowed: dict[str, str]) -> bool:
    return any(path == a or path.startswith(a + ".") for a in allowed)


def uncovered(run_reads: set[str], covered: set[str], allowed: dict[str, str] = ALLOWED_READS) -> list[str]:
    """Leaf paths read while running that the identity does not cover and the allow-list does not
    excuse."""
    def inside(p: str) -> bool:
        return any(p == c or p.startswith(c + ".") for c in covered)

    return sorted(p for p in run_reads if not inside(p) and not _allowed(p, allowed))


def canonical(obj: Any) -> Any:
    if OmegaConf.is_config(obj):
        return OmegaConf.to_container(obj, resolve=True)
    if isinstance(obj, dict):
        return {k: canonical(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    return obj


def digest(name: str, version: int, keys: Any, code: dict[str, str], input_hashes: list[str]) -> str:
    payload = json.dumps({"stage": name, "version": version, "keys": canonical(keys), "code": code,
                          "inputs": input_hashes}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]
