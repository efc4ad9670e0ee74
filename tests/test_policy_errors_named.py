"""A mistake in a policy is named where it is: the unknown name, the file and the line
that hold it, what was expected there, and the closest known name.

- a misspelt parameter compared with a field (``dpd > extension_max_dpdd``) or with a
  constant (``extension_max_dpdd > 3``);
- an unknown key in a base policy that another policy ``extends``, at any depth
  (``titel``, ``[remedies] conflikt``, ``[timeline.deadlines.limitation] yeers``);
- a rule id whose letters could print as another id (a Cyrillic 'А' among Latin ones,
  or Cyrillic or Greek letters that all print as Latin ones: 'ВАТ' as 'BAT').
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectrules import ConditionError, PolicyError, load_policy, parse
from collectrules.conditions import FieldSpec, FieldType, Truth
from collectrules.errors import FieldProblem
from collectrules.policy import composition, policy_from_dict


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def the_problem(path: Path) -> tuple[FieldProblem, PolicyError]:
    """The one problem ``load_policy(path)`` refuses the policy for, and the error."""
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    [problem] = info.value.problems
    return problem, info.value


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
    problem, failure = the_problem(path)
    assert (problem.source, problem.line) == (str(path), line_holding(path, "when ="))
    assert problem.path == "remedies[R-EXTENSION-LIMIT].when"
    assert problem.message.startswith("unknown name 'extension_max_dpdd': ")
    assert "neither a parameter of the policy nor a fact field" in problem.message
    assert "expected a constant or a parameter to compare 'dpd' with" in problem.message
    assert "another field" not in problem.message
    assert problem.suggestion == "extension_max_dpd"
    assert f"{path}:{problem.line}: " in str(failure)
    assert "(did you mean 'extension_max_dpd'?)" in str(failure)


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


@pytest.mark.parametrize(
    ("when", "column"),
    [
        ("extension_max_dpdd > 3", 1),
        ("3 < extension_max_dpdd", 5),
        ("extension_max_dpdd in (30, 60)", 1),
        ("1 <= extension_max_dpdd <= 3", 6),
        ("dpd > 3 and extension_max_dpdd >= 3", 13),
    ],
    ids=["name-left", "name-right", "in", "range", "inside-and"],
)
def test_a_misspelt_parameter_compared_with_a_constant_is_named_as_neither(
    tmp_path: Path, when: str, column: int
) -> None:
    path = write(tmp_path / "policy.toml", LIMIT_POLICY.format(when=when))
    problem, failure = the_problem(path)
    assert (problem.source, problem.line) == (str(path), line_holding(path, "when ="))
    assert problem.path == "remedies[R-EXTENSION-LIMIT].when"
    assert problem.message == (
        "unknown name 'extension_max_dpdd': neither a fact field nor a parameter of the policy"
    )
    assert problem.suggestion == "extension_max_dpd"
    assert str(failure) == (
        f"{path}:{problem.line}: remedies[R-EXTENSION-LIMIT].when: unknown name "
        "'extension_max_dpdd': neither a fact field nor a parameter of the policy "
        "(did you mean 'extension_max_dpd'?)"
    )
    with pytest.raises(ConditionError) as parsed:
        parse(when, schema=SCHEMA, params=PARAMS)
    assert (parsed.value.field, parsed.value.column) == ("extension_max_dpdd", column)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("extension_max_dpdd > 3", "extension_max_dpd"),  # a parameter is closest
        ("promise_brokn >= 1", "promise_broken"),  # a field is closest
        ("dpdd > 3", "dpd"),
        ("zzzz > 3", None),
        ("impared > 3", None),  # a named condition is no value to compare
    ],
)
def test_a_name_compared_with_a_constant_suggests_the_closest_field_or_parameter(
    text: str, suggestion: str | None
) -> None:
    with pytest.raises(ConditionError) as info:
        parse(text, schema=SCHEMA, params=PARAMS, named={"impaired": Truth("promise_broken")})
    name = text.split()[0]
    assert info.value.reason == (
        f"unknown name '{name}': neither a fact field nor a parameter of the policy"
    )
    assert info.value.suggestion == suggestion


def test_a_parameter_compared_with_a_constant_is_named_as_a_parameter() -> None:
    for text in ("extension_max_dpd > 3", "3 < extension_max_dpd"):
        with pytest.raises(ConditionError) as info:
            parse(text, schema=SCHEMA, params=PARAMS)
        assert info.value.reason == (
            "a comparison needs a field on one side: 'extension_max_dpd' is a parameter of "
            "the policy, not a fact field"
        )
        assert info.value.suggestion is None


def test_an_unknown_name_standing_alone_is_still_an_unknown_field() -> None:
    with pytest.raises(ConditionError) as info:
        parse("promise_brokn", schema=SCHEMA, params=PARAMS)
    assert info.value.reason == "unknown field 'promise_brokn'"
    assert info.value.suggestion == "promise_broken"


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
    problem, failure = the_problem(child)
    assert problem.path == key
    assert problem.message == "unknown key"
    assert (problem.source, problem.line) == (str(base), line_holding(base, found))
    assert problem.suggestion == suggestion
    assert str(failure) == (
        f"{base}:{problem.line}: {key}: unknown key (did you mean '{suggestion}'?)"
    )


def test_an_unknown_key_of_a_table_of_a_base_policy_names_the_base_file(
    tmp_path: Path,
) -> None:
    base = write(tmp_path / "base.toml", BASE.format(extra='\n[remedies]\nconflikt = "block"\n'))
    child = write(tmp_path / "child.toml", CHILD)
    problem, _ = the_problem(child)
    assert problem.path == "remedies.conflikt"
    assert (problem.source, problem.line) == (str(base), line_holding(base, "conflikt ="))
    assert problem.suggestion == "conflict"


def test_an_unknown_key_of_the_policy_itself_names_its_own_file(tmp_path: Path) -> None:
    write(tmp_path / "base.toml", BASE.format(extra=""))
    child = write(tmp_path / "child.toml", CHILD + 'titel = "x"\n')
    problem, _ = the_problem(child)
    assert (problem.source, problem.line) == (str(child), line_holding(child, "titel ="))


def test_a_key_given_by_both_files_names_the_extending_file(tmp_path: Path) -> None:
    write(tmp_path / "base.toml", BASE.format(extra='titel = "base"\n'))
    child = write(tmp_path / "child.toml", CHILD + 'titel = "branch"\n')
    problem, _ = the_problem(child)
    assert (problem.source, problem.line) == (str(child), line_holding(child, "titel ="))


DEEP = [
    (
        "\n[timeline.deadlines.limitation]\nyeers = 3\n",
        "timeline.deadlines.limitation.yeers",
        "yeers =",
        None,
    ),
    (
        '\n[timeline.deadlines.limitation]\ninterupted_by = ["payment"]\n',
        "timeline.deadlines.limitation.interupted_by",
        "interupted_by =",
        "interrupted_by",
    ),
    (
        "\n[timeline.deadlines]\nextend_to_working_dy = false\n",
        "timeline.deadlines.extend_to_working_dy",
        "extend_to_working_dy =",
        "extend_to_working_day",
    ),
    (
        '\n[signals.promise_broken]\ndimension = "willingness"\npolarty = "negative"\n',
        "signals.promise_broken.polarty",
        "polarty =",
        "polarity",
    ),
]


@pytest.mark.parametrize(
    ("extra", "key", "found", "suggestion"),
    DEEP,
    ids=["deadline-key", "deadline-key-suggested", "deadlines-key", "signal-key"],
)
def test_an_unknown_key_deep_in_a_base_policy_names_the_base_file_and_line(
    tmp_path: Path, extra: str, key: str, found: str, suggestion: str | None
) -> None:
    base = write(tmp_path / "base.toml", BASE.format(extra=extra))
    child = write(tmp_path / "child.toml", CHILD)
    for loaded in (base, child):
        problem, failure = the_problem(loaded)
        assert problem.path == key
        assert problem.message == "unknown key"
        assert (problem.source, problem.line) == (str(base), line_holding(base, found))
        assert problem.suggestion == suggestion
        assert str(failure).startswith(f"{base}:{problem.line}: {key}: unknown key")


def test_an_unknown_key_of_a_table_named_by_its_key_in_a_base_names_the_base_line(
    tmp_path: Path,
) -> None:
    """A reduction's table is named by its key, not by an ``id = …`` line."""
    base = write(
        tmp_path / "base.toml",
        'extends = "cn_bank_loan"\nid = "lender-base"\n\n[money.reductions.hardship]\n'
        'remedy = "reduce"\nmax_share = "hardship_reduction_max_share"\n'
        'applies_to = ["fees"]\nreasn = "typo"\nreason = "r"\ncites = ["NPL-6M"]\n',
    )
    child = write(tmp_path / "child.toml", CHILD)
    for loaded in (base, child):
        problem, _ = the_problem(loaded)
        assert problem.path == "money.reductions.hardship.reasn"
        assert (problem.source, problem.line) == (str(base), line_holding(base, "reasn ="))
        assert problem.suggestion == "reason"


