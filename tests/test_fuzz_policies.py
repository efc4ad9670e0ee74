"""The fuzz suite, policy side: every shipped policy, mutated.

Each example takes one shipped policy file and damages it the way a hand edit, a bad
merge or a hostile author would: a line dropped, duplicated or swapped, a number made
huge, negative or non-finite, a name in a condition misspelt, an enum value changed, an
``in`` list blown up past durable's limits, the file truncated, or stray bytes put in.
The result must load into a policy or be refused with a ``CollectRulesError`` with a
short message, within a time bound; a policy that loads must decide the example cases
on both back ends with the same decision JSON or the same error.

It runs a few dozen examples by default; ``pytest --fuzz-long`` runs many more. The
counts are in docs/reliability.md.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectrules import Case, CollectRulesError, Engine, load_policy
from collectrules.model.time import require_aware

#: The most CPU time one example may take (load, two engines, three decisions each; this
#: process's, so that other jobs on the machine do not count): a bound against runaway
#: work, not a speed target.
TIME_BOUND_SECONDS = 10.0

SHIPPED = ("default", "cn_bank_loan", "cn_credit_card", "us_regf", "uk", "ifrs9")
TEXTS = {name: (resources.files("collectrules.policies") / f"{name}.toml").read_text("utf-8")
         for name in SHIPPED}  # fmt: skip
EXAMPLES = sorted((Path(__file__).parent.parent / "examples" / "cases").glob("*.json"))

HOSTILE_NUMBERS = ("1e9999", "-1", "0", "-0.0", "1e-300", "99999999999999999999999", "nan",
                   "inf", "1.5", "true", '"12"', "-99999999")  # fmt: skip
HOSTILE_BYTES = (b"\x00", b"\xff\xfe", b"\xe2\x80\xa8", b"'''", b"[[", b"{", b'"', b"\\u0000",
                 "\u4e2d\u6587".encode("gbk"), b"\r", b"=")  # fmt: skip
BAD_WORDS = ("sometimes", "", "FIRST", "allow_all", "Q5", "litigation", "None")
_NUMBER = re.compile(rb"(?<![\w.])-?\d+(\.\d+)?(?![\w.])")
_WHEN = re.compile(rb'^when = "(.*)"\s*$')
_ENUM = re.compile(rb'^(hit_policy|effect|conflict|value|output) = "([^"]*)"')


@st.composite
def mutated_policies(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """A shipped policy's name, its text with one to three mutations, and what was done."""
    name = draw(st.sampled_from(SHIPPED))
    lines = TEXTS[name].encode("utf-8").split(b"\n")
    done: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(
            st.sampled_from(
                ["drop", "dup", "swap", "number", "typo", "enum", "in_list", "truncate", "bytes"]
            )
        )
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        line = lines[i]
        if kind == "drop":
            del lines[i]
        elif kind == "dup":
            lines.insert(i, line)
        elif kind == "swap":
            j = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[i], lines[j] = lines[j], line
        elif kind == "number":
            numbered = [k for k, text in enumerate(lines) if _NUMBER.search(text)]
            if not numbered:  # truncated away
                continue
            i = draw(st.sampled_from(numbered))
            new = draw(st.sampled_from(HOSTILE_NUMBERS)).encode()
            lines[i] = _NUMBER.sub(new, lines[i], count=1)
        elif kind == "typo":
            whens = [k for k, text in enumerate(lines) if _WHEN.match(text)]
            if not whens:  # truncated away
                continue
            i = draw(st.sampled_from(whens))
            words = [m for m in re.finditer(rb"[a-z_]{3,}", lines[i]) if m.start() > 8]
            if words:
                m = draw(st.sampled_from(words))
                at = draw(st.integers(min_value=m.start(), max_value=m.end()))
                lines[i] = lines[i][:at] + b"x" + lines[i][at:]
        elif kind == "enum":
            enums = [k for k, text in enumerate(lines) if _ENUM.match(text)]
            if not enums:  # truncated away
                continue
            i = draw(st.sampled_from(enums))
            key = _ENUM.match(lines[i]).group(1)  # type: ignore[union-attr]
            lines[i] = key + b' = "' + draw(st.sampled_from(BAD_WORDS)).encode() + b'"'
        elif kind == "in_list":
            whens = [k for k, text in enumerate(lines) if _WHEN.match(text)]
            if not whens:  # truncated away
                continue
            i = draw(st.sampled_from(whens))
            size = draw(st.sampled_from([70, 520, 5_000]))
            values = ", ".join(str(v) for v in range(size))
            lines[i] = f'when = "dpd in ({values})"'.encode()
        elif kind == "truncate":
            text = b"\n".join(lines)
            cut = draw(st.integers(min_value=0, max_value=len(text)))
            lines = text[:cut].split(b"\n")
        else:
            junk = draw(st.sampled_from(HOSTILE_BYTES))
            at = draw(st.integers(min_value=0, max_value=len(line)))
            lines[i] = line[:at] + junk + line[at:]
        done.append(f"{kind}@{i}")
        if not lines:
            lines = [b""]
    return name, b"\n".join(lines), ", ".join(done)


