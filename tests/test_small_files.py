"""The small files a caller names (a team, a column map, a calendar schedule, a policy)
are read whole, so each reader refuses what is not a regular file of bounded size
before reading it: ``load_team`` and ``load_column_map`` waited forever on a FIFO and
read ``/dev/zero`` until memory ran out (``MemoryError``). And a case file whose read
fails part way (``EIO``) is one bad row for the rest of the file, where ``read_rows``
and ``run_batch`` raised ``OSError``."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from collectrules import CollectRulesError, Engine, PolicyError, load_policy
from collectrules._files import MAX_SMALL_FILE_BYTES
from collectrules.batch import run_batch
from collectrules.calendars import CalendarSchedule
from collectrules.calendars.business import MAX_SCHEDULE_BYTES
from collectrules.io import load_column_map, read_rows
from collectrules.operations import load_team
from collectrules.policy.loader import MAX_POLICY_BYTES
from helpers import case_dict

AS_OF = "2026-06-30T12:00:00+08:00"

#: Each reader of a small file, and the most bytes it reads.
READERS: dict[str, tuple[Callable[[Any], object], int]] = {
    "load_team": (load_team, MAX_SMALL_FILE_BYTES),
    "load_column_map": (load_column_map, MAX_SMALL_FILE_BYTES),
    "CalendarSchedule.load": (CalendarSchedule.load, MAX_SCHEDULE_BYTES),
    "load_policy": (load_policy, MAX_POLICY_BYTES),
}


@contextmanager
def _within(seconds: int) -> Iterator[None]:
    """Fail, rather than wait forever, when the body takes longer than ``seconds``."""

    def expired(*_: object) -> None:
        raise AssertionError(f"still waiting after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _refusal(reader: Callable[[Any], object], path: Path | str) -> str:
    with _within(20), pytest.raises(CollectRulesError) as caught:
        reader(path)
    return str(caught.value)


@pytest.mark.parametrize("name", READERS)
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path, name: str) -> None:
    fifo = tmp_path / "team.toml"
    os.mkfifo(fifo)
    assert "not a regular file" in _refusal(READERS[name][0], fifo)


@pytest.mark.parametrize("name", READERS)
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_device_is_refused_before_it_is_read(name: str, device: str) -> None:
    assert "not a regular file" in _refusal(READERS[name][0], device)


@pytest.mark.parametrize("name", READERS)
def test_a_file_past_the_limit_is_refused_unread(tmp_path: Path, name: str) -> None:
    reader, limit = READERS[name]
    big = tmp_path / "big.toml"
    with big.open("wb") as fh:  # sparse: nothing is written, and nothing read
        fh.truncate(limit + 1)
    assert "larger than" in _refusal(reader, big)


@pytest.mark.parametrize("name", READERS)
def test_a_read_that_fails_is_an_error_naming_the_file(name: str) -> None:
    # /proc/self/mem is a regular file whose read at offset 0 fails with EIO.
    message = _refusal(READERS[name][0], "/proc/self/mem")
    assert "/proc/self/mem" in message
    assert "input/output error" in message


def test_a_team_file_under_the_limit_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    path.write_text('[[owner]]\nid = "ana"\ncapacity = 3\n', encoding="utf-8")
    team = load_team(path)
    assert [(o.id, o.capacity) for o in team.owners] == [("ana", 3)]


def test_a_policy_past_the_limit_keeps_its_message(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    with big.open("wb") as fh:
        fh.truncate(MAX_POLICY_BYTES + 1)
    with pytest.raises(PolicyError, match=f"policy file larger than {MAX_POLICY_BYTES} bytes"):
        load_policy(big)


def test_a_case_file_whose_read_fails_is_one_bad_row_for_the_rest() -> None:
    (row,) = list(read_rows(["/proc/self/mem"]))
    assert row.data is None
    assert str(row.error) == (
        "/proc/self/mem: cannot read the rest of the file: input/output error"
    )


def test_a_batch_with_a_file_whose_read_fails_decides_the_others(tmp_path: Path) -> None:
    good = tmp_path / "cases.jsonl"
    row = case_dict(case_id="A")
    good.write_text(json.dumps(row) + "\n", encoding="utf-8")
    out = tmp_path / "d.jsonl"
    summary = run_batch(["/proc/self/mem", good], engine=Engine("default"), out=out, as_of=AS_OF)
    assert (summary.decided, summary.bad) == (1, 1)
    assert [json.loads(line)["case_id"] for line in out.open(encoding="utf-8")] == ["A"]
    (bad,) = [json.loads(line) for line in (tmp_path / "d.errors.jsonl").open()]
    assert "cannot read the rest of the file: input/output error" in bad["error"]