def test_an_unknown_key_deep_in_both_files_names_the_extending_file(tmp_path: Path) -> None:
    extra = "\n[timeline.deadlines.limitation]\nyeers = 3\n"
    write(tmp_path / "base.toml", BASE.format(extra=extra))
    child = write(tmp_path / "child.toml", CHILD + extra)
    problem, _ = the_problem(child)
    assert (problem.source, problem.line) == (str(child), line_holding(child, "yeers ="))


def test_an_unknown_key_deep_in_the_middle_of_a_chain_names_that_file(tmp_path: Path) -> None:
    middle = write(
        tmp_path / "base.toml",
        BASE.format(extra="\n[timeline.deadlines.limitation]\nyeers = 3\n").replace(
            'extends = "default"', 'extends = "root.toml"'
        ),
    )
    write(tmp_path / "root.toml", BASE.format(extra="").replace("lender-base", "lender-root"))
    child = write(tmp_path / "child.toml", CHILD)
    problem, _ = the_problem(child)
    assert (problem.source, problem.line) == (str(middle), line_holding(middle, "yeers ="))


def fake_loader(files: dict[str, dict[str, Any]]) -> composition.RawLoader:
    def load(ref: str, base_dir: Path | None) -> tuple[dict[str, Any], str, Path | None]:
        return files[ref], ref, None

    return load


