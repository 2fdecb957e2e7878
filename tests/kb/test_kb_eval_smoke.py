"""eval/kb/run.py runs end to end on the small fixture KB and prints the documented lines
(the real figures come from running it on the demo KB, see docs/decisions/0009)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def test_eval_prints_mrr_and_recall_per_language(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "kb" / "run.py"), "--content", str(HERE / "content"), "--queries", str(HERE / "eval_queries.jsonl")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert {(r["metric"], r["lang"]) for r in lines} == {(m, lang) for m in ("mrr_at_10", "recall_at_5") for lang in ("en", "zh-Hans")}
    for r in lines:
        assert r["bench"] == "kb_eval" and 0.0 <= r["value"] <= 1.0 and r["queries"] == 4
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"q": "x", "lang": "fr", "relevant": ["a"]}\n')
    out = subprocess.run([sys.executable, str(ROOT / "eval" / "kb" / "run.py"), "--content", str(HERE / "content"), "--queries", str(bad)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode != 0 and "lang" in out.stderr
