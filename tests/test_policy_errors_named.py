"""A mistake in a policy is named where it is: the unknown name, the file and the line
that hold it, what was expected there, and the closest known name.

- a misspelt parameter compared with a field (``dpd > extension_max_dpdd``);
- an unknown top-level key in a base policy that another policy ``extends``;
- a rule id whose letters could print as another id (a Cyrillic 'А' among Latin ones).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from collectrules import ConditionError, PolicyError, load_policy, parse
from collectrules.conditions import FieldSpec, FieldType


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def line_holding(path: Path, text: str) -> int:
    """The 1-based number of the only line of ``path`` that holds ``text``."""
    [number] = [i for i, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line]
    return number


# --- a misspelt parameter in a condition ---------------------------------------------

LIMIT_POLICY = """\
schema_version = "1"
extends = "default"
id = "extension-limit"
version = "1.0.0"

[parameters.extension_max_dpd]
value = 90
doc = "No extension past this many days past due."

[[remedies.rules]]
id = "R-EXTENSION-LIMIT"
effect = "block"
remedies = ["extend"]
reason = "Past the extension limit."
when = "{when}"
"""


@pytest.mark.parametrize(
    "when",
    [
        "dpd > extension_max_dpdd",
        "extension_max_dpdd < dpd",
        "dpd >= extension_max_dpdd and promise_broken >= 1",
    ],
    ids=["parameter-right", "parameter-left", "inside-and"],
)
def test_a_misspelt_parameter_is_named_with_the_closest_parameter(
    tmp_path: Path, when: str
) -> None:
    path = write(tmp_path / "policy.toml", LIMIT_POLICY.format(when=when))
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    [problem] = info.value.problems
    assert (problem.source, problem.line) == (str(path), line_holding(path, "when ="))
    assert problem.path == "remedies[R-EXTENSION-LIMIT].when"
    assert problem.message.startswith("unknown name 'extension_max_dpdd': ")
    assert "neither a parameter of the policy nor a fact field" in problem.message
    assert "expected a constant or a parameter to compare 'dpd' with" in problem.message
    assert "another field" not in problem.message
    assert problem.suggestion == "extension_max_dpd"
    assert f"{path}:{problem.line}: " in str(info.value)
    assert "(did you mean 'extension_max_dpd'?)" in str(info.value)


def test_a_misspelt_parameter_in_a_named_condition_names_the_condition(
    tmp_path: Path,
) -> None:
    text = LIMIT_POLICY.format(when="past_limit") + (
        '\n[conditions.past_limit]\nwhen = "dpd > extension_max_dpdd"\n'
        'doc = "Past the extension limit."\n'
    )
    path = write(tmp_path / "policy.toml", text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    [problem] = [p for p in info.value.problems if p.path == "conditions.past_limit"]
    assert (problem.source, problem.line) == (str(path), line_holding(path, "[conditions."))
    assert problem.message.startswith("unknown name 'extension_max_dpdd': neither a parameter")
    assert problem.suggestion == "extension_max_dpd"
    # the rule that uses it says so too, at its own line
    [use] = [p for p in info.value.problems if p.path == "remedies[R-EXTENSION-LIMIT].when"]
    assert "named condition 'past_limit': unknown name 'extension_max_dpdd'" in use.message
    assert use.suggestion == "extension_max_dpd"


SCHEMA = {
    "dpd": FieldSpec("dpd", FieldType.INT),
    "promise_broken": FieldSpec("promise_broken", FieldType.INT),
}
PARAMS = {"extension_max_dpd": 90}


@pytest.mark.parametrize(
    ("text", "name", "suggestion", "column"),
    [
        ("dpd > extension_max_dpdd", "extension_max_dpdd", "extension_max_dpd", 7),
        ("extension_max_dpdd < dpd", "extension_max_dpdd", "extension_max_dpd", 1),
        ("dpd > promise_brokn", "promise_brokn", "promise_broken", 7),
        ("dpd > zzzz", "zzzz", None, 7),
    ],
)
def test_parse_names_an_unknown_name_compared_with_a_field(
    text: str, name: str, suggestion: str | None, column: int
) -> None:
    with pytest.raises(ConditionError) as info:
        parse(text, schema=SCHEMA, params=PARAMS)
    assert info.value.field == name
    assert info.value.suggestion == suggestion
    assert info.value.column == column
    assert info.value.reason.startswith(f"unknown name '{name}': neither a parameter")


def test_two_known_fields_are_still_refused_as_a_comparison_of_fields() -> None:
    with pytest.raises(ConditionError, match="not with another field"):
        parse("dpd > promise_broken", schema=SCHEMA, params=PARAMS)


def test_the_parameter_spelt_right_loads(tmp_path: Path) -> None:
    path = write(tmp_path / "policy.toml", LIMIT_POLICY.format(when="dpd > extension_max_dpd"))
    assert load_policy(path).remedy_rules[-1].id == "R-EXTENSION-LIMIT"


# --- an unknown key in a base policy ---------------------------------------------------

BASE = """\
schema_version = "1"
extends = "default"
id = "lender-base"
version = "1.0.0"
{extra}
[parameters.extension_max_dpd]
value = 90
doc = "No extension past this many days past due."
"""

CHILD = """\
schema_version = "1"
extends = "base.toml"
id = "lender-branch"
version = "1.0.0"
title = "A branch of the lender"
"""


@pytest.mark.parametrize(
    ("extra", "key", "found", "suggestion"),
    [
        ('titel = "The lender"\n', "titel", "titel =", "title"),
        ('descripton = "The lender"\n', "descripton", "descripton =", "description"),
        ("\n[paramters.horizon]\nvalue = 3\n", "paramters", "[paramters.horizon]", "parameters"),
    ],
    ids=["key", "another-key", "table"],
)
def test_an_unknown_key_of_a_base_policy_names_the_base_file_and_line(
    tmp_path: Path, extra: str, key: str, found: str, suggestion: str
) -> None:
    base = write(tmp_path / "base.toml", BASE.format(extra=extra))
    child = write(tmp_path / "child.toml", CHILD)
    with pytest.raises(PolicyError) as info:
        load_policy(child)
    [problem] = info.value.problems
    assert problem.path == key
    assert problem.message == "unknown key"
    assert (problem.source, problem.line) == (str(base), line_holding(base, found))
    assert problem.suggestion == suggestion
    assert str(info.value) == (
        f"{base}:{problem.line}: {key}: unknown key (did you mean '{suggestion}'?)"
    )


def test_an_unknown_key_of_a_table_of_a_base_policy_names_the_base_file(
    tmp_path: Path,
) -> None:
    base = write(tmp_path / "base.toml", BASE.format(extra='\n[remedies]\nconflikt = "block"\n'))
    child = write(tmp_path / "child.toml", CHILD)
    with pytest.raises(PolicyError) as info:
        load_policy(child)
    [problem] = info.value.problems
    assert problem.path == "remedies.conflikt"
    assert (problem.source, problem.line) == (str(base), line_holding(base, "conflikt ="))
    assert problem.suggestion == "conflict"


def test_an_unknown_key_of_the_policy_itself_names_its_own_file(tmp_path: Path) -> None:
    write(tmp_path / "base.toml", BASE.format(extra=""))
    child = write(tmp_path / "child.toml", CHILD + 'titel = "x"\n')
    with pytest.raises(PolicyError) as info:
        load_policy(child)
    [problem] = info.value.problems
    assert (problem.source, problem.line) == (str(child), line_holding(child, "titel ="))


def test_a_key_given_by_both_files_names_the_extending_file(tmp_path: Path) -> None:
    write(tmp_path / "base.toml", BASE.format(extra='titel = "base"\n'))
    child = write(tmp_path / "child.toml", CHILD + 'titel = "branch"\n')
    with pytest.raises(PolicyError) as info:
        load_policy(child)
    [problem] = info.value.problems
    assert (problem.source, problem.line) == (str(child), line_holding(child, "titel ="))


# --- rule ids that could print as another id -------------------------------------------

RULE = """\
extends = "default"
id = "lender"

