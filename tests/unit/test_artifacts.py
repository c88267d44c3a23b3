import json
import threading
import time

from reasonkit.pipeline.artifacts import ArtifactStore, MissingArtifact, ShardWriter, write_sharded

import pytest


def test_shard_writer_repairs_torn_line_and_resumes(tmp_path):
    w = ShardWriter(tmp_path / "part-00000.jsonl")
    w.write_batch([{"id": "a_0"}, {"id": "a_1"}])
    w._fh.write('{"id": "a_2", "resp')  # simulated kill mid-write
    w._fh.flush()
    w2 = ShardWriter(tmp_path / "part-00000.jsonl")
    assert w2.done_ids == {"a_0", "a_1"}
    assert w2.write_batch([{"id": "a_1"}, {"id": "a_2"}]) == 1  # a_1 not duplicated
    w2.close()
    lines = (tmp_path / "part-00000.jsonl").read_text().splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["a_0", "a_1", "a_2"]
    assert not (tmp_path / "part-00000.jsonl.partial").exists()
    assert ShardWriter(tmp_path / "part-00000.jsonl").finished


def test_write_sharded_splits_and_renames(tmp_path):
    n = write_sharded(tmp_path, ({"id": str(i)} for i in range(5)), shard_size=2)
    assert n == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part-00000.jsonl", "part-00001.jsonl", "part-00002.jsonl"]


def test_lock_computes_once(tmp_path):
    store = ArtifactStore(tmp_path)
    art = store.artifact("generate", "x", "abc")
    order = []

    def worker(i):
        with store.lock(art):
            if art.complete:
                order.append(f"reuse{i}")
                return
            order.append(f"compute{i}")
            store.begin(art, resumable=False)
            time.sleep(0.3)
            store.finish(art, {}, "{}\n")

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert sum(o.startswith("compute") for o in order) == 1 and len(order) == 3


def test_incomplete_artifact_is_refused_with_path(tmp_path):
    art = ArtifactStore(tmp_path).artifact("judge", "math", "123")
    art.path.mkdir(parents=True)
    with pytest.raises(MissingArtifact, match=str(art.path)):
        art.require()


def test_abandon_removes_non_resumable(tmp_path):
    store = ArtifactStore(tmp_path)
    art = store.artifact("select", "x", "1")
    store.begin(art, resumable=False)
    (art.path / "part-00000.jsonl.tmp").write_text("half")
    store.abandon(art, resumable=False)
    assert not art.path.exists()