def test_the_keys_of_a_table_shared_by_two_keys_are_the_extending_files() -> None:
    """A table given twice (one dict under two keys, or a YAML alias) is the extending
    file's under both, so no key of it is blamed on the base."""
    shared = {"k": 2}
    base = {"timeline": {"a": {"k": 1}, "b": {"k": 1}}, "other": {"deep": {"k": 1}}}
    child = {"extends": "base.toml", "timeline": {"a": shared, "b": shared}}
    resolved = composition.resolve(
        child, source="child.toml", base_dir=None, chain=(), loader=fake_loader({"base.toml": base})
    )
    # A key that no base file gives is the extending file's, named or not.
    assert resolved.key_sources.get("timeline.a.k", "child.toml") == "child.toml"
    assert resolved.key_sources.get("timeline.b.k", "child.toml") == "child.toml"
    assert resolved.key_sources["other.deep.k"] == "base.toml"


def test_keys_are_recorded_at_any_depth_and_a_table_that_holds_itself_once() -> None:
    looped: dict[str, Any] = {"k": 1}
    looped["again"] = looped
    child = {"extends": "base.toml", "x": looped}
    resolved = composition.resolve(
        child,
        source="child.toml",
        base_dir=None,
        chain=(),
        loader=fake_loader({"base.toml": {"x": {"again": {"k": 1}}, "y": {"a.b": {"c": 1}}}}),
    )
    assert resolved.key_sources["x.again"] == "child.toml"
    assert resolved.key_sources.get("x.again.k", "child.toml") == "child.toml"
    assert resolved.key_sources["y.a.b.c"] == "base.toml"  # a key that holds a dot


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
    problem = _refused_remedy_id(tmp_path, rid)
    assert problem.message.startswith(
        "expected a rule id such as 'R-Q2-EXTEND' whose letters are of one script (or Latin "
        "with Chinese, Japanese or Korean) and whose digits are 0-9, got "
    )
    assert said in problem.message


