"""Helpers for the eval tests: a real offline Hugging Face datasets cache, seeded from rows.

``datasets.load_dataset(<hub id>)`` with ``HF_HUB_OFFLINE=1`` serves the prepared Arrow copy that
an earlier online load left in ``HF_DATASETS_CACHE`` (``<owner>___<name>/<config>/<version>/<commit>``).
``seed_hub_cache`` writes exactly that copy with the packaged JSON builder, so the loader's hub
path runs unchanged against it (datasets 5.x).
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "benchmarks"
REVISION = "0123456789abcdef0123456789abcdef01234567"


def fixture_rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (FIXTURES / name).read_text().splitlines() if x.strip()]


def seed_hub_cache(cache_dir: Path, repo_id: str, rows: list[dict[str, Any]], split: str,
                   revision: str = REVISION, config: str | None = None) -> Path:
    from datasets.naming import camelcase_to_snakecase
    from datasets.packaged_modules.json.json import Json

    owner, name = repo_id.split("/")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"{split}.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r in rows))
        b = Json(cache_dir=str(Path(tmp) / "build"), dataset_name=name, data_files={split: str(src)},
                 hash=revision, config_name=config or "default", config_id=config or "default")
        b.download_and_prepare()
        dst = Path(cache_dir) / f"{owner}___{camelcase_to_snakecase(name)}" / (config or "default") / "0.0.0" / revision
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(b.cache_dir, dst)
    return dst
