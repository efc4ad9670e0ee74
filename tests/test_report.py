"""The portfolio report (issue 13 §6), opened in a real browser.

The browser test drives Debian's chromium (``apt-get install chromium``, done by
.ci/run) through Playwright, in English and in Chinese; the Chinese labels need a font
with CJK glyphs (``apt-get install fonts-noto-cjk``, done by .ci/run too). It fails,
never skips, when chromium or the font is missing.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from collectrules import Engine, InputError
from collectrules.cli import main
from collectrules.operations.changes import read_run
from collectrules.operations.report import build_report
from operations_helpers import CLOSING, OPENING, portfolio, write_jsonl

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IMAGES = Path(__file__).resolve().parent.parent / "docs" / "img"
#: The screenshot of the report in each language, shown in docs/howto-report.md.
SCREENSHOTS = {"en": IMAGES / "report.png", "zh": IMAGES / "report-zh.png"}
#: The names of the traces of the steps and remedies charts, in each language.
TRACE_NAMES = {
    "en": ("steps late", "steps breached", "allowed", "blocked"),
    "zh": ("逾期步骤", "超时步骤", "允许", "禁止"),
}


def _later(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = json.loads(json.dumps(rows))
    for row in out[::4]:
        row["signals"] = [
            *row["signals"],
            {"kind": "refused_to_pay", "observed_at": "2026-04-20T10:00:00+08:00"},
        ]
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[dict[str, Any]]]:
    engine = Engine("cn_bank_loan", backend="python")
    cases = portfolio(240, seed=5)
    for row in cases[:60]:
        row["due_date"] = "2026-05-10"
    for row in cases[60:80]:
        row["currency"] = "USD"
    old = [r.decision.to_dict() for r in engine.decide_many(cases, as_of=OPENING)]  # type: ignore[union-attr]
    new = [r.decision.to_dict() for r in engine.decide_many(_later(cases), as_of=CLOSING)]  # type: ignore[union-attr]
    folder = tmp_path_factory.mktemp("runs")
    return write_jsonl(folder / "old.jsonl", old), write_jsonl(folder / "new.jsonl", new), new


@pytest.fixture(scope="module")
def report_file(
    runs: tuple[Path, Path, list[dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    old, new, _ = runs
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", str(new), "--previous", str(old), "--out", str(out)]) == 0
    return out


def _expected_totals(decisions: list[dict[str, Any]]) -> dict[str, str]:
    amounts: dict[str, Decimal] = {}
    late = breached = 0
    for d in decisions:
        cur = d["facts"]["currency"]
        amounts[cur] = amounts.get(cur, Decimal(0)) + Decimal(str(d["facts"]["overdue_amount"]))
        steps = [v for k, v in d["facts"].items() if k.startswith("step_")]
        late += steps.count("late")
        breached += steps.count("breached")
    out = {"cases": str(len(decisions)), "late": str(late), "breached": str(breached)}
    out.update({f"amount-{c}": str(a) for c, a in amounts.items()})
    return out


def test_the_report_is_self_contained_and_deterministic(
    runs: tuple[Path, Path, list[dict[str, Any]]], report_file: Path, tmp_path: Path
) -> None:
    text = report_file.read_text(encoding="utf-8")
    # Nothing is loaded from elsewhere (the browser test also checks that no request
    # leaves the file); the inlined library is there whole.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", text)
    old, new, _ = runs
    again = tmp_path / "again.html"
    assert main(["report", str(new), "--previous", str(old), "--out", str(again)]) == 0
    assert again.read_bytes() == report_file.read_bytes()


def test_labels_in_chinese(runs: tuple[Path, Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    _, new, _ = runs
    out = tmp_path / "zh.html"
    assert main(["report", str(new), "--lang", "zh", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert '<html lang="zh">' in text
    for label in ("催收资产组合报告", "逾期金额", "象限 × 账龄段", "Q3 无意愿有能力"):
        assert label in text
    assert "chart-roll-0" not in text  # no previous run: no roll rates


def test_a_bad_language_is_a_clear_error(runs: tuple[Path, Path, list[dict[str, Any]]]) -> None:
    _, new, _ = runs
    rows, _ = read_run([("x", json.loads(line)) for line in new.read_text().splitlines()[:3]])
    with pytest.raises(InputError, match="lang"):
        build_report(rows, lang="fr")


def test_bad_lines_are_reported_and_the_others_shown(
    runs: tuple[Path, Path, list[dict[str, Any]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, new, decisions = runs
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(new.read_text(encoding="utf-8") + "{broken\n", encoding="utf-8")
    out = tmp_path / "r.html"
    assert main(["report", str(mixed), "--out", str(out)]) == 1
    assert f"{mixed}:{len(decisions) + 1}" in capsys.readouterr().err
    assert f'data-total="cases">{len(decisions)}<' in out.read_text(encoding="utf-8")


def _cjk_families() -> set[str]:
    """The font families fontconfig says cover Chinese."""
    listed = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    ).stdout
    return {name.strip() for line in listed.splitlines() for name in line.split(",")}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_report_renders_in_chromium(
    runs: tuple[Path, Path, list[dict[str, Any]]],
    report_file: Path,
    lang: str,
    tmp_path: Path,
) -> None:
    assert CHROMIUM.exists(), "chromium is missing: apt-get install -y chromium (see .ci/run)"
    from playwright.sync_api import sync_playwright

    cjk = _cjk_families()
    if lang == "zh":
        assert cjk, "no font covers Chinese: apt-get install -y fonts-noto-cjk (see .ci/run)"
        old, new, _ = runs
        report_file = tmp_path / "report-zh.html"
        args = ["report", str(new), "--previous", str(old), "--lang", "zh"]
        assert main([*args, "--out", str(report_file)]) == 0
    screenshot = SCREENSHOTS[lang]
    _, _, decisions = runs
    old_rows = [json.loads(line) for line in runs[0].read_text(encoding="utf-8").splitlines()]
    errors: list[str] = []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: (
                    errors.append(f"network: {r.url}")
                    if not r.url.startswith(("file:", "data:", "blob:", "about:"))
                    else None
                ),
            )
            page.goto(report_file.as_uri())
            page.wait_for_load_state("load")
            page.wait_for_function(
                "document.querySelectorAll('.chart').length > 0 && Array.from("
                "document.querySelectorAll('.chart')).every(c => c.querySelector('.main-svg'))"
            )
            charts: list[dict[str, Any]] = page.evaluate(
                """() => Array.from(document.querySelectorAll('.chart')).map(c => {
                    const gd = c.querySelector('.js-plotly-plot');
                    return {
                        id: c.dataset.chart,
                        bars: gd.querySelectorAll('.bars .point path').length,
                        heat: gd.querySelectorAll('g.hm image').length,
                        svg: gd.querySelectorAll('svg.main-svg').length,
                        data: gd.data.map(
                            t => ({type: t.type, name: t.name || '', y: t.y, z: t.z})),
                    };
                })"""
            )
            shown: dict[str, str] = page.evaluate(
                """() => Object.fromEntries(Array.from(document.querySelectorAll('[data-total]'))
                    .map(e => [e.dataset.total, e.textContent.trim()]))"""
            )
            # The fonts chromium drew the title with: a CJK one for the Chinese labels.
            cdp = context.new_cdp_session(page)
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            root = cdp.send("DOM.getDocument")["root"]["nodeId"]
            title = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
            drawn = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": title})["fonts"]
            title_text = page.inner_text("h1")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            context.close()

    assert errors == []
    if lang == "zh":
        assert "催收" in title_text
        # Every glyph of the title came from a font that covers Chinese: no empty boxes.
        assert drawn
        assert {f["familyName"] for f in drawn} <= cjk, drawn
        assert sum(f["glyphCount"] for f in drawn) == len(title_text.replace(" ", "")), drawn
    by_id = {c["id"]: c for c in charts}
    expected_ids = {
        "chart-quadrant-count", "chart-quadrant-amount", "chart-class-0", "chart-bucket-0",
        "chart-bucket-1", "chart-heatmap-0", "chart-heatmap-1", "chart-remedies",
        "chart-steps-age", "chart-quadrant-moves", "chart-roll-0", "chart-roll-1",
    }  # fmt: skip
    assert set(by_id) == expected_ids
    for chart in charts:
        assert chart["svg"] > 0, chart["id"]
        kinds = {t["type"] for t in chart["data"]}
        if kinds == {"heatmap"}:
            assert chart["heat"] > 0, chart["id"]
        else:
            assert chart["bars"] > 0, chart["id"]

    # The totals shown are the totals of the input.
    expected = _expected_totals(decisions)
    for key, value in expected.items():
        assert Decimal(shown[key]) == Decimal(value), key
    n = len(decisions)
    assert sum(by_id["chart-quadrant-count"]["data"][0]["y"]) == n
    for i in (0, 1):
        assert sum(map(sum, by_id[f"chart-heatmap-{i}"]["data"][0]["z"])) == n
        assert sum(by_id[f"chart-bucket-{i}"]["data"][0]["y"]) == n
    assert sum(by_id["chart-class-0"]["data"][0]["y"]) == n
    late, breached, allowed, blocked = TRACE_NAMES[lang]
    steps = {t["name"]: sum(t["y"]) for t in by_id["chart-steps-age"]["data"]}
    assert steps == {late: int(expected["late"]), breached: int(expected["breached"])}
    remedies = {t["name"]: sum(t["y"]) for t in by_id["chart-remedies"]["data"]}
    assert remedies == {
        allowed: sum(len(d["allowed"]) for d in decisions),
        blocked: sum(len(d["blocked"]) for d in decisions),
    }
    quadrant_of = {d["case_id"]: d["quadrant"]["value"] for d in old_rows}
    moved = sum(quadrant_of[d["case_id"]] != d["quadrant"]["value"] for d in decisions)
    assert moved > 0
    assert shown["moved"] == str(moved)
    assert shown["compared"] == str(n)
    assert sum(map(sum, by_id["chart-quadrant-moves"]["data"][0]["z"])) == n
    counts = Counter(d["quadrant"]["value"] for d in decisions)
    assert by_id["chart-quadrant-count"]["data"][0]["y"] == [
        counts[q] for q in ("Q1", "Q2", "Q3", "Q4")
    ]
    assert screenshot.stat().st_size > 10_000