def test_a_layer_rule_id_of_mixed_scripts_is_refused_too(tmp_path: Path) -> None:
    problem = _refused_layer_rule(tmp_path, "Q-\u0410")
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
        "ΚΑΝΟΝΑΣ-Λ",
        "ПОРОГ-90",
        "Р-ПРАВИЛО",
    ],
)
def test_rule_ids_of_one_script_or_latin_with_cjk_still_load(tmp_path: Path, rid: str) -> None:
    path = write(tmp_path / "policy.toml", RULE.format(rid=rid))
    assert load_policy(path).remedy_rules[-1].id == rid


@pytest.mark.parametrize(
    ("rid", "latin", "said"),
    [
        ("\u0412\u0410\u0422", "BAT", "'\u0412' is U+0412 CYRILLIC CAPITAL LETTER VE"),
        ("\u0420\u041e\u0421", "POC", "'\u0420' is U+0420 CYRILLIC CAPITAL LETTER ER"),
        ("\u0391\u0392\u0395", "ABE", "'\u0391' is U+0391 GREEK CAPITAL LETTER ALPHA"),
        ("\u0391\u0412\u0395", "ABE", "'\u0391' is U+0391 GREEK CAPITAL LETTER ALPHA"),
        ("\u0440\u043e\u0441-1", "poc-1", "'\u0440' is U+0440 CYRILLIC SMALL LETTER ER"),
        ("\u0395\u03a7\u03a4-2.\u039f", "EXT-2.O", "'\u0395' is U+0395 GREEK CAPITAL LETTER"),
    ],
    ids=["cyrillic", "cyrillic-poc", "greek", "greek-and-cyrillic", "small", "with-digits"],
)
def test_a_rule_id_that_reads_as_a_latin_id_is_refused_where_it_is_set(
    tmp_path: Path, rid: str, latin: str, said: str
) -> None:
    problem = _refused_remedy_id(tmp_path, rid)
    assert problem.message.startswith(
        "expected a rule id such as 'R-Q2-EXTEND' whose letters are of one script (or Latin "
        "with Chinese, Japanese or Korean) and whose digits are 0-9, not one whose every "
        f"letter prints as a Latin one, got '{rid}', which reads as the Latin '{latin}' ("
    )
    assert said in problem.message


def test_a_layer_rule_id_that_reads_as_a_latin_id_is_refused_too(tmp_path: Path) -> None:
    problem = _refused_layer_rule(tmp_path, "\u0420-\u0410")
    assert "which reads as the Latin 'P-A'" in problem.message


#: Letters that print as Latin ones, and letters that print as none, of each script.
CYRILLIC_ALIKES = (
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425"
    "\u0430\u0435\u043e\u0440\u0441\u0445"
)
CYRILLIC_OWN = "\u0411\u0414\u0416\u0418\u041b\u041f\u0424\u0426\u0427\u0428\u042d\u042f"
GREEK_ALIKES = (
    "\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7\u03bf"
)
GREEK_OWN = "\u0393\u0394\u0398\u039b\u039e\u03a0\u03a3\u03a6\u03a8\u03a9"


def rule_policy(rid: str) -> dict[str, Any]:
    rule = {"id": rid, "effect": "block", "remedies": ["extend"], "when": "dpd > 3"}
    return {"extends": "default", "id": "lender", "remedies": {"rules": [{**rule, "reason": "r"}]}}


@st.composite
def written_with(draw: st.DrawFn, alikes: str, own: str = "") -> str:
    """An id of letters drawn from ``alikes`` (and one of ``own``, if given), with
    digits and separators among them."""
    parts = draw(st.lists(st.text(alikes, min_size=1, max_size=4), min_size=1, max_size=3))
    if own:
        at = draw(st.integers(0, len(parts) - 1))
        parts[at] += draw(st.sampled_from(own))
    digits = draw(st.sampled_from(["", "-1", "-90", ".2"]))
    return "-".join(parts) + digits


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(rid=st.one_of(written_with(CYRILLIC_ALIKES), written_with(GREEK_ALIKES)))
def test_ids_whose_letters_all_print_as_latin_ones_are_refused(rid: str) -> None:
    with pytest.raises(PolicyError) as info:
        policy_from_dict(rule_policy(rid))
    [problem] = info.value.problems
    assert "which reads as the Latin '" in problem.message
    first = next(c for c in rid if c.isalpha())
    assert f"{first!r} is U+{ord(first):04X} {unicodedata.name(first)}" in problem.message


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(
    rid=st.one_of(
        written_with(CYRILLIC_ALIKES, CYRILLIC_OWN), written_with(GREEK_ALIKES, GREEK_OWN)
    )
)
def test_ids_of_one_script_with_a_letter_of_its_own_load(rid: str) -> None:
    assert policy_from_dict(rule_policy(rid)).remedy_rules[-1].id == rid


