"""The pytest plugin: golden-case files become test items, one per case.

Installed with collectrules, it is registered under the ``pytest11`` entry point
``collectrules``, so pytest loads it in every run; ``-p no:collectrules`` turns it off.
It collects only files whose names match the ``collectrules_golden`` ini option
(default: ``golden_*.toml golden_*.json``) in the directories pytest walks. Every other
file is left alone.

A golden file names a policy (a shipped name, or a path relative to the file; like an
``input`` path, it must stay inside the file's folder or pytest's rootdir), an
``as_of`` instant, and a list of cases, each with an ``id``, an ``input`` case and the
expected ``quadrant``, ``allows`` and ``blocks``::

    policy = "policy.toml"
    as_of = 2026-04-03T12:00:00+08:00

    [[cases]]
    id = "refuses-to-pay"
    quadrant = "Q3"
    allows = ["litigate"]
    blocks = ["extend"]

    [cases.input]
    product = "loan"
    …

A case may also check the rules that fired with their citations (``fired``), facts
(``facts``), the steps of its timeline (``steps``), the guardrails' verdict on
planned contacts (``contacts``) and the guardrails' obligations (``obligations``):
see :mod:`collectrules.testing._golden_checks`. With ``backend = "both"`` each case
runs on both back ends, as ``<case id>[python]`` and ``<case id>[durable]``.

A failing item is reported as ``<file>::<case id>`` with the unmet expectations and
the trace of the rules that fired. After review, ``pytest --collectrules-update``
rewrites, in place, the expectations of the cases that no longer hold (see
:func:`collectrules.authoring.golden.updated_expectation`), and reports each file it
changed; those cases pass in that run. ``collectrules golden`` writes a new file from
current decisions.

The plugin is loaded in every pytest run of the environment, so it imports nothing
heavy at load time: the engine, the policy loader and ``tomlkit`` are imported when a
golden file is collected or updated. A malformed file (a misspelt key, an unknown remedy,
a policy that does not load, two cases with one id) fails collection with a message
that names the file and the case.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from collectrules.errors import CollectRulesError, quote

if TYPE_CHECKING:
    from collectrules.policy import Policy
    from collectrules.testing._golden_checks import Checks
    from collectrules.testing.assertions import Expectation

__all__ = [
    "DEFAULT_PATTERNS",
    "GoldenCase",
    "GoldenFile",
    "GoldenFileError",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_configure",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
]

#: The file names collected by default.
DEFAULT_PATTERNS = ("golden_*.toml", "golden_*.json")

_FILE_KEYS = ("policy", "as_of", "backend", "description", "cases")
_CASE_KEYS = (
    "id",
    "description",
    "as_of",
    "input",
    "quadrant",
    "allows",
    "blocks",
    "fired",
    "facts",
    "steps",
    "contacts",
    "obligations",
)
_EXPECTS = ("quadrant", "allows", "blocks", "fired", "facts", "steps", "contacts", "obligations")
_INI = "collectrules_golden"
_MARK = "collectrules_golden"
_UPDATE = "--collectrules-update"
_UPDATES = pytest.StashKey[dict[Path, dict[str, dict[str, Any]]]]()


def _expects(value: object) -> bool:
    """Whether an expectation key's value expects anything: an empty list or table (say
    ``allows = []``) does not, and a case holding only such keys would pass whatever its
    decision."""
    return not (isinstance(value, list | dict) and not value)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``collectrules_golden`` ini option and ``--collectrules-update``."""
    parser.getgroup("collectrules").addoption(
        _UPDATE,
        action="store_true",
        default=False,
        help="rewrite the expectations of golden cases that no longer hold to the current "
        "decisions, in place (review the diff before committing it)",
    )
    parser.addini(
        _INI,
        type="args",
        default=list(DEFAULT_PATTERNS),
        help="file name patterns of collectrules golden-case files "
        f"(default: {' '.join(DEFAULT_PATTERNS)}); empty to collect none",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker every golden case carries."""
    config.addinivalue_line("markers", f"{_MARK}: a golden case of a collectrules policy")
    config.stash[_UPDATES] = {}


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With ``--collectrules-update``, write the collected updates to their files."""
    updates = session.config.stash.get(_UPDATES, {})
    if not updates:
        return
    from collectrules.authoring.golden import update_file

    for path, cases in sorted(updates.items()):
        update_file(path, cases)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Name each golden file that ``--collectrules-update`` rewrote, and its cases."""
    updates = config.stash.get(_UPDATES, {})
    if not updates:
        return
    terminalreporter.section("collectrules golden files updated")
    for path, cases in sorted(updates.items()):
        terminalreporter.write_line(f"{path}: {', '.join(cases)}")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> GoldenFile | None:
    """Collect ``file_path`` when its name matches a golden-file pattern."""
    patterns = parent.config.getini(_INI)
    if any(fnmatch.fnmatchcase(file_path.name, p) for p in patterns):
        file: GoldenFile = GoldenFile.from_parent(parent, path=file_path)
        return file
    return None


class GoldenFileError(CollectRulesError, ValueError):
    """A golden file that cannot be read; pytest reports it as a collection error."""


def _did_you_mean(name: str, known: tuple[str, ...]) -> str:
    from collectrules.errors import did_you_mean

    hint = did_you_mean(name, known)
    return f" (did you mean {quote(hint)}?)" if hint else ""


class GoldenFile(pytest.File):
    """A golden-case file: its policy, its ``as_of``, and one item per case."""

    def collect(self) -> Iterator[GoldenCase]:
        """Read the file and yield one :class:`GoldenCase` per case."""
        try:
            data, text = self._read()
            yield from self._cases(data, text)
        except GoldenFileError as exc:
            raise self.CollectError(f"{self.path}: {exc}") from None

    def _read(self) -> tuple[dict[str, Any], str]:
        # read only when a file is collected: the plugin loads in every pytest run
        from collectrules import _json as strict_json
        from collectrules._files import MAX_GOLDEN_BYTES, UnreadableFile, read_small_file

        try:
            text = read_small_file(self.path, MAX_GOLDEN_BYTES).decode("utf-8")
        except UnreadableFile as exc:
            raise GoldenFileError(f"cannot read: {exc.reason}") from None
        except UnicodeDecodeError as exc:
            raise GoldenFileError(f"not UTF-8 text (byte {exc.start})") from None
        try:
            is_json = self.path.suffix.lower() == ".json"
            data = strict_json.loads(text) if is_json else tomllib.loads(text)
        except strict_json.RepeatedKeyError as exc:
            raise GoldenFileError(str(exc)) from None
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise GoldenFileError(f"syntax error: {exc}") from None
        except RecursionError:
            raise GoldenFileError("syntax error: nested too deep to read") from None
        except ValueError:  # a TOML integer of more digits than Python reads as a number
            raise GoldenFileError(_TOO_LONG_NUMBER) from None
        if not isinstance(data, dict):
            raise GoldenFileError("expected a table (an object) at the top level")
        return data, text

    def _cases(self, data: Mapping[str, Any], text: str) -> Iterator[GoldenCase]:
        from collectrules._arguments import is_utf8
        from collectrules.testing._golden_checks import GoldenCheckError, parse_checks
        from collectrules.testing.assertions import Expectation

        problems = [
            f"unknown key {quote(key)}{_did_you_mean(key, _FILE_KEYS)}"
            for key in data
            if key not in _FILE_KEYS
        ]
        for key in ("policy", "as_of", "cases"):
            if key not in data:
                problems.append(f"missing required key {quote(key)}")
        if problems:
            raise GoldenFileError("; ".join(problems))
        policy = self._policy(data["policy"])
        backend = data.get("backend", "python")
        if backend not in ("python", "durable", "both"):
            raise GoldenFileError(
                f"backend: expected 'python', 'durable' or 'both', got {quote(backend)}"
            )
        backends = ("python", "durable") if backend == "both" else (backend,)
        as_of = _instant(data["as_of"], "as_of")
        cases = data["cases"]
        if not isinstance(cases, list) or not cases:
            raise GoldenFileError("cases: expected a non-empty list of cases ([[cases]])")
        seen: set[str] = set()
        lines = _case_id_lines(text)
        for index, case in enumerate(cases):
            if not isinstance(case, Mapping):
                raise GoldenFileError(f"cases[{index}]: expected a table")
            case_id = case.get("id")
            where = f"cases[{index}]" if not isinstance(case_id, str) else f"case {quote(case_id)}"
            if not isinstance(case_id, str) or not case_id.strip():
                raise GoldenFileError(f"{where}: missing 'id' (a non-empty string)")
            if not is_utf8(case_id):  # a JSON escape such as "\ud800": no test id holds it
                raise GoldenFileError(
                    f"cases[{index}].id: expected a text UTF-8 can hold, got {quote(case_id)} "
                    "(a lone surrogate)"
                )
            if case_id in seen:
                raise GoldenFileError(f"{where}: duplicate case id")
            seen.add(case_id)
            unknown = [
                f"unknown key {quote(key)}{_did_you_mean(key, _CASE_KEYS)}"
                for key in case
                if key not in _CASE_KEYS
            ]
            if unknown:
                raise GoldenFileError(f"{where}: {'; '.join(unknown)}")
            if not any(_expects(case[key]) for key in _EXPECTS if key in case):
                raise GoldenFileError(
                    f"{where}: expects nothing; give quadrant, allows, blocks, fired, facts, "
                    "steps, contacts or obligations (an empty list or table expects nothing)"
                )
            allows = _names(case.get("allows", []), "allows", where)
            blocks = _names(case.get("blocks", []), "blocks", where)
            try:
                expectation = Expectation(
                    quadrant=case.get("quadrant"), allows=allows, blocks=blocks
                )
                expectation.check(policy.remedies)
                checks = parse_checks(case, policy)
            except (CollectRulesError, GoldenCheckError) as exc:
                raise GoldenFileError(f"{where}: {exc}") from None
            case_as_of = _instant(case["as_of"], f"{where}: as_of") if "as_of" in case else as_of
            data = self._input(case.get("input"), where, case_id)
            for name in backends:
                item: GoldenCase = GoldenCase.from_parent(
                    self,
                    name=case_id if len(backends) == 1 else f"{case_id}[{name}]",
                    case_id=case_id,
                    policy=policy,
                    backend=name,
                    as_of=case_as_of,
                    data=data,
                    expectation=expectation,
                    checks=checks,
                    line=lines.get(case_id, 0),
                    stated={k: case[k] for k in ("quadrant", "allows", "blocks") if k in case},
                )
                item.add_marker(_MARK)
                yield item

    def _policy(self, ref: object) -> Policy:
        from collectrules.errors import did_you_mean
        from collectrules.policy.loader import available_policies, is_shipped_name
        from collectrules.testing._policies import resolve_policy

        if not isinstance(ref, str) or not ref:
            raise GoldenFileError("policy: expected a shipped policy name or a path")
        if is_shipped_name(ref):  # the shipped policy, whatever files lie about
            target: str | Path = ref
        else:
            target = self._confined(ref, f"policy {quote(ref)}")
            if not _is_file(target) and "/" not in ref and "\\" not in ref:
                known = available_policies()
                hint = did_you_mean(ref, known)
                also = f" (did you mean {quote(hint)}?)" if hint else ""
                raise GoldenFileError(
                    f"policy {quote(ref)}: no shipped policy named {quote(ref)} and no such file "
                    f"beside the golden file{also}; shipped: {', '.join(known)}"
                )
        try:
            return resolve_policy(target)
        except CollectRulesError as exc:
            raise GoldenFileError(f"policy {quote(ref)}: {exc}") from None

    def _confined(self, ref: str, what: str) -> Path:
        """The file that ``ref`` names, relative to this golden file's folder.

        As ``extends`` is for a policy file, it must stay inside that folder or inside
        pytest's rootdir (the project being tested): an absolute path, a ``~``, a
        drive letter, or a ``../`` or symbolic link that leads out of both is refused
        before anything is opened. The check is on the resolved path.
        """
        from collectrules._arguments import fs_encodable

        if "\x00" in ref or not fs_encodable(ref):
            raise GoldenFileError(f"{what}: not a valid file name (a NUL or a lone surrogate)")
        if (
            Path(ref).is_absolute()
            or ref.startswith(("~", "/", "\\"))
            or re.match(r"^[A-Za-z]:", ref)
        ):
            raise GoldenFileError(
                f"{what}: an absolute path is refused; name a file relative to the golden "
                "file, inside its folder or the project's rootdir"
            )
        folder = self.path.parent
        try:
            target = (folder / ref).resolve()
            roots = (folder.resolve(), Path(self.config.rootpath).resolve())
        except (OSError, RuntimeError):  # a name too long, a loop of symbolic links
            raise GoldenFileError(f"{what}: cannot be resolved to a file") from None
        if not any(target.is_relative_to(root) for root in roots):
            raise GoldenFileError(
                f"{what}: the path leads out of the golden file's folder and the project's "
                f"rootdir ({self.config.rootpath}), and is refused"
            )
        return target

    def _input(self, value: object, where: str, case_id: str) -> dict[str, Any]:
        from collectrules import _json as strict_json
        from collectrules._files import MAX_SMALL_FILE_BYTES, UnreadableFile, read_small_file

        if isinstance(value, str):
            path = self._confined(value, f"{where}: input {quote(value)}")
            try:
                loaded = strict_json.loads(
                    read_small_file(path, MAX_SMALL_FILE_BYTES).decode("utf-8")
                )
            except strict_json.RepeatedKeyError as exc:
                raise GoldenFileError(f"{where}: input {quote(value)}: {exc}") from None
            except UnreadableFile as exc:
                raise GoldenFileError(f"{where}: input {quote(value)}: {exc.reason}") from None
            except UnicodeDecodeError as exc:
                msg = f"{where}: input {quote(value)}: not UTF-8 text (byte {exc.start})"
                raise GoldenFileError(msg) from None
            except json.JSONDecodeError as exc:
                raise GoldenFileError(
                    f"{where}: input {quote(value)}: invalid JSON: {exc}"
                ) from None
            except RecursionError:
                msg = f"{where}: input {quote(value)}: invalid JSON: nested too deep to read"
                raise GoldenFileError(msg) from None
            value = loaded
        if not isinstance(value, Mapping):
            raise GoldenFileError(
                f"{where}: 'input' must be a table (the case) or the path of a JSON case file"
            )
        data = dict(value)
        data.setdefault("case_id", case_id)
        return data


#: What a golden file holding a number too long to read is told.
_TOO_LONG_NUMBER = "syntax error: a number with more digits than can be read"


def _is_file(path: Path) -> bool:
    """Whether ``path`` names a regular file; a path the file system refuses (a name
    longer than it allows, a folder that cannot be searched) names none."""
    try:
        return path.is_file()
    except OSError:
        return False


def _names(value: object, key: str, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GoldenFileError(f"{where}: {key}: expected a list of remedy names")
    return list(value)


def _instant(value: object, where: str) -> dt.datetime:
    from collectrules.model.time import require_aware

    try:
        return require_aware(value)
    except CollectRulesError as exc:
        raise GoldenFileError(f"{where}: {exc}") from None


#: A case id as a golden file gives it: ``id = "C-1"``, ``"id": "C-1"``, ``id = 'C-1'``.
_CASE_ID = re.compile(r"""["']?id["']?\s*[=:]\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')""")


def _case_id_lines(text: str) -> dict[str, int]:
    """The 0-based line that first declares each case id, for pytest's report; found in
    one pass, so that a file of many cases is collected in time proportional to its
    length."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines()):
        for m in _CASE_ID.finditer(line):
            found.setdefault(m.group(1) if m.group(1) is not None else m.group(2), number)
    return found


class GoldenCase(pytest.Item):
    """One golden case: decide its input and check the expected quadrant and remedies."""

    def __init__(
        self,
        *,
        policy: Policy,
        backend: str,
        as_of: dt.datetime,
        data: dict[str, Any],
        expectation: Expectation,
        line: int,
        stated: Mapping[str, Any] | None = None,
        case_id: str | None = None,
        checks: Checks | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.case_id = self.name if case_id is None else case_id
        self.checks = checks
        self.stated = dict(stated or {})
        self.policy = policy
        self.backend = backend
        self.as_of = as_of
        self.data = data
        self.expectation = expectation
        self.line = line

    def runtest(self) -> None:
        """Decide the case; raise :class:`DecisionMismatch` when it does not match."""
        from collectrules.model.case import Case
        from collectrules.testing._policies import engine_for
        from collectrules.testing.assertions import DecisionMismatch

        case = Case.from_dict(
            self.data,
            signal_kinds=tuple(self.policy.signals),
            source=f"{self.path.name}::{self.name}",
            products=self.policy.products,
        )
        engine = engine_for(self.policy, "durable" if self.backend == "durable" else "python")
        decision = engine.decide(case, as_of=self.as_of)
        problems = self.expectation.problems(decision)
        # The rules fired, facts, steps and contacts are checked, never rewritten.
        checked = self.checks.problems(engine, case, decision, self.as_of) if self.checks else []
        if problems and self.config.getoption(_UPDATE):
            from collectrules.authoring.golden import updated_expectation

            pending = self.config.stash[_UPDATES].setdefault(self.path, {})
            pending[self.case_id] = updated_expectation(self.stated, decision)
            problems = ()
        if problems or checked:
            raise DecisionMismatch([*problems, *checked], decision, self.expectation)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        """The file and case, then the diff and the trace (or the input error)."""
        from collectrules.testing.assertions import DecisionMismatch

        error = excinfo.value
        if isinstance(error, DecisionMismatch):
            more = f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""
            return f"{self.nodeid}: {error.problems[0]}{more}\n\n{error}"
        if isinstance(error, CollectRulesError):
            return f"{self.nodeid}: the case cannot be decided\n\n{error}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the case is declared, for pytest's report."""
        return self.path, self.line, f"golden case {self.name}"
