"""Full-text search over articles with the database's own engine.

Query → terms (``relaydesk.kb.text``: jieba for Chinese, stemming for English) → an OR query
ranked by relevance with title and tag boost:

- SQLite: FTS5 ``MATCH`` over the external-content table ``kb_search``, ranked by
  ``bm25(kb_search, 10, 5, 1)`` (title, tags, body).
- PostgreSQL: ``search_vector @@ to_tsquery('simple', …)`` on the GIN index, ranked by
  ``ts_rank`` with the A/B/D weights set in the generated column.

Who may read what (language, reader level, category) is part of the match itself, as scope
tokens indexed with each translation (``services.scope_tokens``), so it is never filtered
after the limit and costs one posting-list intersection. An unknown English term is
replaced by the closest indexed term (edit distance ≤ 1–2), so "stuter" still finds
"stutter". Snippets are built in Python from the plain text and are HTML-escaped.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from . import text
from .models import VISIBILITIES, Category
from .services import is_staff, visibilities_for

VISIBILITY_NAMES = frozenset(v for v, _ in VISIBILITIES)
MAX_QUERY_CHARS = 500
MAX_LIMIT = 50
VOCAB_TTL_S = 300.0  # writes in this process forget it at once (services)

_vocab_lock = threading.Lock()
_vocab: dict[str, Any] = {"at": 0.0, "vocab": None, "alias": None}

# Ranking costs per matching row on both databases (bm25 / ts_rank read each row), so a query
# of common words would rank thousands of rows. When the terms' document counts add up to more
# than PRUNE_ABOVE, the query is answered in two bounded steps instead: rows containing every
# term, then rows containing the most selective terms (at most PRUNE_ABOVE rows in total by
# their counts). A knowledge base of a few hundred articles never reaches it.
PRUNE_ABOVE = 1500
# In a large KB a term found in most translations (say "sdk") tells them apart no better
# than a stop word, but costs a long posting list: it is left out of the match (the other
# terms decide) once the KB has COMMON_MIN_DOCS translations.
COMMON_SHARE = 0.4
COMMON_MIN_DOCS = 2000
PG_RANK_CAP = 500  # PostgreSQL: rows handed to ts_rank per step, whatever the estimate


@dataclass
class Vocabulary:
    """Indexed terms with the number of translations containing each."""

    df: dict[str, int]
    sorted_terms: list[str]
    cumulative: list[int]
    documents: int = 0

    def prefix_df(self, prefix: str) -> int:
        """Upper bound of the rows a prefix matches (sum over the terms it expands to)."""
        lo = bisect.bisect_left(self.sorted_terms, prefix)
        hi = bisect.bisect_left(self.sorted_terms, prefix + "\U0010ffff")
        return self.cumulative[hi] - self.cumulative[lo]


def forget_vocabulary() -> None:
    with _vocab_lock:
        _vocab["vocab"] = None


# Scope tokens (xa, xcen, xlzhhans, xcat12, xvpublic, …) are not words of the text.
_SCOPE_WORD = re.compile(r"x(?:a|c|l)(?:en|zhhans)?|xcat\d+|xv(?:public|customers|internal)")


def _load_vocabulary() -> Vocabulary:
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT term, max(doc) FROM kb_search_vocab WHERE col != 'search_scope' GROUP BY term")
        else:
            cur.execute("SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM kb_translation')")
        df = {r[0]: int(r[1]) for r in cur.fetchall() if not _SCOPE_WORD.fullmatch(r[0])}
        cur.execute("SELECT count(*) FROM kb_translation")
        row = cur.fetchone()
    terms = sorted(df)
    cumulative = [0]
    for t in terms:
        cumulative.append(cumulative[-1] + df[t])
    return Vocabulary(df, terms, cumulative, int(row[0]) if row else 0)


def _refresh(key: str) -> None:
    try:
        vocab = _load_vocabulary()
        with _vocab_lock:
            _vocab.update(at=time.monotonic(), vocab=vocab, alias=key)
    finally:
        with _vocab_lock:
            _vocab["refreshing"] = False
        connection.close()  # this thread's own connection


def vocabulary() -> Vocabulary:
    """The vocabulary with document counts (it corrects typos and estimates costs). Loaded
    once per process; after ``VOCAB_TTL_S`` it is refreshed in a background thread while
    the old one keeps answering (on PostgreSQL ``ts_stat`` reads every row: ~1 s at 40k)."""
    key = connection.alias + str(connection.settings_dict["NAME"])
    with _vocab_lock:
        cached = _vocab["vocab"]
        if cached is not None and _vocab["alias"] == key:
            if time.monotonic() - _vocab["at"] > VOCAB_TTL_S and not _vocab.get("refreshing"):
                _vocab["refreshing"] = True
                threading.Thread(target=_refresh, args=(key,), daemon=True, name="kb-vocabulary").start()
            return cached  # type: ignore[no-any-return]
    vocab = _load_vocabulary()
    with _vocab_lock:
        _vocab.update(at=time.monotonic(), vocab=vocab, alias=key)
    return vocab


@dataclass
class Hit:
    article_id: int
    translation_id: int
    slug: str
    lang: str
    title: str
    category: str
    visibility: str
    status: str
    score: float
    snippet: str = ""
    title_html: str = ""


@dataclass
class Result:
    query: str
    terms: list[str]
    hits: list[Hit] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)


def _fts_expr(terms: list[str], prefix: str | None, vendor: str, op: str = "OR") -> str:
    """The engine's query for ``terms`` (already normalised: word characters only, so quoting
    is safe); ``prefix`` (one of the terms) is matched as a prefix."""
    parts = []
    for t in terms:
        if vendor == "sqlite":
            parts.append(f'"{t}"*' if t == prefix else f'"{t}"')
        else:
            parts.append(f"'{t}':*" if t == prefix else f"'{t}'")
    if vendor == "sqlite":
        return f" {op} ".join(parts)
    return (" | " if op == "OR" else " & ").join(parts)


def _ranked(
    match: str, rank: str, limit: int, exclude: list[int], idf: list[tuple[str, float]] | None = None
) -> list[tuple[int, float]]:
    """Rows matching ``match`` (terms and scope tokens), best first by the engine's rank
    (SQLite: bm25 of the match; PostgreSQL: ts_rank of ``rank``, the terms only), at most
    ``limit``; scores are "higher is better" on both."""
    not_in = f" AND {{id}} NOT IN ({', '.join(['%s'] * len(exclude))})" if exclude else ""
    args: list[Any]
    if connection.vendor == "sqlite":
        sql = (
            "SELECT rowid, bm25(kb_search, 10.0, 5.0, 1.0, 0.0) AS score FROM kb_search "  # noqa: S608 - constant clauses; values are parameters
            f"WHERE kb_search MATCH %s{not_in.format(id='rowid')} ORDER BY score, rowid LIMIT %s"
        )
        args = [match, *exclude, limit]
        sign = -1.0  # bm25: lower is better
    elif connection.vendor == "postgresql":
        if idf:
            # ts_rank has no IDF: weigh each term's own rank by its IDF (only for small
            # candidate sets; see _ids), so a rare word counts for more than a common one.
            score = " + ".join(["%s * ts_rank(c.search_vector, to_tsquery('simple', %s), 1)"] * len(idf))
            rank_args: list[Any] = [x for term, w in idf for x in (w, term)]
        else:
            score = "ts_rank(c.search_vector, to_tsquery('simple', %s), 1)"
            rank_args = [rank]
        sql = (
            f"SELECT c.id, {score} AS score FROM ("  # noqa: S608 - constant clauses; values are parameters
            "SELECT t.id, t.search_vector FROM kb_translation t "
            f"WHERE t.search_vector @@ to_tsquery('simple', %s){not_in.format(id='t.id')} LIMIT %s) c "
            "ORDER BY score DESC, c.id LIMIT %s"
        )
        args = [*rank_args, match, *exclude, PG_RANK_CAP, limit]
        sign = 1.0
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"knowledge-base search does not support {connection.vendor}")
    with connection.cursor() as cur:
        cur.execute(sql, args)
        return [(int(r[0]), sign * float(r[1])) for r in cur.fetchall()]


def _scope(user: Any, lang: str | None, category_id: int | None, visibility: str | None = None) -> list[str]:
    """The scope tokens (written by ``services.scope_tokens``) a row must carry for this
    reader and these filters: one for the reader's level and language, one for a category,
    one for a visibility (which only narrows: the level token still applies)."""
    code = lang.replace("-", "").lower() if lang else ""
    if is_staff(user):
        level = f"xl{code}" if code else ""
    elif set(visibilities_for(user)) == set(visibilities_for(None)):
        level = f"xa{code}"
    else:
        level = f"xc{code}"
    tokens = [level] if level else []
    if category_id is not None:
        tokens.append(f"xcat{int(category_id)}")
    if visibility is not None:
        if visibility not in VISIBILITY_NAMES:  # never interpolate anything else into the match
            raise ValueError(f"unknown visibility {visibility!r}")
        tokens.append(f"xv{visibility}")
    return tokens


def _ids(
    terms: list[str],
    vocab: Vocabulary,
    *,
    user: Any,
    lang: str | None,
    category_id: int | None,
    limit: int,
    prefix: str | None,
    visibility: str | None = None,
) -> list[tuple[int, float]]:
    vendor = connection.vendor
    scope = _scope(user, lang, category_id, visibility)
    full = _fts_expr(terms, prefix, vendor)

    def q(expr: str) -> str:
        # Filters are index tokens in the match: the engine intersects posting lists instead
        # of checking each matching row against the article table.
        if vendor == "sqlite":
            cols = f"{{search_title search_tags search_body}}: ({expr})"
            return " AND ".join([cols, *(f"search_scope: {t}" for t in scope)])
        return " & ".join([f"({expr})", *(f"'{t}'" for t in scope)])

    def cost(t: str) -> int:
        return vocab.prefix_df(t) if t == prefix else vocab.df.get(t, 0)

    if sum(cost(t) for t in terms) <= PRUNE_ABOVE:
        n = max(vocab.documents, 1)
        idf = [
            (_fts_expr([t], prefix, vendor), math.log(1 + (n - cost(t) + 0.5) / (cost(t) + 0.5)))
            for t in terms
        ]
        return _ranked(q(full), full, limit, [], idf if vendor == "postgresql" else None)
    if vocab.documents >= COMMON_MIN_DOCS:
        selective = [t for t in terms if cost(t) <= COMMON_SHARE * vocab.documents]
        terms = selective or [min(terms, key=cost)]
    found: list[tuple[int, float]] = []
    if len(terms) > 1:
        found = _ranked(q(_fts_expr(terms, prefix, vendor, "AND")), full, limit, [])
    if len(found) < limit:
        chosen: list[str] = []
        total = 0
        for t in sorted(terms, key=lambda t: (cost(t), t)):
            if chosen and total + cost(t) > PRUNE_ABOVE:
                break
            chosen.append(t)
            total += cost(t)
        picked = [t for t in terms if t in chosen]
        found += _ranked(q(_fts_expr(picked, prefix, vendor)), full, limit - len(found), [i for i, _ in found])
    return found


def search(
    q: str,
    *,
    user: Any = None,
    lang: str | None = None,
    category: str | None = None,
    visibility: str | None = None,
    limit: int = 10,
    prefix_last: bool = False,
    snippets: bool = True,
) -> Result:
    """Articles matching ``q`` that ``user`` may read (``None`` = anonymous), best first,
    one hit per article (its best-matching language when ``lang`` is not given).

    ``visibility`` narrows to one visibility within what the reader may see; one the reader
    may not see at all answers nothing (the API refuses it before it gets here)."""
    q = q.strip()
    terms = text.query_terms(q)
    result = Result(query=q, terms=terms)
    if not terms:
        return result
    if visibility is not None and visibility not in visibilities_for(user):
        return result
    category_id: int | None = None
    if category:
        cat = Category.objects.filter(slug=category).only("pk").first()
        if cat is None:
            return result
        category_id = cat.pk
    vocab = vocabulary()
    fixed: list[str] = []
    for i, t in enumerate(terms):
        if t in vocab.df or (prefix_last and i == len(terms) - 1):
            fixed.append(t)
            continue
        alt = text.correct(t, vocab.sorted_terms)
        if alt is not None and alt != t:
            result.corrections[t] = alt
            fixed.append(alt)
        else:
            fixed.append(t)
    fixed = list(dict.fromkeys(fixed))
    limit = max(1, min(limit, MAX_LIMIT))
    prefix = fixed[-1] if prefix_last else None
    if prefix is not None and prefix.isascii() and len(prefix) < 2:
        prefix = None  # one typed letter would expand to thousands of words
    ranked = _ids(
        fixed,
        vocab,
        user=user,
        lang=lang,
        category_id=category_id,
        limit=limit * (1 if lang else 2),
        prefix=prefix,
        visibility=visibility,
    )
    if not ranked:
        result.corrections = {}  # nothing the reader may see uses them (see below)
        return result
    ids = [i for i, _ in ranked]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT t.id, t.lang, t.title, t.text, t.search_title, t.search_tags, t.search_body, "  # noqa: S608 - placeholders only
            "a.id, a.slug, a.visibility, a.status, c.slug FROM kb_translation t "
            "JOIN kb_article a ON a.id = t.article_id JOIN kb_category c ON c.id = a.category_id "
            f"WHERE t.id IN ({', '.join(['%s'] * len(ids))})",
            ids,
        )
        rows = {int(r[0]): r for r in cur.fetchall()}
    seen: set[int] = set()
    used: set[str] = set()
    wanted = set(fixed)
    marker = text.Highlighter(wanted) if snippets else None
    for tid, score in ranked:
        r = rows.get(tid)
        if r is None or r[7] in seen:
            continue
        seen.add(r[7])
        hit = Hit(
            article_id=r[7],
            translation_id=tid,
            slug=r[8],
            lang=r[1],
            title=r[2],
            category=r[11],
            visibility=r[9],
            status=r[10],
            score=round(score, 6),
        )
        if marker is not None:
            hit.snippet = marker.snippet(r[3])
            hit.title_html = marker.mark(r[2])
        result.hits.append(hit)
        indexed = f" {r[4]} {r[5]} {r[6]} "
        used |= {t for t in result.corrections.values() if f" {t} " in indexed}
        if len(result.hits) >= limit:
            break
    # Only report corrections the reader's own results contain: the vocabulary spans every
    # article, and a correction towards a word only internal articles use would hint at them.
    result.corrections = {k: v for k, v in result.corrections.items() if v in used}
    return result
