"""Policy files read only what they should: where ``extends`` may lead, which files are
read and how much, what errors may quote, and bounded work on hostile files."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from collectrules import PolicyError
from collectrules.cli import app
from collectrules.policy import load_policy
from collectrules.policy.composition import MAX_EXTENDS_DEPTH
from collectrules.policy.loader import MAX_POLICY_BYTES, policy_chain

CHILD = 'extends = "{base}"\nid = "child"\n'
BASE = 'extends = "default"\nid = "base"\n'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path, **kw: object) -> str:
    with pytest.raises(PolicyError) as info:
        load_policy(path, **kw)  # type: ignore[arg-type]
    return str(info.value)


# --------------------------------------------------------------------------- extends


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ", "~/.ssh/id_rsa"])
def test_an_absolute_extends_is_refused_before_it_is_opened(tmp_path: Path, target: str) -> None:
    child = write(tmp_path / "child.toml", CHILD.format(base=target))
    text = refused(child)
    assert "absolute path is refused" in text
    assert "root:" not in text


def test_an_absolute_extends_to_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    child = write(tmp_path / "child.toml", CHILD.format(base=str(fifo)))
    assert "absolute path is refused" in refused(child)


def test_a_dotdot_escape_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "outside.toml", BASE)
    child = write(tmp_path / "lender" / "child.toml", CHILD.format(base="../outside.toml"))
    assert "leads out of" in refused(child)
    # A ../ that stays inside the folder is a path like any other.
    write(tmp_path / "lender" / "sub" / "base.toml", BASE)
    inside = write(tmp_path / "lender" / "inside.toml", CHILD.format(base="sub/../sub/base.toml"))
    assert load_policy(inside).id == "child"


def test_a_symbolic_link_that_leads_out_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "secret" / "base.toml", BASE)
    (tmp_path / "lender").mkdir()
    (tmp_path / "lender" / "base.toml").symlink_to(tmp_path / "secret" / "base.toml")
    child = write(tmp_path / "lender" / "child.toml", CHILD.format(base="base.toml"))
    assert "leads out of" in refused(child)
    (tmp_path / "lender" / "zero.toml").symlink_to("/dev/zero")
    zero = write(tmp_path / "lender" / "zero_child.toml", CHILD.format(base="zero.toml"))
    assert "leads out of" in refused(zero)


def test_the_search_path_allows_a_folder_explicitly(tmp_path: Path) -> None:
    write(tmp_path / "shared" / "base.toml", BASE)
    child = write(tmp_path / "lender" / "child.toml", CHILD.format(base="base.toml"))
    assert "no such file" in refused(child)
    policy = load_policy(child, search_path=[tmp_path / "shared"])
    assert policy.id == "child"
    chain = policy_chain(child, search_path=[tmp_path / "shared"])
    assert [source for source, _ in chain][1:] == [
        str(tmp_path / "shared" / "base.toml"),
        "<default>",
    ]
    # Every command that takes a policy takes --policy-path.
    runner = CliRunner()
    assert runner.invoke(app, ["show", str(child)]).exit_code != 0
    shown = runner.invoke(app, ["show", str(child), "--policy-path", str(tmp_path / "shared")])
    assert shown.exit_code == 0, shown.output
    assert "base.toml" in shown.output
    checked = runner.invoke(app, ["check", str(child), "--policy-path", str(tmp_path / "shared")])
    assert "does not load" not in checked.output
    for command in ("decide", "explain", "batch", "timeline", "contact", "diff", "impact"):
        result = runner.invoke(app, [command, "--help"])
        assert "--policy-path" in result.output, command


def test_a_shipped_policy_extends_only_shipped_names(tmp_path: Path) -> None:
    from collectrules.policy import policy_from_dict

    write(tmp_path / "base.toml", BASE)
    with pytest.raises(PolicyError, match="needs the extending file's folder or a search path"):
        policy_from_dict({"extends": "base.toml", "id": "x"})
    assert policy_from_dict({"extends": "base.toml", "id": "x"}, search_path=[tmp_path]).id == "x"


# --------------------------------------------------------------------------- which files


def test_a_device_is_refused(tmp_path: Path) -> None:
    assert "not a regular file" in refused(Path("/dev/zero"))


def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    start = time.monotonic()
    assert "not a regular file" in refused(fifo)
    assert time.monotonic() - start < 5


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "folder.toml").mkdir()
    assert "not a regular file" in refused(tmp_path / "folder.toml")


def test_a_file_past_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_text(BASE + "#" * MAX_POLICY_BYTES, encoding="utf-8")
    assert f"larger than {MAX_POLICY_BYTES} bytes" in refused(big)


def test_each_file_of_the_chain_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collectrules.policy import loader

    rule = '[[remedies.rules]]\nid = "R-B"\neffect = "allow"\nremedy = "visit"\nreason = "r"\n'
    write(tmp_path / "base.toml", BASE + rule + 'when = "dpdd > 1"\n')
    child = write(tmp_path / "child.toml", CHILD.format(base="base.toml") + 'descripion = "x"\n')
    reads: list[str] = []
    real = loader._read_file

    def counting(path: Path, label: str) -> str:
        reads.append(label)
        return real(path, label)

    monkeypatch.setattr(loader, "_read_file", counting)
    with pytest.raises(PolicyError) as info:
        load_policy(child)
    # Both problems carry their file and line, and no file was read a second time.
    lines = {(p.source, p.line) for p in info.value.problems}
    assert (str(tmp_path / "base.toml"), 8) in lines
    assert (str(child), 3) in lines
    assert sorted(reads) == sorted({str(child), str(tmp_path / "base.toml")})


# --------------------------------------------------------------------------- no echo


def test_values_of_a_file_that_is_not_a_policy_are_never_quoted(tmp_path: Path) -> None:
    write(tmp_path / "creds.toml", 'PASSWORD = "SECRET"\nid = "SECRET-ID"\n')
    child = write(tmp_path / "child.toml", CHILD.format(base="creds.toml"))
    text = refused(child)
    assert "not a policy file" in text
    assert "SECRET" not in text
    assert "PASSWORD" not in text


def test_a_syntax_error_in_an_extended_file_says_where_not_what(tmp_path: Path) -> None:
    write(tmp_path / "creds.toml", "token = SECRET-VALUE\n")
    child = write(tmp_path / "child.toml", CHILD.format(base="creds.toml"))
    text = refused(child)
    assert "not a policy file" in text
    assert "line 1" in text
    assert "SECRET" not in text


def test_a_file_with_no_policy_key_at_all_is_not_quoted(tmp_path: Path) -> None:
    path = write(tmp_path / "env.toml", 'AWS_KEY = "SECRET"\nDB_PASSWORD = "SECRET2"\n')
    text = refused(path)
    assert "not a policy file" in text
    assert "SECRET" not in text
    assert "AWS_KEY" not in text


# --------------------------------------------------------------------------- bounded work


def test_yaml_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    lines = ['lol0: &l0 "lol"']
    for i in range(1, 10):
        refs = ", ".join(f"*l{i - 1}" for _ in range(10))
        lines.append(f"lol{i}: &l{i} [{refs}]")
    lines.append("id: laughs")
    path = write(tmp_path / "laughs.yaml", "\n".join(lines) + "\n")
    start = time.process_time()
    text = refused(path)
    assert time.process_time() - start < 5
    assert "YAML refused" in text


def test_deep_nesting_is_refused_in_every_format(tmp_path: Path) -> None:
    depth = 100_000
    files = {
        "deep.json": '{"id": "x", "notes": ' + "[" * depth + "]" * depth + "}",
        "deep.toml": 'id = "x"\nnotes = ' + "[" * depth + "]" * depth + "\n",
        "shallow.toml": 'id = "x"\nnotes = ' + "[" * 70 + "]" * 70 + "\n",
    }
    for name, text in files.items():
        message = refused(write(tmp_path / name, text))
        assert "nest" in message, name
    pytest.importorskip("yaml")
    yaml_text = "id: x\nnotes: " + "[" * depth + "]" * depth + "\n"
    assert "nest" in refused(write(tmp_path / "deep.yaml", yaml_text))


def test_twenty_thousand_unknown_keys_give_a_bounded_error(tmp_path: Path) -> None:
    lines = ['extends = "default"', 'id = "keys"'] + [f'k{i} = "v"' for i in range(20_000)]
    path = write(tmp_path / "keys.toml", "\n".join(lines) + "\n")
    start = time.process_time()
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert time.process_time() - start < 10
    problems = info.value.problems
    assert len(problems) == 51
    assert problems[-1].message == "and 19950 more problems, not listed"
    assert len(str(info.value)) < 10_000


def test_a_long_extends_chain_is_refused_with_the_chain(tmp_path: Path) -> None:
    write(tmp_path / "p0.toml", BASE.replace('"base"', '"p0"'))
    for i in range(1, 1000):
        write(tmp_path / f"p{i}.toml", f'extends = "p{i - 1}.toml"\nid = "p{i}"\n')
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "p999.toml")
    text = str(info.value)
    assert f"deeper than {MAX_EXTENDS_DEPTH} files" in text
    assert "p999.toml -> " in text
    # Just within the bound, it loads.
    assert (
        load_policy(tmp_path / f"p{MAX_EXTENDS_DEPTH - 1}.toml").id == f"p{MAX_EXTENDS_DEPTH - 1}"
    )


def test_a_cycle_is_refused_with_the_chain(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", 'extends = "b.toml"\nid = "a"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\nid = "b"\n')
    text = refused(tmp_path / "a.toml")
    assert "extends cycle" in text
    assert "a.toml -> " in text
    assert "b.toml" in text


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_a_policy_file_whose_name_is_not_utf8_decides(tmp_path: Path, backend: str) -> None:
    """A Latin-1 name (the byte 0xE9, a lone surrogate in Python) is named with an
    escape where a decision's trace names the file; building the engine raised
    UnicodeEncodeError (hashing the rules' origins), and no decision could be written."""
    from collectrules import Case, Engine

    folder = tmp_path / "r\udce9gles"  # the folder of the file extended, named so too
    folder.mkdir()
    (folder / "base.toml").write_text(
        'extends = "default"\nid = "base"\nversion = "1"\n', encoding="utf-8"
    )
    path = folder / "pol\udce9.toml"
    path.write_text(
        'extends = "base.toml"\nid = "latin"\nversion = "1"\n\n'
        '[[remedies.rules]]\nid = "R-ALWAYS-NEGOTIATE"\neffect = "allow"\n'
        'remedies = ["negotiate"]\nwhen = "dpd >= 0"\nreason = "Talk."\ncites = ["Q1"]\n',
        encoding="utf-8",
    )
    policy = load_policy(path)
    assert policy.source == str(path)  # the path, to find the files it names
    named = str(tmp_path / "r\\xe9gles" / "pol\\xe9.toml")
    assert policy.remedy_rules[-1].origin == named
    engine = Engine(policy, backend=backend)
    case = Case.from_dict(
        {"case_id": "A", "product": "loan", "currency": "CNY", "principal": "1000",
         "overdue_amount": "100", "due_date": "2026-03-31", "timezone": "Asia/Shanghai"}
    )  # fmt: skip
    decision = engine.decide(case, as_of="2026-04-03T12:00:00+08:00")
    fired = [e for e in decision.trace if e.rule_id == "R-ALWAYS-NEGOTIATE"]
    assert [e.origin for e in fired] == [named]
    written = json.loads(decision.to_json_bytes())
    assert [e["origin"] for e in written["trace"] if e["rule_id"] == "R-ALWAYS-NEGOTIATE"] == [
        named
    ]


_SURROGATE_MESSAGE = "text UTF-8 cannot hold (a lone surrogate, such as the escape \\udcff)"


@pytest.mark.parametrize(
    ("name", "text", "path"),
    [
        (
            "title.json",
            '{"extends": "default", "id": "x", "version": "1", "title": "a\\udcff"}',
            "title",
        ),
        ("title.yaml", 'extends: default\nid: x\nversion: "1"\ntitle: "a\\udcff"\n', "title"),
        (
            "key.json",
            '{"extends": "default", "id": "x", "version": "1", "remedies": {"rules": [{"id": "R-X",'
            ' "effect": "allow", "remedies": ["negotiate"], "when": "dpd >= 0", "reason": "ok",'
            ' "cites": ["Q1"], "\\udcffkey": 1}]}}',
            "remedies.rules[0]['\\udcffkey']",
        ),
    ],
    ids=["JSON value", "YAML value", "JSON key"],
)
def test_an_escaped_lone_surrogate_in_a_policy_file_is_a_policy_error(
    tmp_path: Path, name: str, text: str, path: str
) -> None:
    """JSON and YAML can spell a lone surrogate as an escape; loading such a file raised
    UnicodeEncodeError (hashing the policy's content), not a PolicyError."""
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(file)
    (problem,) = caught.value.problems
    assert (problem.path, problem.source) == (path, str(file))
    assert problem.message.startswith(_SURROGATE_MESSAGE)
    # Reached by extends, the file is refused without saying what it holds.
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{name}"\nid = "y"\nversion = "1"\n', encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(child)
    assert "it holds text UTF-8 cannot hold" in str(caught.value)
    assert "udcff" not in str(caught.value)


def test_policy_from_dict_refuses_a_lone_surrogate_by_its_path() -> None:
    from collectrules.policy import policy_from_dict

    rule = {"id": "R-X", "effect": "allow", "remedies": ["negotiate"], "when": "dpd >= 0",
            "reason": "a\udcff", "cites": ["Q1"]}  # fmt: skip
    data = {"extends": "default", "id": "x", "version": "1", "remedies": {"rules": [rule]}}
    with pytest.raises(PolicyError) as caught:
        policy_from_dict(data)
    (problem,) = caught.value.problems
    assert problem.path == "remedies.rules[0].reason"
    assert problem.message.startswith(_SURROGATE_MESSAGE)


def test_the_text_check_ends_on_data_that_holds_itself_or_repeats() -> None:
    """The walk looking for such texts visits each list once: a list holding itself, or
    one list in 2**40 places, is refused by the notes' own check, as before the walk
    (a walk without that never ended)."""
    from collectrules.policy import policy_from_dict

    looped: list[Any] = []
    looped.append(looped)
    repeated: list[Any] = ["a\udcff"]
    for _ in range(40):
        repeated = [repeated, repeated]
    for notes, path in ((looped, ".notes"), (repeated, "notes" + "[0]" * 41)):
        data = {"extends": "default", "id": "x", "version": "1", "notes": notes}
        with pytest.raises(PolicyError) as caught:
            policy_from_dict(data)
        assert caught.value.problems[0].path == path
