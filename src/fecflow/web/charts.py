"""Server-side SVG charts for the explorer: no JavaScript, no CDN, nothing fetched by the browser.

Each function returns a complete ``<svg>`` element as a string built from numbers and escaped text
only (labels go through :func:`html.escape`), with a ``<title>``/``<desc>`` for screen readers; the
pages also print every chart's data as a table. Colors are presentation attributes, not inline
``style``, so the Content-Security-Policy needs no ``unsafe-inline``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from html import escape
from typing import Any

DEM, REP, GREY, INK = "#2166ac", "#b2182b", "#999999", "#222222"


def _f(value: Any) -> float:
    return float(value) if isinstance(value, Decimal | int | float) else 0.0


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def interval_bar(score: Any, ci_low: Any, ci_high: Any, *, width: int = 420, height: int = 46) -> str:
    """The 0-1 scale (D at 0, R at 1), the interval as a band and the score as a tick."""
    pad, y = 12, 18
    span = width - 2 * pad

    def x(v: Any) -> float:
        return round(pad + span * min(max(_f(v), 0.0), 1.0), 2)

    body = [
        f'<line x1="{pad}" y1="{y}" x2="{width - pad}" y2="{y}" stroke="{GREY}" stroke-width="2"/>',
        f'<text x="{pad}" y="{height - 4}" font-size="11" fill="{DEM}">0 D</text>',
        f'<text x="{width // 2}" y="{height - 4}" font-size="11" fill="{INK}" text-anchor="middle">0.5</text>',
        f'<text x="{width - pad}" y="{height - 4}" font-size="11" fill="{REP}" text-anchor="end">R 1</text>',
    ]
    if score is not None:
        lo, hi, s = x(ci_low), x(ci_high), x(score)
        body += [
            f'<rect class="interval" x="{lo}" y="{y - 7}" width="{max(hi - lo, 1)}" height="14" fill="{GREY}" '
            'fill-opacity="0.45"/>',
            f'<line class="score" x1="{s}" y1="{y - 11}" x2="{s}" y2="{y + 11}" stroke="{INK}" stroke-width="3"/>',
        ]
    title = (
        f"Score {score} with 95% interval {ci_low} to {ci_high} on a scale from 0 (all Democratic) "
        "to 1 (all Republican)"
        if score is not None
        else "No score"
    )
    return _svg(width, height, title, body)


def histogram(
    bins: Sequence[Mapping[str, Any]], series: Sequence[str], *, width: int = 520, height: int = 180
) -> str:
    """Counts per score bin, one bar group per bin, one color per series (employer, industry)."""
    colors = ("#5e3c99", "#e66101", GREY)
    pad_l, pad_b, pad_t = 36, 22, 8
    plot_w, plot_h = width - pad_l - 8, height - pad_b - pad_t
    top = max([int(b[s]) for b in bins for s in series] + [1])
    n = max(len(bins), 1)
    group = plot_w / n
    bar = max(group / max(len(series), 1) - 1, 1)
    body = [
        f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - 8}" y2="{pad_t + plot_h}" stroke="{INK}"/>',
        f'<text x="{pad_l - 4}" y="{pad_t + 10}" font-size="10" text-anchor="end">{top}</text>',
        f'<text x="{pad_l - 4}" y="{pad_t + plot_h}" font-size="10" text-anchor="end">0</text>',
        f'<text x="{pad_l}" y="{height - 6}" font-size="10">0 (D)</text>',
        f'<text x="{width - 8}" y="{height - 6}" font-size="10" text-anchor="end">1 (R)</text>',
    ]
    for i, b in enumerate(bins):
        for j, s in enumerate(series):
            h = round(plot_h * int(b[s]) / top, 2)
            bx = round(pad_l + i * group + j * (bar + 1), 2)
            body.append(
                f'<rect x="{bx}" y="{round(pad_t + plot_h - h, 2)}" width="{round(bar, 2)}" height="{h}" '
                f'fill="{colors[j % len(colors)]}"><title>{escape(s)} {b["low"]}-{b["high"]}: {int(b[s])}</title></rect>'
            )
    for j, s in enumerate(series):
        body.append(
            f'<rect x="{pad_l + 8 + j * 90}" y="{pad_t}" width="10" height="10" fill="{colors[j % len(colors)]}"/>'
            f'<text x="{pad_l + 22 + j * 90}" y="{pad_t + 9}" font-size="10">{escape(s)}</text>'
        )
    return _svg(width, height, "Distribution of scores: " + ", ".join(series), body)


def trend(points: Sequence[Mapping[str, Any]], *, width: int = 560, height: int = 220) -> str:
    """Score (line) and 95% interval (band) across as-of dates, oldest on the left."""
    pad_l, pad_r, pad_t, pad_b = 40, 36, 10, 40
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    scored = [p for p in points if p.get("score") is not None]
    n = len(scored)

    def x(i: int) -> float:
        return round(pad_l + (plot_w * i / (n - 1) if n > 1 else plot_w / 2), 2)

    def y(v: Any) -> float:
        return round(pad_t + plot_h * (1 - min(max(_f(v), 0.0), 1.0)), 2)

    body = [
        f'<rect x="{pad_l}" y="{pad_t}" width="{plot_w}" height="{plot_h}" fill="none" stroke="{GREY}"/>',
        f'<line x1="{pad_l}" y1="{y(0.5)}" x2="{pad_l + plot_w}" y2="{y(0.5)}" stroke="{GREY}" stroke-dasharray="4 3"/>',
        f'<text x="{pad_l - 4}" y="{y(1) + 4}" font-size="10" text-anchor="end" fill="{REP}">1 R</text>',
        f'<text x="{pad_l - 4}" y="{y(0.5) + 4}" font-size="10" text-anchor="end">0.5</text>',
        f'<text x="{pad_l - 4}" y="{y(0) + 4}" font-size="10" text-anchor="end" fill="{DEM}">0 D</text>',
    ]
    if n:
        upper = " ".join(f"{x(i)},{y(p['ci_high'])}" for i, p in enumerate(scored))
        lower = " ".join(f"{x(i)},{y(p['ci_low'])}" for i, p in reversed(list(enumerate(scored))))
        line = " ".join(f"{x(i)},{y(p['score'])}" for i, p in enumerate(scored))
        body.append(f'<polygon class="band" points="{upper} {lower}" fill="{GREY}" fill-opacity="0.35"/>')
        body.append(f'<polyline class="line" points="{line}" fill="none" stroke="{INK}" stroke-width="2"/>')
        for i, p in enumerate(scored):
            body.append(
                f'<circle cx="{x(i)}" cy="{y(p["score"])}" r="3" fill="{INK}">'
                f"<title>{escape(str(p['as_of']))}: {escape(str(p['score']))} "
                f"[{escape(str(p['ci_low']))}, {escape(str(p['ci_high']))}]</title></circle>"
            )
            if n <= 12 or i in (0, n - 1):
                body.append(
                    f'<text x="{x(i)}" y="{height - pad_b + 14}" font-size="9" text-anchor="middle">'
                    f"{escape(str(p['as_of']))}</text>"
                )
    else:
        body.append(
            f'<text x="{pad_l + 10}" y="{pad_t + 20}" font-size="12">No scored as-of dates yet.</text>'
        )
    title = f"Score and 95% interval across {n} as-of date(s)"
    return _svg(width, height, title, body)
