"""Search text pipeline (pure, no Django): Chinese segmentation with jieba, English
lower-casing and a small suffix stemmer, stop words, and highlighted snippets.

The same pipeline runs at index time and at query time, so the database only ever sees
space-separated, already normalised terms. That is what lets one design serve both SQLite
FTS5 (``unicode61`` tokenizer over the terms) and PostgreSQL (``to_tsvector('simple', …)``).
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

# CJK ideographs (incl. extension A and compatibility ideographs) form one run; everything
# else is split into ASCII-ish words.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"([{_CJK}]+)|([0-9A-Za-z\u00c0-\u024f]+(?:[.'][0-9A-Za-z]+)*)")
_CJK_ONLY = re.compile(rf"^[{_CJK}]+$")

# Words that carry no meaning for retrieval (both sides of the search drop them).
EN_STOP = frozenset(
    """a an the is are was were be been to of in on at for and or but not no my our your
    i we you it its this that these those with without when why how what which who do does
    did can could should would will from by as if so than then there here have has had
    me us them they he she his her am any some all just very also too into out up get got
    please help""".split()
)
ZH_STOP = frozenset(
    """的 了 吗 呢 啊 吧 呀 是 在 我 我们 你 你们 他 她 它 他们 怎么 怎么办 怎样 为什么 什么
    如何 一直 很 有 和 与 及 或 就 都 也 又 请问 一下 这个 那个 这 那 会 能 可以 要 把 被 让 给
    还 但 但是 然后 如果 所以 因为 时 时候 后 上 下 中 里 个 一 不 没 没有 应该 需要 哪 哪些""".split()
)

# Field words jieba's general dictionary splits badly; added once at start-up.
FIELD_WORDS = (
    "卡顿",
    "首帧",
    "首帧慢",
    "断流",
    "音画不同步",
    "回声",
    "回音",
    "啸叫",
    "推流",
    "拉流",
    "弱网",
    "丢包",
    "抖动",
    "延迟",
    "码率",
    "帧率",
    "分辨率",
    "加入频道",
    "进房",
    "进房失败",
    "频道",
    "房间",
    "掉线",
    "重连",
    "黑屏",
    "花屏",
    "马赛克",
    "降噪",
    "回声消除",
    "混音",
    "连麦",
    "秀场",
    "出海",
    "东南亚",
    "中东",
    "拉美",
    "运营商",
    "本地化",
    "支付",
    "高峰",
    "直播",
    "录制",
    "云端录制",
    "信令",
    "日志",
    "崩溃",
    "集成",
    "混淆",
    "权限",
    "麦克风",
    "摄像头",
    "耳机",
    "蓝牙",
    "鉴权",
    "令牌",
    "过期",
    "防火墙",
    "代理",
    "节点",
    "区域",
    "带宽",
    "转码",
    "旁路推流",
)

_log_lock = threading.Lock()
_tokenizer: Any = None


def _jieba() -> Any:
    """The shared jieba tokenizer, initialised once and quietly (its dictionary load logs)."""
    global _tokenizer
    if _tokenizer is None:
        with _log_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                for word in FIELD_WORDS:
                    tk.add_word(word, freq=200_000)
                _tokenizer = tk
    return _tokenizer


def warm_up() -> None:
    """Load the segmenter now (e.g. at start-up) instead of on the first query."""
    _jieba()


# -- English ------------------------------------------------------------------------

_SUFFIXES = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("fulness", "ful"),
    ("iveness", "ive"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("ness", ""),
    ("ments", ""),
    ("ment", ""),
    ("ingly", ""),
    ("edly", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("ers", "er"),
    ("ed", ""),
    ("ly", ""),
    ("es", ""),
    ("s", ""),
)
_VOWEL = re.compile("[aeiouy]")


def stem(word: str) -> str:
    """A small suffix stemmer: enough to make stutter/stutters/stuttering/stuttered and
    freeze/freezes/freezing meet. Applied identically to documents and queries, so it only
    has to be consistent, not linguistically perfect."""
    w = word.lower()
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith(("ss", "us", "is")):
        return w
    for suffix, repl in _SUFFIXES:
        if w.endswith(suffix):
            base = w[: -len(suffix)] + repl
            if len(base) >= 3 and _VOWEL.search(base):
                w = base
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz" and w[-1].isalpha():
        w = w[:-1]  # dropped → dropp → drop
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]  # freeze/freez, issue/issu
    return w


# -- tokens -------------------------------------------------------------------------


def _cjk_words(run: str, *, for_search: bool) -> Iterator[str]:
    tk = _jieba()
    words = tk.cut_for_search(run, HMM=True) if for_search else tk.cut(run, HMM=True)
    for w in words:
        if w and _CJK_ONLY.match(w):
            yield w


def terms(text: str, *, for_search: bool = True) -> list[str]:
    """Normalised search terms of a text, in order (duplicates kept: they weigh in bm25)."""
    out: list[str] = []
    for m in _RUN.finditer(text):
        cjk, word = m.group(1), m.group(2)
        if cjk:
            for w in _cjk_words(cjk, for_search=for_search):
                if w not in ZH_STOP:
                    out.append(w)
        elif word:
            lw = word.lower().replace("'", "")
            if lw in EN_STOP:
                continue
            if "." in lw:  # versions and dotted names: keep whole and parts (4.2.1, socket.io)
                out.append(lw.replace(".", ""))
                out.extend(stem(p) for p in lw.split(".") if p and p not in EN_STOP)
            else:
                out.append(stem(lw))
    return out


def index_text(text: str) -> str:
    """The text as stored in the search column: normalised terms separated by spaces."""
    return " ".join(terms(text, for_search=True))


MAX_QUERY_TERMS = 24


def query_terms(query: str) -> list[str]:
    """Distinct terms of a query, in order, at most ``MAX_QUERY_TERMS``."""
    seen: dict[str, None] = {}
    for t in terms(query, for_search=True):
        seen.setdefault(t, None)
        if len(seen) >= MAX_QUERY_TERMS:
            break
    return list(seen)


# -- snippets ------------------------------------------------------------------------


class Highlighter:
    """Marks the places of a text where query terms occur (compiled once per query).

    An English term is a stem, so it marks the words that start with it (stutter →
    stutters, stuttering); a Chinese term marks its occurrences. Everything else is escaped;
    the only markup produced is ``<mark>``."""

    def __init__(self, query: Iterable[str]) -> None:
        words = sorted({t for t in query if t and not _CJK_ONLY.match(t)}, key=len, reverse=True)
        han = sorted({t for t in query if t and _CJK_ONLY.match(t)}, key=len, reverse=True)
        parts = []
        if words:
            parts.append(
                r"(?<![0-9A-Za-z])(?:" + "|".join(re.escape(w) for w in words) + r")[0-9A-Za-z]*"
            )
        if han:
            parts.append("|".join(re.escape(h) for h in han))
        self._re = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def spans(self, text: str, limit: int = 400) -> list[tuple[int, int]]:
        if self._re is None:
            return []
        out = []
        for m in self._re.finditer(text):
            out.append(m.span())
            if len(out) >= limit:
                break
        return out

    def mark(
        self,
        text: str,
        spans: list[tuple[int, int]] | None = None,
        start: int = 0,
        end: int | None = None,
    ) -> str:
        end = len(text) if end is None else end
        spans = self.spans(text) if spans is None else spans
        parts: list[str] = []
        pos = start
        for s, e in spans:
            if e <= start or s >= end:
                continue
            s, e = max(s, pos), min(e, end)
            if s >= e:
                continue
            parts.append(html.escape(text[pos:s]))
            parts.append("<mark>" + html.escape(text[s:e]) + "</mark>")
            pos = e
        parts.append(html.escape(text[pos:end]))
        return "".join(parts)

    def snippet(self, text: str, width: int = 160) -> str:
        """An excerpt of about ``width`` characters around the densest cluster of matches."""
        text = re.sub(r"\s+", " ", text).strip()
        if not text:
            return ""
        spans = self.spans(text)
        start = 0
        if spans:
            best, j = 0, 0
            for i, (s, _e) in enumerate(spans):
                while spans[j][0] < s - width // 2:
                    j += 1
                if i - j + 1 > best:
                    best, start = i - j + 1, spans[j][0]
            start = max(0, start - width // 4)
            if start > 0:
                sp = text.rfind(" ", max(0, start - 15), start)  # do not cut a word in half
                start = sp + 1 if sp >= 0 else start
        end = min(len(text), start + width)
        return (
            ("…" if start > 0 else "")
            + self.mark(text, spans, start, end)
            + ("…" if end < len(text) else "")
        )


def snippet(text: str, query: Iterable[str], *, width: int = 160) -> str:
    """An HTML-safe excerpt of ``text`` around the densest cluster of query terms, with the
    matches wrapped in ``<mark>``. Everything from the text is escaped."""
    return Highlighter(query).snippet(text, width)


def edit_distance_at_most(a: str, b: str, k: int) -> bool:
    """True if the Levenshtein distance of a and b is at most k (banded, early exit)."""
    if abs(len(a) - len(b)) > k:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        lo = max(1, i - k)
        hi = min(len(b), i + k)
        if lo > 1:
            cur[lo - 1] = k + 1
        for j in range(lo, hi + 1):
            cost = 0 if ca == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
        if hi < len(b):
            cur[hi + 1 :] = [k + 1] * (len(b) - hi)
        if min(cur[max(0, lo - 1) : hi + 1]) > k:
            return False
        prev = cur
    return prev[len(b)] <= k


def correct(term: str, vocabulary: Iterable[str]) -> str | None:
    """The closest known term for an unknown English term (one edit for short words, two
    for long ones), or None. Chinese terms are not corrected (a wrong character is a
    different word); their sub-words still match through the segmenter's search mode."""
    if not term.isascii() or not term.isalpha() or len(term) < 4:
        return None
    k = 1 if len(term) < 7 else 2
    best: tuple[int, str] | None = None
    for cand in vocabulary:
        if cand[:1] != term[:1] and cand[1:2] != term[1:2]:
            continue
        if edit_distance_at_most(term, cand, k):
            d = 0 if cand == term else (1 if edit_distance_at_most(term, cand, 1) else 2)
            if best is None or d < best[0] or (d == best[0] and cand < best[1]):
                best = (d, cand)
    return best[1] if best else None
