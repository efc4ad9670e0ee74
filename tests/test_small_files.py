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
from collectrules.io import case_files, load_column_map, read_rows
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


def _directory_with_odd_entries(tmp_path: Path) -> Path:
    """A folder with one good case file and four entries named as case files that are
    not regular files: a FIFO, a link to a device, a link to nothing, a folder."""
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "ok.jsonl").write_text(json.dumps(case_dict(case_id="A")) + "\n", encoding="utf-8")
    os.mkfifo(folder / "fifo.jsonl")
    (folder / "zero.jsonl").symlink_to("/dev/zero")
    (folder / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    (folder / "folder.jsonl").mkdir()
    return folder


ODD = {
    "fifo.jsonl": "not a regular file",
    "folder.jsonl": "not a regular file",
    "gone.csv": "no such file (a link to nothing)",
    "zero.jsonl": "not a regular file",
}


def test_a_directory_entry_named_as_a_case_file_that_is_not_one_is_reported(
    tmp_path: Path,
) -> None:
    """Each was skipped without a word, and the rows of a file behind a broken link
    were lost with it."""
    folder = _directory_with_odd_entries(tmp_path)
    with _within(20), pytest.raises(CollectRulesError) as caught:
        case_files([folder])
    said = {Path(p.source or "").name: p.message for p in caught.value.problems}  # type: ignore[attr-defined]
    assert said == ODD
    with _within(20):
        rows = list(read_rows([folder]))
    assert {Path(r.source).name: str(r.error).split(": ", 1)[1] for r in rows if r.error} == ODD
    assert [r.data["case_id"] for r in rows if r.data is not None] == ["A"]


@pytest.mark.parametrize("engine", ["per-case", "columnar"])
def test_the_batch_refuses_such_a_directory_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    from collectrules.cli import main

    folder = _directory_with_odd_entries(tmp_path)
    (folder / "ok.jsonl").unlink()  # the columnar engine reads CSV and Parquet alone
    (folder / "ok.csv").write_text("case_id\nA\n", encoding="utf-8")
    out = tmp_path / "d.parquet"
    with _within(30):
        code = main(["batch", str(folder), "--out", str(out), "--as-of", AS_OF, "--engine", engine])
    err = capsys.readouterr().err
    assert code == 2, err
    for name, reason in ODD.items():
        assert f"{folder / name}: {reason}" in err
    assert not out.exists()


def test_updating_a_golden_file_reads_it_as_the_plugin_does(tmp_path: Path) -> None:
    """``update_file`` (``--collectrules-update``) read the file with ``read_text``."""
    from collectrules.authoring.golden import update_file

    fifo = tmp_path / "golden_fifo.toml"
    os.mkfifo(fifo)
    latin1 = tmp_path / "golden_latin1.toml"
    latin1.write_bytes(b"# caf\xe9\n")
    with _within(20), pytest.raises(CollectRulesError, match="not a regular file"):
        update_file(fifo, {})
    with pytest.raises(CollectRulesError, match=r"not UTF-8 text \(byte 5\)"):
        update_file(latin1, {})