[[remedies.rules]]
id = "{rid}"
effect = "block"
remedies = ["extend"]
when = "dpd > 3"
reason = "r"
"""


@pytest.mark.parametrize(
    ("rid", "said"),
    [
        ("R-Q2-\u0415XTEND", "mixes Latin and Cyrillic letters ('Е' is U+0415 CYRILLIC"),
        ("R-\u0410B", "mixes Latin and Cyrillic letters ('А' is U+0410 CYRILLIC CAPITAL"),
        ("R-Q2-EXTEND-\u0392", "mixes Latin and Greek letters ('Β' is U+0392 GREEK"),
        ("\u0410-LIMIT", "mixes Cyrillic and Latin letters ('L' is U+004C LATIN"),
        ("R-\uff32ULE", "U+FF32 FULLWIDTH LATIN CAPITAL LETTER R, which reads as 'R'"),
        ("R-\ufb01ne", "U+FB01 LATIN SMALL LIGATURE FI, which reads as 'fi'"),
        ("R-\u0661", "U+0661 ARABIC-INDIC DIGIT ONE"),
        ("R-Cafe\u0301", "U+0301 COMBINING ACUTE ACCENT, written apart from its letter"),
    ],
    ids=[
        "cyrillic-e",
        "cyrillic-a",
        "greek-beta",
        "cyrillic-first",
        "fullwidth",
        "ligature",
        "arabic-digit",
        "accent-apart",
    ],
)
def test_a_rule_id_that_could_print_as_another_is_refused_where_it_is_set(
    tmp_path: Path, rid: str, said: str
) -> None:
    path = write(tmp_path / "policy.toml", RULE.format(rid=rid))
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    [problem] = info.value.problems
    assert problem.path.startswith("remedies.rules[")
    assert problem.path.endswith("].id")
    assert (problem.source, problem.line) == (str(path), line_holding(path, f'id = "{rid}"'))
    assert problem.message.startswith(
        "expected a rule id such as 'R-Q2-EXTEND' whose letters are of one script (or Latin "
        "with Chinese, Japanese or Korean) and whose digits are 0-9, got "
    )
    assert said in problem.message
    assert f"{path}:{problem.line}: " in str(info.value)


def test_a_layer_rule_id_of_mixed_scripts_is_refused_too(tmp_path: Path) -> None:
    path = write(
        tmp_path / "policy.toml",
        'extends = "default"\nid = "lender"\n\n[[layers]]\nid = "quadrant"\n\n'
        '[[layers.rules]]\nid = "Q-\u0410"\nwhen = "dpd > 3"\nvalue = "Q1"\nreason = "r"\n',
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    [problem] = info.value.problems
    assert problem.path.startswith("layers[quadrant].rules[")
    assert (problem.source, problem.line) == (str(path), 8)
    assert "U+0410 CYRILLIC CAPITAL LETTER A" in problem.message


@pytest.mark.parametrize(
    "rid",
    [
        "R-LENDER-EXTEND",
        "R-Q2.x_1",
        "R-$and",
        "规则-1",
        "R-逾期-1",
        "ルール-1",
        "R-督促ルール",
        "규칙-R1",
        "R-Größe",
        "ПРАВИЛО-1",
        "Κανόνας-1",
    ],
)
def test_rule_ids_of_one_script_or_latin_with_cjk_still_load(tmp_path: Path, rid: str) -> None:
    path = write(tmp_path / "policy.toml", RULE.format(rid=rid))
    assert load_policy(path).remedy_rules[-1].id == rid
