"""``stage=transform``: an engine (the run's teacher through the sampler's backend) prompted per
problem or per sample with ``conf/prompt/<transform.prompt>.yaml``; the reply is parsed into
``record[transform.parser.field]``.

Where it sits (``transform.after``):

* ``judge``: reads the judged samples and *stands in for them*: the stages that consume samples
  (select, score, dynamics) read the transform's records instead of the judge artifact (``wraps``
  → ``reasonkit.pipeline.runner``; the report still reads the judge's counts), so
  ``transform=difficulty`` or ``transform=rewrite`` slots into any chain without touching the
  stages after it.
* ``dataset``: reads the train split's problems before anything is generated and writes the kept
  ones back as ``problems.jsonl`` (a ``dataset=jsonl`` file), so an expensive teacher only sees
  problems inside the difficulty bounds.

Resumable like generate: records are appended in fsync'd batches to per-part ``.partial`` files
(parts as in ``reasonkit.generation.sharding.Layout``); after a kill, only records not yet on
disk are asked again, with seeds derived from their ids (the resumed output equals an
uninterrupted run's). A reply that does not parse is recorded (value None, raw reply in
``meta.transform``) and counted; records outside ``transform.bounds`` go to ``dropped-*.jsonl``.
"""
from __future__ import annotations

import time
from collections import Counter
from typing import Any, Iterable, Iterator

from reasonkit import prompts
from reasonkit.pipeline.artifacts import ShardWriter
from reasonkit.pipeline.stage import Stage, StageContext, register
from reasonkit.records import InputError
from reasonkit.transform import parsers
from reasonkit.transform.config import check

# Layout of a transform record and the request assembly below; bump on any change.
TRANSFORM_VERSION = "1"
# How the work is batched, not what comes back (per-request seeds come from record ids).
NOT_HASHED = ("batch_size",)
# Stages that read the judged samples themselves: after judge, they read the transformed ones.
SAMPLE_READERS = ("select", "score", "dynamics")


def active(cfg) -> bool:
    t = cfg.get("transform")
    return t is not None and t.name != "none"


