"""The portfolio report: one self-contained HTML file for a collection manager.

:func:`build_report` reads decisions (and optionally an earlier run's) as
:class:`~collectrules.operations.rows.DecisionRow` records and writes one HTML page with
Plotly's JavaScript inlined, so it opens with no network. It shows:

* the totals: cases, overdue amount per currency, steps late and breached;
* counts and amounts by quadrant, counts by class (each regulatory pack) and by bucket
  (each bucket set);
* a quadrant × bucket heat map per bucket set;
* the remedies allowed and blocked, by number of cases;
* the steps late or breached, by the age of the debt (days past due, in bands);
* with an earlier run: the quadrant moves and the roll-rate matrix of each bucket set
  (:mod:`collectrules.operations.changes`).

Amounts are never added across currencies. Labels are in English or Chinese
(``lang``). The same inputs give the same bytes: every chart has a fixed id.
Needs the ``report`` extra (Plotly).
"""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from collectrules._arguments import require_mapping, wrong_kind
from collectrules._decimal import exact
from collectrules.errors import FieldProblem, InputError, quote
from collectrules.operations.changes import compare_runs
from collectrules.operations.rows import DecisionRow

try:
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.offline import get_plotlyjs
except ImportError:  # the [report] extra is not installed
    go = None
    pio = None
    get_plotlyjs = None

__all__ = ["AGE_BANDS", "LANGUAGES", "build_report", "report_totals"]

#: The languages of the labels.
LANGUAGES = ("en", "zh")

#: The age bands of the steps chart: (label, lowest dpd, highest dpd or None).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0–30", 0, 30),
    ("31–60", 31, 60),
    ("61–90", 61, 90),
    ("91–180", 91, 180),
    ("181–365", 181, 365),
    ("365+", 366, None),
)

_QUADRANT_LABELS = {
    "en": {
        "Q1": "Q1 willing, able",
        "Q2": "Q2 willing, unable",
        "Q3": "Q3 unwilling, able",
        "Q4": "Q4 unwilling, unable",
    },
    "zh": {
        "Q1": "Q1 有意愿有能力",
        "Q2": "Q2 有意愿无能力",
        "Q3": "Q3 无意愿有能力",
        "Q4": "Q4 无意愿无能力",
    },
}

_TEXT = {
    "en": {
        "title": "Collection portfolio report",
        "as_of": "as of",
        "policy": "policy",
        "totals": "Totals",
        "cases": "cases",
        "amount": "overdue amount",
        "late": "steps late",
        "breached": "steps breached",
        "by_quadrant": "By quadrant",
        "count": "cases",
        "amount_by_quadrant": "Overdue amount by quadrant",
        "by_class": "By class",
        "by_bucket": "By bucket",
        "heatmap": "Quadrant × bucket",
        "remedies": "Remedies allowed and blocked",
        "allowed": "allowed",
        "blocked": "blocked",
        "steps": "Steps late or breached, by days past due",
        "age": "days past due",
        "moves": "Quadrant moves since the previous run",
        "rolls": "Roll rates since the previous run",
        "from": "from",
        "to": "to",
        "previous": "previous run",
        "none": "none",
        "compared": "cases in both runs",
        "moved": "moved",
        "quadrant": "quadrant",
        "bucket": "bucket",
        "class": "class",
        "remedy": "remedy",
        "currency": "currency",
    },
    "zh": {
        "title": "催收资产组合报告",
        "as_of": "基准时间",
        "policy": "政策",
        "totals": "合计",
        "cases": "案件数",
        "amount": "逾期金额",
        "late": "逾期步骤",
        "breached": "超时步骤",
        "by_quadrant": "按象限",
        "count": "案件数",
        "amount_by_quadrant": "各象限逾期金额",
        "by_class": "按分类",
        "by_bucket": "按账龄段",
        "heatmap": "象限 × 账龄段",
        "remedies": "允许与禁止的措施",
        "allowed": "允许",
        "blocked": "禁止",
        "steps": "逾期或超时的步骤（按逾期天数）",
        "age": "逾期天数",
        "moves": "与上次相比的象限迁移",
        "rolls": "与上次相比的迁徙率",
        "from": "从",
        "to": "到",
        "previous": "上次运行",
        "none": "无",
        "compared": "两次均有的案件",
        "moved": "迁移",
        "quadrant": "象限",
        "bucket": "账龄段",
        "class": "分类",
        "remedy": "措施",
        "currency": "币种",
    },
}

_QUADRANTS = ("Q1", "Q2", "Q3", "Q4")
_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["toImage"]}


