"""Golden cases that check rules fired with their citations, facts, timeline steps,
guardrail verdicts and obligations, on one back end or both."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

HEAD = """\
policy = "default"
as_of = 2026-04-03T12:00:00+08:00
backend = "both"
"""

THREAT_INPUT = """
[cases.input]
product = "loan"
currency = "CNY"
principal = "100000.00"
overdue_amount = "20000.00"
due_date = 2026-03-20
timezone = "Asia/Shanghai"
signals = [{ kind = "refused_to_pay", observed_at = 2026-04-01T10:00:00+08:00 }]
events = [
  { kind = "threat_to_staff", at = 2026-04-02T15:00:00+08:00, staff = "wang" },
  { kind = "visit_arranged", at = 2026-04-03T09:00:00+08:00 },
]
"""

THREAT = (
    HEAD
    + """
[[cases]]
id = "threat"
fired = { R-E-THREAT-NO-VISIT = ["E-THREAT", "CH-VISIT", "CONDUCT"] }
facts = { emergency_open = true, emergency_kind = "threat_to_staff" }
obligations = { "E-THREAT-VISITS" = { effect = "obligation", cites = ["E-THREAT", "E-RESPONSE"] } }

[cases.steps."threat_to_staff:E-REPORT"]
status = "late"
cites = ["E-RESPONSE", "E-THREAT", "CONDUCT"]
"""
    + THREAT_INPUT
    + """
[[cases.contacts]]
channel = "visit"
at = 2026-04-03T15:00:00+08:00
staff = "wang"
allowed = false
blocked_by = ["E-THREAT-VISITS"]
reasons = { "E-THREAT-VISITS" = "block" }
cites = { "E-THREAT-VISITS" = ["E-THREAT", "E-RESPONSE"] }

[[cases.contacts]]
channel = "visit"
at = 2026-04-03T15:00:00+08:00
staff = "li"
blocked_by = ["E-THREAT-VISITS"]
allowed = false
reasons = { "CH-VISIT-ARRANGED" = "allow", "E-THREAT-VISITS" = "block" }
"""
)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--strict-markers", *args
    )


def test_every_check_holds_on_both_back_ends(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", golden_threat=THREAT)
    result = run(pytester, "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*golden_threat.toml::threat?python? PASSED*",
                                 "*golden_threat.toml::threat?durable? PASSED*"])  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '["E-THREAT", "CH-VISIT", "CONDUCT"]',
            '["E-THREAT"]',
            "R-E-THREAT-NO-VISIT: expected cites [E-THREAT], got [E-THREAT, CH-VISIT, CONDUCT]",
        ),
        ("R-E-THREAT-NO-VISIT =", "R-E-LITIGATION-HOLD =", "R-E-LITIGATION-HOLD: expected to fire"),
        (
            'emergency_kind = "threat_to_staff"',
            'emergency_kind = "absconded"',
            "fact emergency_kind",
        ),
        ('status = "late"', 'status = "done"', "step threat_to_staff:E-REPORT: expected done"),
        (
            'blocked_by = ["E-THREAT-VISITS"]\nallowed = false',
            "allowed = true",
            "expected allowed, got blocked by E-THREAT-VISITS",
        ),
        (
            '"E-THREAT-VISITS" = ["E-THREAT", "E-RESPONSE"] }',
            '"E-THREAT-VISITS" = ["E-THREAT"] }',
            "E-THREAT-VISITS: expected cites [E-THREAT], got [E-THREAT, E-RESPONSE]",
        ),
        ('effect = "obligation"', 'effect = "allow"', "obligation E-THREAT-VISITS: expected allow"),
    ],
)
def test_a_changed_outcome_or_citation_fails_and_says_what(
    pytester: pytest.Pytester, old: str, new: str, message: str
) -> None:
    assert old in THREAT
    pytester.makefile(".toml", golden_threat=THREAT.replace(old, new, 1))
    result = run(pytester)
    result.assert_outcomes(failed=2)
    assert result.stdout.str().count(message) >= 2  # each back end says it


def test_update_rewrites_remedies_but_never_hides_a_failed_check(
    pytester: pytest.Pytester,
) -> None:
    text = THREAT.replace('id = "threat"\n', 'id = "threat"\nquadrant = "Q1"\n').replace(
        'status = "late"', 'status = "done"'
    )
    path = pytester.makefile(".toml", golden_threat=text)
    result = run(pytester, "--collectrules-update")
    result.assert_outcomes(failed=2)
    assert "step threat_to_staff:E-REPORT: expected done" in result.stdout.str()
    written = path.read_text(encoding="utf-8")
    assert 'quadrant = "Q3"' in written
    assert 'status = "done"' in written  # a check is the author's to change, never rewritten


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ('facts = "x"', "facts: expected a table"),
        ('fired = { R-X = "E-THREAT" }', "fired.R-X: expected a list of strings"),
        ('steps = { L-DUE = { state = "open" } }', "unknown key 'state' (did you mean 'status'?)"),
        (
            '[[cases.contacts]]\nchannel = "visit"\nat = 2026-04-03T15:00:00+08:00\n'
            'allowed = false\nblocked_by = ["CH-VISIT-ARANGED"]',
            "no guardrail rule 'CH-VISIT-ARANGED' in policy 'default' (did you mean "
            "'CH-VISIT-ARRANGED'?)",
        ),
        (
            '[[cases.contacts]]\nchannel = "pigeon"\nat = 2026-04-03T15:00:00+08:00\n'
            "allowed = true",
            "pigeon",
        ),
        ('[[cases.contacts]]\nchannel = "visit"\nallowed = true', "missing required key 'at'"),
        (
            '[[cases.contacts]]\nchannel = "visit"\nat = 2026-04-03T15:00:00+08:00\n'
            'allowed = true\nstaf = "wang"',
            "unknown key 'staf' (did you mean 'staff'?)",
        ),
        (
            'obligations = { CARD-CREDIT-BUREAU = { effect = "due" } }',
            "effect: expected one of",
        ),
    ],
)
def test_a_bad_check_fails_collection_naming_the_case_and_key(
    pytester: pytest.Pytester, case: str, message: str
) -> None:
    body = HEAD + '\n[[cases]]\nid = "bad"\nquadrant = "Q3"\n'
    if case.startswith("[[cases.contacts]]"):
        text = body + THREAT_INPUT + "\n" + case + "\n"
    else:
        text = body + case + "\n" + THREAT_INPUT
    pytester.makefile(".toml", golden_bad=text)
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*golden_bad.toml: case 'bad': *"])
    assert message in result.stdout.str()


def test_a_case_with_only_checks_expects_something(pytester: pytest.Pytester) -> None:
    text = HEAD.replace('"both"', '"python"') + textwrap.dedent(
        """
        [[cases]]
        id = "only-facts"
        facts = { emergency_open = true }
        """
    ) + THREAT_INPUT  # fmt: skip
    pytester.makefile(".toml", golden_facts=text)
    run(pytester, "-v").assert_outcomes(passed=1)
