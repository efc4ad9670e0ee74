"""``--lang zh|en`` on every command that prints labels: one shared option, one default,
and Chinese headers, statuses and the policy's own zh labels when asked."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from collectrules.cli import app, main
from collectrules.cli._common import DEFAULT_LANG, Lang

ROOT = Path(__file__).parent.parent
CASES = ROOT / "examples" / "cases"
CASE = CASES / "q1_travelling.json"
Q2 = CASES / "q2_health_short.json"
AS_OF = "2026-04-03T12:00:00+08:00"
PLAN = ["--kind", "extend", "--months", "6", "--rate", "0.06"]

#: Commands that print no label: ``schema`` prints a JSON Schema, which is English
#: by the JSON Schema vocabulary itself.
NO_LABELS = {"schema"}


@pytest.fixture(scope="module")
def decisions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "decisions.jsonl"
    assert main(["batch", str(CASES), "--out", str(out), "--as-of", AS_OF]) == 0
    return out


# (command, arguments, what the Chinese output must contain). {out} is a fresh file per
# language; {decisions} a batch run of the example cases.
LANG_CASES: list[tuple[str, list[str], list[str]]] = [
    ("decide", ["decide", str(CASE), "--as-of", AS_OF], ["象限", "第一类", "有还款意愿"]),
    ("explain", ["explain", str(CASE), "--as-of", AS_OF], ["触发顺序", "引用条款"]),
    ("timeline", ["timeline", str(CASE), "--as-of", AS_OF], ["阶段计划", "步骤", "贷款", "下一步"]),
    ("contact", ["contact", str(CASE), "--channel", "phone", "--at", AS_OF],
     ["结论", "理由（按规则包）", "贷款"]),
    ("check", ["check", "default"], ["结论"]),
    ("show", ["show", "default"], ["参数", "信号"]),
    ("diff", ["diff", "default", "uk"], ["变更", "参数"]),
    ("impact", ["impact", "default", str(ROOT / "examples/impact/stricter.toml"),
                str(ROOT / "examples/impact/portfolio.jsonl"), "--as-of", AS_OF],
     ["现行政策", "挑战政策", "象限变化", "第二类"]),
    ("worklist", ["worklist", str(CASES), "--as-of", AS_OF], ["步骤", "状态", "提醒", "已违反"]),
    ("changes", ["changes", "{decisions}", "{decisions}"], ["已比较", "象限"]),
    ("report", ["report", "{decisions}", "--out", "{out}.html"], ["报告"]),
    ("clauses", ["clauses", "Q1"], ["内容", "出处"]),
    ("plan", ["plan", str(Q2), *PLAN, "--as-of", AS_OF, "--out", "{out}.md"],
     ["还款计划", "个月"]),
    ("kpis", ["kpis", "{decisions}"], ["指标", "资产组合"]),
    ("batch", ["batch", str(CASES), "--out", "{out}.jsonl", "--as-of", AS_OF],
     ["决定写入", "象限"]),
    ("golden", ["golden", str(CASE), "--out", "{out}/golden_x.toml", "--as-of", AS_OF],
     ["已写入"]),
]  # fmt: skip


def _run(
    args: list[str], lang: str, tmp: Path, decisions: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    out = tmp / lang
    out.mkdir()
    argv = [a.format(out=out, decisions=decisions) for a in args] + ["--lang", lang]
    code = main(argv)
    printed, err = capsys.readouterr()
    # Paths differ between the two runs; what is compared is the words around them.
    return code, (printed + err).replace(str(out), "OUT")


@pytest.mark.parametrize(
    ("command", "args", "expected"), LANG_CASES, ids=[c for c, _, _ in LANG_CASES]
)
def test_lang_zh_prints_the_chinese_labels(
    command: str,
    args: list[str],
    expected: list[str],
    tmp_path: Path,
    decisions: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code_en, english = _run(args, "en", tmp_path, decisions, capsys)
    code_zh, chinese = _run(args, "zh", tmp_path, decisions, capsys)
    assert code_en == code_zh, (english, chinese)
    assert "Traceback" not in english + chinese
    assert chinese != english
    for text in expected:
        assert text in chinese, (text, chinese)
        assert text not in english, (text, english)


def test_every_command_with_labels_is_covered_and_shares_one_option() -> None:
    """Each command that prints labels takes --lang from the shared option, with the
    same default; and each is in the table above."""
    covered = {c for c, _, _ in LANG_CASES}
    for command in app.registered_commands:
        assert command.callback is not None
        name = command.name or command.callback.__name__
        params = inspect.signature(command.callback).parameters
        if name in NO_LABELS:
            assert "lang" not in params
            continue
        assert name in covered, f"{name} has no --lang test"
        lang = params.get("lang")
        assert lang is not None, f"{name} has no --lang"
        assert lang.default is DEFAULT_LANG, name
        option = lang.annotation
        assert "LangOption" in str(option) or "Lang" in str(option), name


def test_the_default_language_is_english() -> None:
    assert DEFAULT_LANG is Lang.EN


def test_an_unknown_language_is_unusable_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", str(CASE), "--as-of", AS_OF, "--lang", "fr"]) == 2
    _, err = capsys.readouterr()
    assert "--lang" in err


def test_a_golden_file_in_chinese_keeps_its_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The language changes what people read, not the data files: a golden file
    written with --lang zh is the one written with --lang en."""
    files = {}
    for lang in ("en", "zh"):
        out = tmp_path / lang / "golden_x.toml"
        out.parent.mkdir()
        argv = ["golden", str(CASE), "--out", str(out), "--as-of", AS_OF, "--lang", lang]
        assert main(argv) == 0
        files[lang] = out.read_text(encoding="utf-8")
    capsys.readouterr()
    assert files["en"] == files["zh"]
