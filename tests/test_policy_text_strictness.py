"""Policy text that Python would read and the grammar does not list, and short files
that cost much: named conditions that name each other twice over, a `#` in a
condition, a version or an `extends` that prints as another line of a report, and a
verifier search whose memory grows with the product of measured thresholds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from collectrules import PolicyError, load_policy
from collectrules.authoring import verify
from collectrules.cli import main
from collectrules.conditions import MAX_PARTS, parse
from collectrules.errors import ConditionError
from collectrules.policy import loader

BASE = """\
extends = "default"
id = "mine"
version = "{version}"
title = "mine"

[[remedies.rules]]
id = "R-MINE"
effect = "block"
remedies = ["extend"]
when = "{when}"
reason = "mine"
cites = ["Q2-SHORT"]
"""


def _policy(
    tmp_path: Path, *, when: str = "dpd > 90", version: str = "1.0.0", extra: str = ""
) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(BASE.format(when=when, version=version) + extra, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------- named


def _chain(names: int) -> str:
    lines = ["", "[conditions]"]
    lines += [f'c{i} = "c{i + 1} and c{i + 1}"' for i in range(names)]
    lines.append(f'c{names} = "dpd > 0"')
    return "\n".join(lines) + "\n"


def test_named_conditions_that_double_each_other_are_refused_in_bounded_time(
    tmp_path: Path,
) -> None:
    # 24 names: the rule's condition would hold 2^24 comparisons written out
    path = _policy(tmp_path, when="c0", extra=_chain(24))
    started = time.perf_counter()
    problems = _problems(path)
    assert time.perf_counter() - started < 5
    assert any(
        f"the condition holds more than {MAX_PARTS:,} parts once its named conditions are "
        "written out" in p
        for p in problems
    ), problems
    assert all("mine.toml:" in p for p in problems), problems


def test_a_named_condition_used_twice_is_parsed_once_and_within_bounds_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 12 names: 2^12 = 4,096 comparisons written out, under the bound
    path = _policy(tmp_path, when="c0", extra=_chain(11))
    calls = 0

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return parse(*args, **kwargs)

    monkeypatch.setattr(loader, "parse", counted)
    started = time.perf_counter()
    policy = load_policy(path)
    assert time.perf_counter() - started < 5
    # each name parsed once (107 parses in all, with the default policy's conditions),
    # where parsing each name at every use took 2^12 of them for the chain alone
    assert calls < 1_000, calls
    rule = next(r for r in policy.remedy_rules if r.id == "R-MINE")
    assert rule.when._size <= MAX_PARTS


def test_the_shipped_conditions_are_far_inside_the_bound() -> None:
    for name in ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9"):
        policy = load_policy(name)
        assert max(r.when._size for r in policy.remedy_rules) < MAX_PARTS // 100


# --------------------------------------------------------------------------- grammar


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("dpd > 90 # and quadrant == 'Q2'", "'#' is not allowed", id="comment"),
        pytest.param(
            "dpd > 90 and \\\n quadrant == 'Q2'", "a line continuation", id="continuation"
        ),
        pytest.param("dpd in {1, 2}", "a set (write a tuple", id="set"),
        pytest.param("dpd > 0x10", "'0x10': write a number in decimal digits", id="hex"),
        pytest.param("dpd > 1_000", "'1_000': write a number in decimal digits", id="underscore"),
        pytest.param(
            "ｄｐｄ > 3", "'ｄｐｄ': write a name in ASCII letters, as 'dpd'", id="fullwidth"
        ),
    ],
)
def test_what_python_reads_and_the_grammar_does_not_list_is_refused(
    text: str, expected: str
) -> None:
    with pytest.raises(ConditionError) as info:
        parse(text)
    assert expected in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["note == 'a # b'", 'note == "it\\"s # not"', "dpd > 3.5", "dpd > 1e3", "dpd > -5", "dpd > .5"],
)
def test_a_hash_in_a_string_and_plain_numbers_are_read(text: str) -> None:
    parse(text)


def test_a_comment_in_a_policy_condition_is_an_error_at_its_file_and_line(tmp_path: Path) -> None:
    path = _policy(tmp_path, when="dpd > 90 # and quadrant == 'Q2'")
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:10: remedies[R-MINE].when: '#' is not allowed")


# --------------------------------------------------------------------------- printed


@pytest.mark.parametrize(
    "version", ["1.0.0\\nerrors (0):\\nresult: 0 errors", "1.0.0#acfea6711ca4", "1.0@2", " 1.0"]
)
def test_a_version_that_would_print_as_another_reference_or_line_is_refused(
    tmp_path: Path, version: str
) -> None:
    (problem,) = _problems(_policy(tmp_path, version=version))
    assert f"{tmp_path / 'mine.toml'}:3: version: expected a version such as '1.0.0'" in problem


@pytest.mark.parametrize("version", ["1.0.0", "2026.05", "1.0.0-rc.1+build.7", "v3"])
def test_a_plain_version_is_read(tmp_path: Path, version: str) -> None:
    assert load_policy(_policy(tmp_path, version=version)).version == version


def test_an_extends_that_names_no_file_is_quoted_and_blamed_on_the_extending_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "child.toml"
    path.write_text(
        'extends = "a\\nresult: 0 errors, 0 warnings\\nb.toml"\nid = "c"\nversion = "1"\n',
        encoding="utf-8",
    )
    assert main(["check", str(path)]) != 0
    err = capsys.readouterr()
    printed = err.out + err.err
    assert "\nresult: 0 errors, 0 warnings\n" not in printed
    assert (
        f"{path}: extends: extends 'a\\nresult: 0 errors, 0 warnings\\nb.toml': no such file"
        in printed
    )
    typo = tmp_path / "typo.toml"
    typo.write_text('extends = "defualt"\nid = "t"\nversion = "1"\n', encoding="utf-8")
    (problem,) = _problems(typo)
    assert problem.startswith(f"{typo}: extends: extends 'defualt': no such file in")
    assert "(did you mean 'default'?)" in problem


# --------------------------------------------------------------------------- verifier


def _measured_layers(layers: int, rules: int, signals: int) -> str:
    """Two layers of rules comparing measured signals with thresholds, the second
    reading the first: the ways through them grow with the product of the thresholds."""
    text = 'schema_version = "1"\nid = "slow"\nversion = "1"\n'
    for i in range(signals):
        text += f'\n[signals.m{i}]\ndimension = "ability"\npolarity = "measured"\n'
        text += 'cites = ["A-ASSESS"]\n'
    for layer in range(layers):
        text += f'\n[[layers]]\nid = "l{layer}"\nvalues = ["a","b","c","d"]\ndefault = "a"\n'
        for r in range(rules):
            s = (layer * 7 + r) % signals
            prev = f" and l{layer - 1} == 'b'" if layer and r % 3 == 0 else ""
            text += (
                f'\n[[layers.rules]]\nid = "L{layer}-{r}"\nwhen = "m{s} < {r * 0.37 + layer:.2f}'
                f'{prev}"\nvalue = "{"bcd"[r % 3]}"\ncites = ["A-ASSESS"]\n'
            )
    text += '\n[[layers]]\nid = "quadrant"\nvalues = ["Q1","Q2","Q3","Q4"]\ndefault = "Q1"\n'
    for q in range(3):
        text += (
            f'\n[[layers.rules]]\nid = "Q-{q}"\nwhen = "l{layers - 1} == \'{"bcd"[q]}\'"\n'
            f'value = "Q{q + 2}"\ncites = ["Q1"]\n'
        )
    text += '\n[[remedies.rules]]\nid = "R-1"\neffect = "allow"\nremedy = "remind"\n'
    text += 'reason = "r"\ncites = ["Q1"]\n'
    return text


def test_the_verifier_stops_with_a_warning_before_its_memory_grows_without_bound(
    tmp_path: Path,
) -> None:
    # 3 KB: it took over 2.8 GB and ended in a segmentation fault
    path = tmp_path / "slow.toml"
    path.write_text(_measured_layers(2, 10, 10), encoding="utf-8")
    assert path.stat().st_size < 4_000
    started = time.perf_counter()
    report = verify(load_policy(path))
    assert time.perf_counter() - started < 60
    messages = [f.message for f in report.findings if f.kind.value == "unverified"]
    assert any("ways through the layers kept at once" in m for m in messages), messages


# --------------------------------------------------------------------------- names


def test_a_misspelt_override_of_a_base_parameter_is_an_error_of_check(tmp_path: Path) -> None:
    extra = (
        '\n[parameters.recovery_horizon_month]\nvalue = 12\ndoc = "meant to override the base"\n'
    )
    path = _policy(tmp_path, extra=extra)
    report = verify(load_policy(path))
    (error,) = [f for f in report.findings if f.severity.value == "error"]
    assert error.kind.value == "dead_parameter"
    assert error.message.endswith("(did you mean 'recovery_horizon_months'?)")
    # a new parameter of the policy's own, unused and like no base parameter, is a warning
    other = _policy(tmp_path, extra='\n[parameters.my_threshold]\nvalue = 3\ndoc = "d"\n')
    found = [f for f in verify(load_policy(other)).findings if f.kind.value == "dead_parameter"]
    assert [f.severity.value for f in found] == ["warning"]


def test_a_regulatory_class_cannot_take_the_id_of_a_remedy_rule(tmp_path: Path) -> None:
    path = tmp_path / "clash.toml"
    path.write_text(
        'extends = "default"\nid = "clash"\nversion = "1"\n\n'
        '[regulation.MINE]\nkind = "dpd_ladder"\ntitle = "mine"\nfact = "mine_class"\n'
        'cites = ["Q1"]\n\n'
        '[[regulation.MINE.classes]]\nvalue = "ok"\nlabel_en = "ok"\nlabel_zh = "好"\n'
        'rule = "R-Q1-GRACE"\nreason = "r"\ncites = ["Q1"]\n\n'
        '[[regulation.MINE.classes]]\nvalue = "late"\nlabel_en = "late"\nlabel_zh = "迟"\n'
        'rule = "MINE-LATE"\nover_dpd = 30\nreason = "r"\ncites = ["Q1"]\n',
        encoding="utf-8",
    )
    problems = _problems(path)
    assert any(
        "clash.toml:15: regulation.MINE.classes[0].rule: duplicate rule id 'R-Q1-GRACE': a "
        "layer or remedy rule has it" in p
        for p in problems
    ), problems
