#!/usr/bin/env python
"""Search quality on the demo knowledge base: MRR@10 and recall@5 per language.

Loads the content folder into a fresh temporary database (SQLite by default, or a throw-away
PostgreSQL database with ``--db postgres``), runs every query of ``queries.jsonl`` through the
same search the API uses (filtered to the query's language), and prints one JSON line per
metric and language::

    {"bench": "kb_eval", "metric": "recall_at_5", "value": 0.93, "unit": "ratio", "lang": "en", ...}

Query lines: ``{"q": "...", "lang": "en"|"zh-Hans", "relevant": ["article-slug", ...]}``.
Target: recall@5 >= 0.9 in both languages. ``--misses`` lists the queries that missed (stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common as c  # noqa: E402

BENCH = "kb_eval"


def read_queries(path: Path) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        q = json.loads(line)
        if not isinstance(q.get("q"), str) or q.get("lang") not in ("en", "zh-Hans") or not q.get("relevant"):
            raise SystemExit(f"{path}:{n}: need q, lang (en|zh-Hans) and a non-empty relevant list")
        out.append(q)
    return out


def evaluate(queries: list[dict[str, Any]], reader: str, misses: bool) -> dict[str, dict[str, float]]:
    from relaydesk.core.models import User
    from relaydesk.kb import search
    from relaydesk.kb.models import INTERNAL, Article

    staff = User(kind=User.KIND_STAFF, email="eval@relaydesk.invalid", is_active=True)
    customer = User(kind=User.KIND_CUSTOMER, email="eval@customer.invalid", is_active=True)
    internal = set(Article.objects.filter(visibility=INTERNAL).values_list("slug", flat=True))
    per: dict[str, dict[str, list[float]]] = {}
    for q in queries:
        if reader == "auto":  # agents look for runbooks, customers for everything else
            user: Any = staff if internal & set(q["relevant"]) else customer
        else:
            user = {"staff": staff, "customer": customer, "anonymous": None}[reader]
        res = search.search(q["q"], user=user, lang=q["lang"], limit=10, snippets=False)
        ranked = [h.slug for h in res.hits]
        relevant = set(q["relevant"])
        rr = next((1.0 / (i + 1) for i, s in enumerate(ranked[:10]) if s in relevant), 0.0)
        recall = len(relevant & set(ranked[:5])) / len(relevant)
        m = per.setdefault(q["lang"], {"mrr": [], "recall": []})
        m["mrr"].append(rr)
        m["recall"].append(recall)
        if misses and recall < 1.0:
            c.log(f"miss [{q['lang']}] {q['q']!r}: want {sorted(relevant)} got {ranked[:5]} terms={res.terms}")
    return {
        lang: {"mrr": sum(v["mrr"]) / len(v["mrr"]), "recall": sum(v["recall"]) / len(v["recall"]), "n": len(v["mrr"])}
        for lang, v in sorted(per.items())
    }


def run(args: argparse.Namespace, database_url: str | None, data_dir: Path) -> None:
    c.setup_django(data_dir, database_url)
    c.migrate()
    from relaydesk.kb import loader

    t0 = time.perf_counter()
    report = loader.load(Path(args.content))
    load_s = time.perf_counter() - t0
    for err in report.errors:
        c.log(f"content problem: {err}")
    c.log(f"loaded {report.articles} articles in {load_s:.1f} s")
    queries = read_queries(Path(args.queries))
    if args.quick:
        queries = queries[:40] + [q for q in queries if q["lang"] == "zh-Hans"][:40]
    db = c.db_vendor()
    for lang, m in evaluate(queries, args.reader, args.misses).items():
        params = {"lang": lang, "queries": int(m["n"]), "articles": report.articles, "db": db, "reader": args.reader}
        c.emit(BENCH, "mrr_at_10", m["mrr"], "ratio", **params)
        c.emit(BENCH, "recall_at_5", m["recall"], "ratio", **params)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--content", default=str(ROOT / "relaydesk" / "kb" / "content"))
    p.add_argument("--queries", default=str(Path(__file__).resolve().parent / "queries.jsonl"))
    p.add_argument("--reader", choices=["auto", "anonymous", "customer", "staff"], default="auto",
                   help="whose visibility the search runs with (auto: staff for queries about internal "
                   "articles, a signed-in customer otherwise)")
    p.add_argument("--misses", action="store_true", help="list the queries that missed, on stderr")
    p.add_argument("--quick", action="store_true", help="at most 40 queries per language")
    args = p.parse_args(argv)
    if not Path(args.queries).exists():
        raise SystemExit(f"{args.queries}: no query file")
    with c.temp_data_dir("relaydesk-kb-eval-") as d:
        if args.db == "postgres":
            with c.fresh_pg_database("kb_eval") as url:
                run(args, url, d)
        else:
            run(args, None, d)


if __name__ == "__main__":
    main()