def groups_of(records: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Consecutive records of one problem (the judge stage writes a problem's samples together)."""
    from reasonkit.judging.base import iter_groups

    return iter_groups(records, check_consecutive=False)


def in_bounds(value: Any, bounds) -> bool:
    if bounds.min is None and bounds.max is None:
        return True
    return (bounds.min is None or value >= bounds.min) and (bounds.max is None or value <= bounds.max)


@register
class TransformStage(Stage):
    name = "transform"
    version = 1
    resumable = True

    def wraps(self, cfg, reader: str) -> str | None:
        """The judged samples this stage replaces for the stages that consume samples (the
        report keeps reading the judge's own counts)."""
        if reader in SAMPLE_READERS and active(cfg) and cfg.transform.after == "judge":
            return "judge"
        return None

    def needs(self, cfg):
        return ("judge",) if active(cfg) and cfg.transform.after == "judge" else ()

    def keys(self, cfg):
        from reasonkit.generation.samples import sampler_identity
        from reasonkit.models import load as models

        t = cfg.transform
        if not active(cfg):
            return {"transform": t}
        keys = {"transform": {k: t[k] for k in t if k not in NOT_HASHED}, "prompt": prompts.identity(t.prompt), "model": cfg.teacher,
                "weights": models.fingerprint(cfg.teacher), "sampler": sampler_identity(cfg.sampler)}
        if t.after == "dataset":
            from reasonkit.data import load as data

            keys.update(dataset=cfg.dataset, split=cfg.dataset.train_split,
                        data=data.check(cfg.dataset, cfg.dataset.train_split))
        return keys

    def code(self, cfg):
        from reasonkit.think import THINK_VERSION

        if not active(cfg):
            return {"transform": TRANSFORM_VERSION}
        return {"transform": TRANSFORM_VERSION, "parser": parsers.get(cfg.transform.parser.name).tag,
                "think": THINK_VERSION}

    def label(self, cfg):
        t = cfg.transform
        return f"{t.name}-{cfg.teacher.name}" if active(cfg) else "none"

    def validate(self, cfg) -> None:
        t = cfg.transform
        if not active(cfg):
            raise InputError("stage=transform with transform=none: choose an option, e.g. transform=difficulty "
                             "(conf/transform/)")
        check(t)
        parser = parsers.get(t.parser.name)
        prompts.load_prompt(t.prompt)
        if parser.name == "json" and not t.parser.key:
            raise InputError("transform.parser.key: the json parser needs the key to read")
        if (t.bounds.min is not None or t.bounds.max is not None) and parser.name == "text":
            raise InputError("transform.bounds: the text parser yields text, not a number; bounds need "
                             "parser.name=int_range or json with type int/float")

    def run(self, ctx: StageContext) -> dict[str, Any]:
        from reasonkit.generation.sharding import Layout

        cfg = ctx.cfg
        t = cfg.transform
        if t.after == "judge":
            source = ctx.inputs["judge"]
            n_groups = sum(1 for _ in groups_of(source.records()))
            groups: Iterator[list[dict[str, Any]]] = groups_of(source.records())
        else:
            from reasonkit.data import load as data

            problems = list(data.problems(cfg.dataset, cfg.dataset.train_split))
            n_groups = len(problems)
            groups = ([p] for p in problems)
        layout = Layout.for_problems(n_groups).record(ctx.out.path)
        t0 = time.time()
        runner = _Runner(ctx, layout)
        try:
            runner.run(groups)
        finally:
            runner.close()
        if t.after == "dataset":  # the kept problems as one dataset=jsonl file
            with open(ctx.out.path / "problems.jsonl", "w", encoding="utf-8") as fh:
                for p in range(layout.parts):
                    fh.write(layout.part_path(ctx.out.path, p).read_text(encoding="utf-8"))
        ctx.metrics["engine"] = runner.info
        return {**runner.totals(), "requests_now": runner.requests, "seconds": round(time.time() - t0, 2)}


class _Runner:
    """Groups → requests → parsed records, part by part (each part its own resumable files)."""

    def __init__(self, ctx: StageContext, layout) -> None:
        self.ctx, self.cfg, self.t, self.layout = ctx, ctx.cfg, ctx.cfg.transform, layout
        self.parser = parsers.get(self.t.parser.name)
        self.raw_prompt = prompts.load_prompt(self.t.prompt).raw
        self.engine = self.tok = None
        self.info: dict[str, Any] = {}
        self.requests = 0
        self.writers: tuple[ShardWriter, ShardWriter] | None = None

    # -- engine ---------------------------------------------------------------------------
    def _engine(self):
        if self.engine is None:
            from reasonkit.engines import build_engine
            from reasonkit.models import load as models

            c = self.cfg
            path = models.resolve(c.teacher, c.paths.models)
            self.tok = models.tokenizer(path, c.teacher.revision, c.teacher.chat_template)
            self.engine = build_engine(c.sampler, path, self.info, revision=c.teacher.revision, model=c.teacher)
        return self.engine

    def _render(self, text: str) -> str:
        from reasonkit.models import load as models

        if self.raw_prompt or not self.cfg.sampler.chat:
            return text
        return models.render(self.tok, text, self.cfg.teacher.system_prompt)

    def close(self) -> None:
        # An unfinished part stays ``.partial`` (closing a ShardWriter would mark it complete); its
        # batches are already fsync'd, and the next run resumes from them.
        self.writers = None
        if self.engine is not None:
            self.engine.close()

    # -- parts ----------------------------------------------------------------------------
    def run(self, groups: Iterator[list[dict[str, Any]]]) -> None:
        part, hi, n = -1, 0, 0
        batch: list[list[dict[str, Any]]] = []
        done: set[str] = set()
        for gi, group in enumerate(groups):
            if gi >= hi:  # next part: flush what the previous one holds, open the new one's files
                self._flush(batch)
                batch, n = [], 0
                if self.writers:
                    for w in self.writers:
                        w.close()
                part += 1
                hi = self.layout.bounds(part)[1]
                self.writers = (ShardWriter(self.layout.part_path(self.ctx.out.path, part)),
                                ShardWriter(self.ctx.out.path / f"dropped-{part:05d}.jsonl"))
                done = self.writers[0].done_ids | self.writers[1].done_ids
            if all(r["id"] in done for r in group):
                continue
            batch.append(group)
            n += 1 if self.t.level == "problem" else len(group)
            if n >= int(self.t.batch_size):
                self._flush(batch)
                batch, n = [], 0
        self._flush(batch)
        if self.writers:
            for w in self.writers:
                w.close()
            self.writers = None
        for p in range(self.layout.parts):  # parts without any input (an empty judge artifact)
            if not self.layout.part_path(self.ctx.out.path, p).exists():
                for path in (self.layout.part_path(self.ctx.out.path, p), self.ctx.out.path / f"dropped-{p:05d}.jsonl"):
                    ShardWriter(path).close()

    def _requests(self, batch: list[list[dict[str, Any]]]):
        from reasonkit.engines import GenRequest, sample_seed

        t = self.t
        reqs, owners = [], []
        for g in batch:
            units = [g] if t.level == "problem" else [[r] for r in g]
            for unit in units:
                first = unit[0]
                key = (first.get("problem_id") or first["id"]) if t.level == "problem" else first["id"]
                rid = f"{key}#{t.name}"
                variables = {"problem": first.get("prompt", ""), "answer": first.get("answer"), "record": first}
                if t.level == "sample":
                    variables["response"] = first.get("response", "")
                text = prompts.render(t.prompt, **variables)
                reqs.append(GenRequest(prompt=self._render(text), ids=[rid], seeds=[sample_seed(int(t.seed), rid)]))
                owners.append(unit)
        return reqs, owners

    def _flush(self, batch: list[list[dict[str, Any]]]) -> None:
        if not batch:
            return
        engine = self._engine()
        reqs, owners = self._requests(batch)
        outs = engine.generate(reqs, dict(self.t.sampling))
        self.requests += len(reqs)
        if len(outs) != len(reqs):
            raise RuntimeError(f"engine {getattr(engine, 'name', '?')} returned {len(outs)} completion lists "
                               f"for {len(reqs)} requests")
        keep, drop = [], []
        for unit, comps in zip(owners, outs):
            reply = comps[0].text if comps else ""
            try:
                value, error = self.parser(reply, self.t.parser), None
            except parsers.ParseError as e:
                value, error = None, str(e)
            for rec in unit:
                out = self._apply(dict(rec), value, error, reply)
                ok = in_bounds(value, self.t.bounds) if value is not None else self.t.bounds.unparsed == "keep"
                (keep if ok else drop).append(out)
        kw, dw = self.writers
        kw.write_batch(keep)
        dw.write_batch(drop)

    def _apply(self, rec: dict[str, Any], value: Any, error: str | None, reply: str) -> dict[str, Any]:
        t = self.t
        meta = dict(rec.get("meta") or {})
        meta["transform"] = {"name": t.name, "parser": self.parser.tag, "reply": reply[: int(t.reply_chars)],
                             "error": error}
        if t.apply == "response" and value is not None:
            meta["original_response"] = rec.get("response")
            rec["response"] = value
        rec["meta"] = meta
        rec[t.parser.field] = value
        return rec

    def totals(self) -> dict[str, Any]:
        """Counts over everything on disk (this run's records and resumed ones alike)."""
        from reasonkit.records import read_jsonl

        out = self.ctx.out.path
        c: Counter[str] = Counter()
        values: Counter[str] = Counter()
        field = self.t.parser.field
        for kind in ("part", "dropped"):
            for p in sorted(out.glob(f"{kind}-*.jsonl")):
                for r in read_jsonl(p):
                    c[f"records_{'kept' if kind == 'part' else 'dropped'}"] += 1
                    parsed = r.get(field) is not None
                    c["parsed" if parsed else "parse_errors"] += 1
                    if parsed and isinstance(r[field], (int, float)) and not isinstance(r[field], bool):
                        values[str(r[field])] += 1
        res: dict[str, Any] = {"records": c["records_kept"] + c["records_dropped"], "kept": c["records_kept"],
                               "dropped": c["records_dropped"], "parsed": c["parsed"],
                               "parse_errors": c["parse_errors"]}
        if values:
            res["values"] = dict(sorted(values.items(), key=lambda kv: float(kv[0])))
        return res
