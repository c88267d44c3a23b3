"""``stage=generate``: n samples per problem from the teacher (or from each of ``generators``,
merged into one set: ``generators.py``), appended in fsync'd batches.

Resumable per record: after a kill, the shard's ``.partial`` file is repaired and only the
sample ids not yet on disk are generated (their seeds come from their ids, so the resumed run
produces the same records an uninterrupted run would have). How problems become sample records
is ``samples.py``; how the work is cut into parts and shards is ``sharding.py``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from reasonkit import prompts
from reasonkit.data import load as data
from reasonkit.engines import build_engine
from reasonkit.generation import generators, reference, sharding
from reasonkit.generation.samples import (
    check_prompt_api,
    code_versions,
    generate_samples,
    sampler_identity,
)
from reasonkit.models import load as models
from reasonkit.pipeline.artifacts import ShardWriter
from reasonkit.pipeline.identity import canonical, digest
from reasonkit.pipeline.stage import Stage, StageContext, StagePending, register


@register
class GenerateStage(Stage):
    name = "generate"
    version = 1
    resumable = True

    # -- dispatch: one model (the teacher), or ``generators`` (one artifact each, then a merge)

    def keys(self, cfg):
        if cfg.get("generators"):
            return {"generators": [{"name": g.name, "n": int(g.sampler.n), "artifact": self._single_step(sub).key}
                                   for g, sub in self._subs(cfg)]}
        return self._keys(cfg)

    def code(self, cfg):
        return {"merge": generators.MERGE_VERSION} if cfg.get("generators") else self._code(cfg)

    def validate(self, cfg) -> None:
        for _, sub in self._subs(cfg) if cfg.get("generators") else [(None, cfg)]:
            check_prompt_api(sub.sampler)
            reference.check(sub.sampler)

    def label(self, cfg):
        if cfg.get("generators"):
            return f"{'+'.join(g.name for g in generators.resolve(cfg))}-{cfg.dataset.name}"[:100]
        return self._label(cfg)

    def concurrent(self, cfg) -> bool:
        """Sharded runs compute without the artifact-wide lock: each part has its own (sharding.py),
        so shard processes run side by side."""
        return int(cfg.sampler.shards) > 1

    def run(self, ctx: StageContext) -> dict[str, Any]:
        return self._run_many(ctx) if ctx.cfg.get("generators") else self._run(ctx)

    def _subs(self, cfg):
        return [(g, generators.single_config(cfg, g)) for g in generators.resolve(cfg)]

    def _single_step(self, sub) -> _SingleStep:
        """The step a plain single-teacher run of ``sub`` plans (same keys, code, label, hash)."""
        keys = canonical(self._keys(sub))
        code = self._code(sub)
        d = digest(self.name, self.version, keys, code, [])
        return _SingleStep(f"{self._label(sub)}-{d}", keys, code, self._label(sub), d)

    def _run_many(self, ctx: StageContext) -> dict[str, Any]:
        """Every generator's own artifact (reused when complete; this process's shard of it when
        sharded), then the merge once all exist."""
        from contextlib import nullcontext

        from reasonkit.pipeline.runner import Step, execute

        sources, pending, computed = [], [], []
        for g, sub in self._subs(ctx.cfg):
            one = self._single_step(sub)
            step = Step(self, ctx.store.artifact(self.name, one.label, one.digest), {}, one.keys, one.code)
            try:
                art, did = execute(sub, step, ctx.store)
            except StagePending as e:
                pending.append(f"{g.name}: {e}")
                continue
            sources.append((g.name, art.path, int(g.sampler.n)))
            if did:
                computed.append(g.name)
        if pending:
            raise ShardPending("generate: " + "; ".join(pending))
        with ctx.store.lock(ctx.out) if self.concurrent(ctx.cfg) else nullcontext():
            if ctx.out.complete:  # another shard process merged meanwhile
                return ctx.out.manifest.get("metrics", {})
            stats = generators.merge(sources, ctx.out.path)
        ctx.metrics["generators"] = {name: str(path) for name, path, _ in sources}
        return {**stats, "computed_models": computed}

    # -- one model

    def _keys(self, cfg):
        return {"model": cfg.teacher, "weights": models.fingerprint(cfg.teacher), "dataset": cfg.dataset,
                "split": cfg.dataset.train_split, "data": data.check(cfg.dataset, cfg.dataset.train_split),
                "sampler": sampler_identity(cfg.sampler), "prompt": prompts.identity(cfg.dataset.prompt)}

    def _code(self, cfg):
        if cfg.sampler.source == "reference":
            return {**code_versions(), "reference": reference.REFERENCE_VERSION}
        return code_versions()

    def _label(self, cfg):
        who = reference.MODEL_NAME if cfg.sampler.source == "reference" else cfg.teacher.name
        return f"{who}-{cfg.dataset.name}"

    def _run(self, ctx: StageContext) -> dict[str, Any]:
        cfg = ctx.cfg
        s = cfg.sampler
        problems = list(data.problems(cfg.dataset, cfg.dataset.train_split))
        layout = sharding.Layout.for_problems(len(problems)).record(ctx.out.path)
        t0 = time.time()
        if s.shard is None and s.shards > 1:  # all shards as local processes, one per GPU group
            sharding.run_local_shards(cfg, ctx.out.path, s.shards)
        else:
            parts = layout.parts_of(s.shards, s.shard)
            info, written, resumed = self._compute(ctx, problems, layout, parts)
            dt = time.time() - t0
            sharding.write_shard_info(ctx.out.path, s.shard, {
                "shards": s.shards, "parts": parts, "engine": info, "generated_now": written,
                "resumed_from_disk": resumed, "seconds_generating": round(dt, 2),
                "samples_per_s": round(written / dt, 2) if dt and written else None})
        missing = layout.missing(ctx.out.path)
        if missing:  # this process did its share; the artifact completes with the last shard
            raise ShardPending(f"generate: shard {s.shard}/{s.shards} done; parts {missing} "
                               f"(shards {sorted({p % s.shards for p in missing})}) still pending")
        gathered = sharding.gather_shard_info(ctx.out.path)
        ctx.metrics["engine"] = gathered
        shard_infos = gathered["shards"].values()
        total = sum(1 for sh in ctx.out.shards() for _ in open(sh))
        return {"samples": total, "parts": layout.parts, "shards": s.shards,
                "generated_now": sum(i.get("generated_now", 0) for i in shard_infos),
                "resumed_from_disk": sum(i.get("resumed_from_disk", 0) for i in shard_infos),
                "seconds_generating": round(time.time() - t0, 2)}

    def _compute(self, ctx: StageContext, problems: list[dict], layout, parts: list[int]):
        cfg = ctx.cfg
        s = cfg.sampler
        ref = s.source == "reference"  # the dataset's solutions: no model at all

        def ask(q: str) -> str:  # how each problem is asked: the dataset's prompt template
            return prompts.render(cfg.dataset.prompt, problem=q, instruction=cfg.dataset.instruction)

        path = None if ref else models.resolve(cfg.teacher, cfg.paths.models)
        tok = None if ref else models.tokenizer(path, cfg.teacher.revision, cfg.teacher.chat_template)
        info: dict[str, Any] = {"source": "reference", "field": s.reference_field} if ref else {}
        engine = None
        written = 0
        try:
            for group in sharding.claimed_parts(ctx.out.path, parts):
                # one stream over all parts we hold, so engine batches span part boundaries; a
                # part's file is closed (renamed complete) as soon as its last problem is written
                writers = {p: ShardWriter(layout.part_path(ctx.out.path, p)) for p in group}
                owner, left, todo = {}, {}, []
                for p in group:
                    lo, hi = layout.bounds(p)
                    for prob in problems[lo:hi]:
                        owner[prob["id"]] = p
                    left[p] = hi - lo
                    todo += problems[lo:hi]
                done = set().union(*(w.done_ids for w in writers.values()))
                if len(done) < len(todo) * s.n and not ref:
                    engine = engine or build_engine(s, path, info, revision=cfg.teacher.revision, model=cfg.teacher)
                stream = reference.reference_samples(
                    todo, field=s.reference_field, batch_problems=max(1, s.batch_size), done=done,
                    instruction=ask) if ref else generate_samples(
                        engine, tok, todo, n=s.n, seed=s.seed, sampling=dict(s.sampling),
                        model_name=cfg.teacher.name, system=cfg.teacher.system_prompt,
                        batch_problems=max(1, s.batch_size // s.n), done=done,
                        chat=bool(s.chat) and not prompts.load_prompt(cfg.dataset.prompt).raw,
                        instruction=ask,
                        progress=f"generate parts {group[0]}..{group[-1]} of {layout.parts}", with_chunks=True)
                for batch, chunk in stream:
                    by_part: dict[int, list[dict]] = {}
                    for rec in batch:
                        by_part.setdefault(owner[rec["problem_id"]], []).append(rec)
                    for p, recs in by_part.items():
                        written += writers[p].write_batch(recs)
                    for prob in chunk:
                        p = owner[prob["id"]]
                        left[p] -= 1
                        if left[p] == 0:
                            writers[p].close()
                for w in writers.values():
                    w.close()
        finally:
            if engine is not None:
                engine.close()
        # Whatever of this process's parts is on disk and was not written now was there before
        # (earlier attempts, or finished parts claimed_parts skipped): that is what it resumed from.
        on_disk = sum(1 for p in parts for _ in open(layout.part_path(ctx.out.path, p)))
        return info, written, on_disk - written


@dataclass(frozen=True)
class _SingleStep:
    key: str  # "<label>-<hash>": the single-model artifact's folder name
    keys: Any
    code: dict[str, str]
    label: str
    digest: str


class ShardPending(StagePending):
    """This process finished its shard; other shards are not done yet (not an error)."""