def _require_plotly() -> None:
    if go is None:
        msg = "the report needs Plotly: pip install 'collectrules[report]'"
        raise InputError([FieldProblem("report", msg)])


def _band(dpd: int) -> str:
    for label, low, high in AGE_BANDS:
        if dpd >= low and (high is None or dpd <= high):
            return label
    return AGE_BANDS[0][0]


def _ordered(values_dpd: Mapping[str, list[int]]) -> list[str]:
    """Values ordered by the smallest days past due seen with them, then by name."""
    return sorted(values_dpd, key=lambda v: (min(values_dpd[v]), v))


def _require_rows(decisions: object, name: str) -> Mapping[str, DecisionRow]:
    """``decisions`` when it maps case ids to :class:`DecisionRow` objects (as
    :func:`~collectrules.operations.changes.read_run` gives them); else an InputError."""
    expected = "a mapping of case ids to decision rows (see read_run)"
    rows = require_mapping(decisions, name, expected)
    for key, row in rows.items():
        if type(key) is not str:
            raise wrong_kind(f"{name}[{quote(key)}]", key, "a case id (a text) as the key")
        if not isinstance(row, DecisionRow):
            raise wrong_kind(f"{name}[{quote(key)}]", row, "a DecisionRow")
    return rows


@exact
def report_totals(decisions: Mapping[str, DecisionRow]) -> dict[str, Any]:
    """The totals the report shows: cases, amount per currency, steps late and breached."""
    _require_rows(decisions, "decisions")
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    late = breached = 0
    for row in decisions.values():
        amounts[row.currency] += row.amount
        late += sum(s == "late" for s in row.steps.values())
        breached += sum(s == "breached" for s in row.steps.values())
    return {
        "cases": len(decisions),
        "amounts": {c: str(a) for c, a in sorted(amounts.items())},
        "late": late,
        "breached": breached,
    }


def _figure_html(fig: Any, div_id: str) -> str:
    fig.update_layout(
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 50, "b": 60},
        height=360,
        font={"family": "Noto Sans CJK SC, Noto Sans, DejaVu Sans, sans-serif"},
    )
    body: str = pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=_CONFIG,
        default_height="360px",
    )
    return f'<div class="chart" data-chart="{div_id}">{body}</div>'


def _bar(x: Sequence[str], y: Sequence[int], title: str, name: str) -> Any:
    fig = go.Figure(go.Bar(x=list(x), y=list(y), name=name, text=list(y), textposition="auto"))
    fig.update_layout(title=title, yaxis_title=name)
    return fig


