"""Small server-side SVG charts for the report pages (no JavaScript, nothing from a CDN):
grouped bars, an hour-of-week heatmap and a line chart. Pure functions returning SVG text;
every label is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#2563eb", "#f59e0b", "#dc2626", "#059669", "#7c3aed", "#0891b2")


def fmt_duration(seconds: float | None) -> str:
    """A duration for people: 45 s, 12 min, 3.5 h, 2.1 d."""
    if seconds is None or math.isnan(seconds):
        return "—"
    s = float(seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min" if s >= 600 else f"{s / 60:.1f} min"
    if s < 36 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def fmt_number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value``."""
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * exp >= value:
            return float(m * exp)
    return float(10 * exp)


def _open(width: int, height: int, title: str) -> list[str]:
    t = escape(title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{t}" preserveAspectRatio="xMinYMin meet">',
        f"<title>{t}</title>",
        "<style>text{font:11px sans-serif;fill:#334155}.axis{stroke:#94a3b8;stroke-width:1}"
        ".grid{stroke:#e2e8f0;stroke-width:1}</style>",
    ]


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    fmt: Callable[[float | None], str] = fmt_number,
    width: int = 640,
    height: int = 260,
    max_value: float | None = None,
) -> str:
    """Vertical bars, one group per category and one bar per series in each group."""
    left, right, top, bottom = 64, 12, 28, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    present = [v for s in series for v in s.values if v is not None and not math.isnan(v)]
    vmax = max_value if max_value is not None else _nice_max(max(present) if present else 1.0)
    out = _open(width, height, title)
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        out.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(vmax * i / 4))}</text>'
        )
    out.append(
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>'
    )
    n = max(1, len(categories))
    group_w = plot_w / n
    bar_w = max(2.0, group_w * 0.8 / max(1, len(series)))
    for gi, cat in enumerate(categories):
        gx = left + gi * group_w + group_w * 0.1
        for si, s in enumerate(series):
            v = s.values[gi] if gi < len(s.values) else None
            if v is None or math.isnan(v):
                continue
            h = plot_h * min(v, vmax) / vmax if vmax else 0
            x = gx + si * bar_w
            y = top + plot_h - h
            colour = PALETTE[si % len(PALETTE)]
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(cat)} · {escape(s.name)}: {escape(fmt(v))}</title></rect>"
            )
        label = cat if len(cat) <= 14 else cat[:13] + "…"
        out.append(
            f'<text x="{left + gi * group_w + group_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{escape(label)}</text>'
        )
    lx = left
    for si, s in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        out.append(f'<rect x="{lx}" y="{height - 16}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14}" y="{height - 7}">{escape(s.name)}</text>')
        lx += 14 + 7 * len(s.name) + 16
    out.append("</svg>")
    return "\n".join(out)


def colour_scale(pct: float | None) -> str:
    """Red (0 %) through amber to green (100 %); grey for no data."""
    if pct is None:
        return "#f1f5f9"
    p = max(0.0, min(100.0, pct)) / 100
    if p < 0.5:
        r, g, b = 220, int(38 + (158 - 38) * p * 2), 38
    else:
        r, g, b = (
            int(220 - (220 - 5) * (p - 0.5) * 2),
            int(158 - (158 - 150) * (p - 0.5) * 2),
            int(38 + (105 - 38) * (p - 0.5) * 2),
        )
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(
    values: Sequence[float | None],
    tips: Sequence[str],
    *,
    title: str,
    row_labels: Sequence[str],
    width: int = 760,
) -> str:
    """A rows × 24 grid (hour-of-week: 7 rows of 24 hours), coloured by a percentage."""
    rows = len(row_labels)
    if len(values) != rows * 24 or len(tips) != len(values):
        raise ValueError("a heatmap needs 24 values and tips per row")
    left, top = 40, 22
    cell = (width - left - 8) / 24
    height = int(top + rows * cell + 30)
    out = _open(width, height, title)
    for h in range(0, 24, 3):
        out.append(
            f'<text x="{left + h * cell + cell / 2:.1f}" y="{top - 6}" text-anchor="middle">{h:02d}</text>'
        )
    for r, label in enumerate(row_labels):
        y = top + r * cell
        out.append(
            f'<text x="{left - 6}" y="{y + cell / 2 + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
        for h in range(24):
            i = r * 24 + h
            out.append(
                f'<rect x="{left + h * cell:.1f}" y="{y:.1f}" width="{cell - 1:.1f}" height="{cell - 1:.1f}" '
                f'fill="{colour_scale(values[i])}"><title>{escape(tips[i])}</title></rect>'
            )
    ly = top + rows * cell + 10
    for k, pct in enumerate((0, 25, 50, 75, 100)):
        x = left + k * 70
        out.append(
            f'<rect x="{x}" y="{ly:.1f}" width="12" height="12" fill="{colour_scale(pct)}"/>'
        )
        out.append(f'<text x="{x + 16}" y="{ly + 10:.1f}">{pct}%</text>')
    out.append(
        f'<rect x="{left + 5 * 70}" y="{ly:.1f}" width="12" height="12" fill="{colour_scale(None)}"/>'
    )
    out.append(f'<text x="{left + 5 * 70 + 16}" y="{ly + 10:.1f}">—</text>')
    out.append("</svg>")
    return "\n".join(out)


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
    fmt: Callable[[float | None], str] = fmt_number,
) -> str:
    """Lines over an ordered axis (e.g. dates); every ~8th label is written."""
    left, right, top, bottom = 52, 12, 20, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    present = [v for s in series for v in s.values if v is not None]
    vmax = _nice_max(max(present) if present else 1.0)
    n = len(labels)
    out = _open(width, height, title)
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        out.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(vmax * i / 4))}</text>'
        )

    def x_at(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    step = max(1, math.ceil(n / 8))
    for i in range(0, n, step):
        out.append(
            f'<text x="{x_at(i):.1f}" y="{top + plot_h + 14}" text-anchor="middle">{escape(labels[i])}</text>'
        )
    for si, s in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        pts = [
            f"{x_at(i):.1f},{top + plot_h - plot_h * v / vmax:.1f}"
            for i, v in enumerate(s.values)
            if v is not None
        ]
        if pts:
            out.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(pts)}"/>'
            )
        out.append(
            f'<rect x="{left + si * 120}" y="{height - 16}" width="10" height="10" fill="{colour}"/>'
        )
        out.append(f'<text x="{left + si * 120 + 14}" y="{height - 7}">{escape(s.name)}</text>')
    out.append(
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>'
    )
    out.append("</svg>")
    return "\n".join(out)