def test_the_look_alike_table_holds_cyrillic_and_greek_letters_that_print_as_latin() -> None:
    from collectrules.policy import loader

    table: dict[int, str] = loader._AS_LATIN
    assert len(table) > 50
    for point, latin in table.items():
        char = chr(point)
        assert unicodedata.name(char).split()[0] in {"CYRILLIC", "GREEK"}
        assert unicodedata.category(char) in {"Lu", "Ll"}
        assert unicodedata.normalize("NFKC", char) == char  # NFKC's are refused before
        assert latin.isascii()
        assert latin.isalpha()
        assert len(latin) == 1
    for alike in CYRILLIC_ALIKES + GREEK_ALIKES:
        assert ord(alike) in table
    for own in CYRILLIC_OWN + GREEK_OWN:
        assert ord(own) not in table


def _refused_remedy_id(tmp_path: Path, rid: str) -> FieldProblem:
    """The one problem of a policy adding a remedy rule of id ``rid``: it is the id's,
    named at the id's file and line, and the error's text leads with that place."""
    path = write(tmp_path / "policy.toml", RULE.format(rid=rid))
    problem, failure = the_problem(path)
    assert problem.path.startswith("remedies.rules[")
    assert problem.path.endswith("].id")
    assert (problem.source, problem.line) == (str(path), line_holding(path, f'id = "{rid}"'))
    assert f"{path}:{problem.line}: " in str(failure)
    return problem


def _refused_layer_rule(tmp_path: Path, rid: str) -> FieldProblem:
    """The one problem of a policy adding a quadrant rule of id ``rid``: it is the id's,
    named at the id's file and line (8)."""
    path = write(
        tmp_path / "policy.toml",
        'extends = "default"\nid = "lender"\n\n[[layers]]\nid = "quadrant"\n\n'
        f'[[layers.rules]]\nid = "{rid}"\nwhen = "dpd > 3"\nvalue = "Q1"\nreason = "r"\n',
    )
    problem, _ = the_problem(path)
    assert problem.path.startswith("layers[quadrant].rules[")
    assert (problem.source, problem.line) == (str(path), 8)
    return problem


# --- a value of the wrong kind in a section's table ----------------------------------

WRONG_KIND = [
    ('[timeline]\ndeadlines = "x"\n', "timeline.deadlines", 'deadlines = "x"'),
    ("[timeline.plans]\nx = 5\n", "timeline.plans.x", "x = 5"),
    ("[money]\nreductions = 5\n", "money.reductions", "reductions = 5"),
    ("[regulation]\nfoo = 5\n", "regulation.foo", "foo = 5"),
    ("[guardrails]\npacks = 5\n", "guardrails.packs", "packs = 5"),
]


@pytest.mark.parametrize(("extra", "path", "found"), WRONG_KIND, ids=[w[1] for w in WRONG_KIND])
def test_a_value_of_the_wrong_kind_in_a_table_is_named_at_its_own_line(
    tmp_path: Path, extra: str, path: str, found: str
) -> None:
    policy = write(tmp_path / "policy.toml", BASE.format(extra="\n" + extra))
    with pytest.raises(PolicyError) as info:
        load_policy(policy)
    [problem] = [p for p in info.value.problems if p.path == path]
    assert (problem.source, problem.line) == (str(policy), line_holding(policy, found))


@pytest.mark.parametrize(("extra", "path", "found"), WRONG_KIND, ids=[w[1] for w in WRONG_KIND])
def test_a_value_of_the_wrong_kind_in_a_base_policy_is_named_at_the_base_line(
    tmp_path: Path, extra: str, path: str, found: str
) -> None:
    base = write(tmp_path / "base.toml", BASE.format(extra="\n" + extra))
    child = write(tmp_path / "child.toml", CHILD)
    with pytest.raises(PolicyError) as info:
        load_policy(child)
    [problem] = [p for p in info.value.problems if p.path == path]
    assert (problem.source, problem.line) == (str(base), line_holding(base, found))