def _outcome(call: Any) -> tuple[str, str]:
    try:
        return "ok", call()
    except CollectRulesError as exc:
        return "error", f"{type(exc).__name__}: {exc}"


def _cases(policy: Any) -> list[Case | None]:
    """The example cases as this policy reads them (``None``: refused by its vocabulary)."""
    kinds = tuple(policy.signals)
    out: list[Case | None] = []
    for path in EXAMPLES[:3]:
        try:
            out.append(Case.from_dict(_load_json(path), signal_kinds=kinds))
        except CollectRulesError:
            out.append(None)
    return out


def _load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def check_mutant(folder: Path, name: str, text: bytes) -> str:
    """Load, build both engines, decide; ``loaded`` or ``refused``."""
    path = folder / f"{name}.toml"
    path.write_bytes(text)
    start = time.process_time()
    loaded = _outcome(lambda: load_policy(path))
    if loaded[0] == "error":
        assert len(loaded[1]) < 5_000, "an error message must stay short"
        verdict = "refused"
    else:
        policy = load_policy(path)
        engines: dict[str, Engine] = {}
        built = {
            backend: _outcome(
                lambda b=backend: repr(engines.setdefault(b, Engine(policy, backend=b)))
            )
            for backend in ("python", "durable")
        }
        assert built["python"][0] == built["durable"][0], built
        verdict = "loaded" if built["python"][0] == "ok" else "refused"
        if verdict == "loaded":
            as_of = require_aware("2026-06-30T09:00:00+08:00")
            for case in _cases(policy):
                if case is None:
                    continue
                on = {
                    b: _outcome(lambda e=e, c=case: e.decide(c, as_of=as_of).to_json())
                    for b, e in engines.items()
                }
                assert on["python"] == on["durable"]
    elapsed = time.process_time() - start
    assert elapsed < TIME_BOUND_SECONDS, f"{elapsed:.2f} s for one policy"
    return verdict


def test_fuzz_mutated_shipped_policies(
    tmp_path_factory: pytest.TempPathFactory, fuzz_examples: int
) -> None:
    tally: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    examples = max(fuzz_examples // 3, 30)

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(mutated_policies())
    def run(mutant: tuple[str, bytes, str]) -> None:
        name, text, done = mutant
        folder = tmp_path_factory.mktemp("mutant")
        tally[check_mutant(folder, name, text)] += 1
        kinds.update(d.split("@")[0] for d in done.split(", ") if d)

    run()
    print(f"\nmutated policies: {tally.total()} examples, {tally['loaded']} loaded, "
          f"{tally['refused']} refused; mutations {dict(sorted(kinds.items()))}")  # fmt: skip
    assert tally.total() >= examples // 2, "hypothesis ran too few examples"
    assert tally["refused"] > 0, "the mutations must exercise refusals"
    assert tally["loaded"] > 0, "the mutations must exercise policies that still load"