def _heat(
    z: Sequence[Sequence[float]], x: Sequence[str], y: Sequence[str], title: str, xt: str, yt: str
) -> Any:
    fig = go.Figure(
        go.Heatmap(
            z=[list(row) for row in z],
            x=list(x),
            y=list(y),
            colorscale="OrRd",
            text=[[str(v) for v in row] for row in z],
            texttemplate="%{text}",
            hovertemplate=f"{yt} %{{y}} → {xt} %{{x}}: %{{z}}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title=xt, yaxis_title=yt)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


@exact
def build_report(
    decisions: Mapping[str, DecisionRow],
    *,
    previous: Mapping[str, DecisionRow] | None = None,
    lang: str = "en",
) -> str:
    """The report of ``decisions`` (by case id) as one self-contained HTML page.

    ``previous`` is an earlier run of the same portfolio (adds the quadrant moves and
    roll rates); ``lang`` is ``"en"`` or ``"zh"``.
    """
    _require_rows(decisions, "decisions")
    if previous is not None:
        _require_rows(previous, "previous")
    _require_plotly()
    if lang not in LANGUAGES:
        msg = f"expected one of {', '.join(LANGUAGES)}, got {quote(lang)}"
        raise InputError([FieldProblem("lang", msg)])
    t = _TEXT[lang]
    qlabel = _QUADRANT_LABELS[lang]
    rows = [decisions[k] for k in sorted(decisions)]
    totals = report_totals(decisions)
    parts: list[str] = []

    # Totals.
    as_ofs = sorted({r.case.as_of.isoformat() for r in rows})
    policies = sorted({r.policy_id or "?" for r in rows})
    amount_cells = "".join(
        f'<div class="total"><span class="label">{html.escape(t["amount"])} {cur}</span>'
        f'<span class="value" data-total="amount-{cur}">{amt}</span></div>'
        for cur, amt in totals["amounts"].items()
    )
    parts.append(
        f'<section><h2>{t["totals"]}</h2><div class="totals">'
        f'<div class="total"><span class="label">{t["cases"]}</span>'
        f'<span class="value" data-total="cases">{totals["cases"]}</span></div>'
        f"{amount_cells}"
        f'<div class="total"><span class="label">{t["late"]}</span>'
        f'<span class="value" data-total="late">{totals["late"]}</span></div>'
        f'<div class="total"><span class="label">{t["breached"]}</span>'
        f'<span class="value" data-total="breached">{totals["breached"]}</span></div>'
        "</div></section>"
    )

    # By quadrant: counts and amounts.
    q_count = Counter(r.quadrant for r in rows)
    q_amount: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in rows:
        q_amount[r.currency][r.quadrant] += r.amount
    labels = [qlabel[q] for q in _QUADRANTS]
    charts = [
        _figure_html(
            _bar(labels, [q_count[q] for q in _QUADRANTS], t["by_quadrant"], t["count"]),
            "chart-quadrant-count",
        )
    ]
    amount_fig = go.Figure(
        [
            go.Bar(x=labels, y=[float(q_amount[cur][q]) for q in _QUADRANTS], name=cur)
            for cur in sorted(q_amount)
        ]
    )
    amount_fig.update_layout(
        title=t["amount_by_quadrant"], yaxis_title=t["amount"], barmode="group"
    )
    charts.append(_figure_html(amount_fig, "chart-quadrant-amount"))
    table_rows = [
        [qlabel[q], str(q_count[q])] + [str(q_amount[cur].get(q, 0)) for cur in sorted(q_amount)]
        for q in _QUADRANTS
    ]
    heads = [t["quadrant"], t["cases"], *(f"{t['amount']} {c}" for c in sorted(q_amount))]
    parts.append(
        f'<section><h2>{t["by_quadrant"]}</h2><div class="row">{"".join(charts)}</div>'
        f"{_table(heads, table_rows, 'quadrants')}</section>"
    )

    # By class and by bucket.
    packs: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    bsets: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        for pack, value in r.classes.items():
            packs[pack][value].append(r.case.dpd)
        for bset, bucket in r.case.buckets.items():
            bsets[bset][bucket].append(r.case.dpd)
    bucket_order = {bset: _ordered(values) for bset, values in bsets.items()}
    if previous is not None:
        both: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for r in [*rows, *previous.values()]:
            for bset, bucket in r.case.buckets.items():
                both[bset][bucket].append(r.case.dpd)
        roll_order = {bset: _ordered(values) for bset, values in both.items()}
    charts = []
    for i, pack in enumerate(sorted(packs)):
        order = _ordered(packs[pack])
        counts = [len(packs[pack][v]) for v in order]
        fig = _bar(order, counts, f"{t['by_class']}: {pack}", t["count"])
        charts.append(_figure_html(fig, f"chart-class-{i}"))
    for i, bset in enumerate(sorted(bsets)):
        order = bucket_order[bset]
        counts = [len(bsets[bset][b]) for b in order]
        fig = _bar(order, counts, f"{t['by_bucket']}: {bset}", t["count"])
        charts.append(_figure_html(fig, f"chart-bucket-{i}"))
    if charts:
        parts.append(
            f"<section><h2>{t['by_class']} · {t['by_bucket']}</h2>"
            f'<div class="row">{"".join(charts)}</div></section>'
        )

    # Quadrant x bucket heat maps.
    charts = []
    for i, bset in enumerate(sorted(bsets)):
        order = bucket_order[bset]
        grid = Counter((r.quadrant, r.case.buckets[bset]) for r in rows if bset in r.case.buckets)
        z = [[grid[(q, b)] for b in order] for q in _QUADRANTS]
        fig = _heat(z, order, labels, f"{t['heatmap']}: {bset}", t["bucket"], t["quadrant"])
        charts.append(_figure_html(fig, f"chart-heatmap-{i}"))
    if charts:
        parts.append(
            f'<section><h2>{t["heatmap"]}</h2><div class="row">{"".join(charts)}</div></section>'
        )

    # Remedies allowed and blocked.
    allowed = Counter(rem for r in rows for rem in r.allowed)
    blocked = Counter(rem for r in rows for rem in r.blocked)
    remedies = sorted(set(allowed) | set(blocked))
    fig = go.Figure(
        [
            go.Bar(x=remedies, y=[allowed[m] for m in remedies], name=t["allowed"]),
            go.Bar(x=remedies, y=[blocked[m] for m in remedies], name=t["blocked"]),
        ]
    )
    fig.update_layout(title=t["remedies"], yaxis_title=t["cases"], barmode="group")
    parts.append(
        f"<section><h2>{t['remedies']}</h2>{_figure_html(fig, 'chart-remedies')}"
        + _table(
            [t["remedy"], t["allowed"], t["blocked"]],
            [[m, str(allowed[m]), str(blocked[m])] for m in remedies],
            "remedies",
        )
        + "</section>"
    )

    # Steps late or breached, by age.
    bands = [label for label, _, _ in AGE_BANDS]
    late_by: Counter[str] = Counter()
    breached_by: Counter[str] = Counter()
    for r in rows:
        band = _band(r.case.dpd)
        late_by[band] += sum(s == "late" for s in r.steps.values())
        breached_by[band] += sum(s == "breached" for s in r.steps.values())
    fig = go.Figure(
        [
            go.Bar(x=bands, y=[late_by[b] for b in bands], name=t["late"]),
            go.Bar(x=bands, y=[breached_by[b] for b in bands], name=t["breached"]),
        ]
    )
    fig.update_layout(title=t["steps"], xaxis_title=t["age"], barmode="stack")
    fig.update_xaxes(type="category")
    parts.append(f"<section><h2>{t['steps']}</h2>{_figure_html(fig, 'chart-steps-age')}</section>")

    # With an earlier run: quadrant moves and roll rates.
    if previous is not None:
        changes = compare_runs(previous, decisions)
        qm = changes.quadrants.counts
        z = [[qm.get(a, {}).get(b, 0) for b in _QUADRANTS] for a in _QUADRANTS]
        charts = [
            _figure_html(
                _heat(z, labels, labels, t["moves"], t["to"], t["from"]), "chart-quadrant-moves"
            )
        ]
        for i, (bset, moves) in enumerate(changes.buckets.items()):
            seen = set(moves.counts) | {to for row in moves.counts.values() for to in row}
            known = roll_order.get(bset, [])
            order = [b for b in known if b in seen] + sorted(seen - set(known))
            rates = moves.rates()
            zr = [
                [
                    0.0
                    if b not in rates.get(a, {}) or rates[a][b].value is None
                    else float(rates[a][b].value or 0) * 100
                    for b in order
                ]
                for a in order
            ]
            fig = _heat(zr, order, order, f"{t['rolls']}: {bset} (%)", t["to"], t["from"])
            fig.update_traces(
                text=[[f"{v:.1f} %" if v else "" for v in row] for row in zr],
                zmin=0,
                zmax=100,
            )
            charts.append(_figure_html(fig, f"chart-roll-{i}"))
        parts.append(
            f"<section><h2>{t['previous']}</h2>"
            f'<p><span data-total="compared">{changes.compared}</span> {t["compared"]}, '
            f'<span data-total="moved">{changes.quadrants.moved}</span> {t["moved"]}</p>'
            f'<div class="row">{"".join(charts)}</div></section>'
        )

    meta = json.dumps({"totals": totals}, ensure_ascii=False, sort_keys=True)
    subtitle = (
        f"{t['as_of']} {html.escape(', '.join(as_ofs) or t['none'])} · "
        f"{t['policy']} {html.escape(', '.join(policies) or t['none'])}"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{t['title']}</title><style>{_CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
        f'<script type="application/json" id="report-data">{meta}</script>'
        f"</head><body><header><h1>{t['title']}</h1><p>{subtitle}</p></header>"
        f"<main>{''.join(parts)}</main>"
        f"<script>{_RESIZE}</script></body></html>\n"
    )


# Charts are drawn as the page is parsed; once it is laid out, fit each to its box.
_RESIZE = (
    "window.addEventListener('load',function(){document.querySelectorAll('.js-plotly-plot')"
    ".forEach(function(d){Plotly.Plots.resize(d);});});"
)

_CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans","DejaVu Sans",sans-serif;margin:0;
background:#f6f7f9;color:#1d2530}
header{background:#1d3557;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85;font-size:13px}
main{padding:12px 28px 40px}section{background:#fff;border-radius:8px;padding:12px 18px;
margin:14px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}h2{font-size:17px;margin:6px 0 10px}
.totals{display:flex;flex-wrap:wrap;gap:14px}.total{border:1px solid #e1e5ea;border-radius:6px;
padding:8px 14px;min-width:150px}.total .label{display:block;font-size:12px;color:#5a6573}
.total .value{font-size:22px;font-weight:600}
.row{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:10px}
.chart{min-width:0}table{border-collapse:collapse;margin-top:8px;font-size:13px}
th,td{border-bottom:1px solid #e1e5ea;padding:4px 10px;text-align:left}
td:not(:first-child){text-align:right}
"""
