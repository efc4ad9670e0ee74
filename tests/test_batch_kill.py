"""A batch killed at random points, and one whose disk fills up, loses and repeats nothing.

Each test runs ``collectrules batch`` in a subprocess. The kill points are random but
seeded: one in five while the batch starts, the others once it has begun, at a point
of its output (the decisions it has written, between where it starts and the whole
file), so they land during the run however loaded the machine is;
``COLLECTRULES_KILLS`` raises the number of kills (the default keeps CI short).
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from collectrules import Engine
from collectrules.batch import run_batch
from helpers import AS_OF, case_dict

KILLS = int(os.environ.get("COLLECTRULES_KILLS", "6"))
ROWS = 1200
CHUNK = "13"


def command(source: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "collectrules", "batch", str(source), "-o", str(out),
        "--chunk-rows", CHUNK, *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kill")
    rows: list[Any] = []
    for i in range(ROWS):
        if i % 5 == 4:
            rows.append(case_dict(overdue_amount="-1", case_id=f"P-{i}"))
        elif i % 17 == 16:
            rows.append("not a case")
        else:
            rows.append(case_dict(("refused_to_pay", None), case_id=f"C-{i}"))
    path = folder / "portfolio.jsonl"
    with path.open("wb") as fh:
        for i, row in enumerate(rows):
            line = json.dumps(row, ensure_ascii=False).encode()
            fh.write((line[:10] + b"\xff" + line[10:]) if i % 97 == 50 else line)
            fh.write(b"\n")
    return path


@pytest.fixture(scope="module")
def reference(source: Path, python_engine: Engine) -> tuple[bytes, bytes]:
    out = source.with_name("reference.jsonl")
    run_batch([source], engine=python_engine, out=out, as_of=AS_OF, chunk_rows=int(CHUNK))
    return out.read_bytes(), source.with_name("reference.errors.jsonl").read_bytes()


@pytest.fixture(scope="module")
def run_seconds(source: Path) -> float:
    """How long a run goes on once it has begun (its progress file written): the kills
    land in that window, whatever the speed of the batch and of the machine."""
    out = source.with_name("timed.jsonl")
    progress = source.with_name("timed.jsonl.progress")
    child = subprocess.Popen(
        command(source, out, "--as-of", AS_OF), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not progress.exists() and child.poll() is None:
        assert time.monotonic() < deadline, "the batch never started"
        time.sleep(0.005)
    begun = time.monotonic()
    child.wait()
    return time.monotonic() - begun


def _written(partial: Path) -> int:
    """How many bytes of decisions the run has written so far (0 before it starts)."""
    try:
        return partial.stat().st_size
    except FileNotFoundError:
        return 0


def every_row_once(out: Path, errors: Path) -> None:
    lines = [
        json.loads(text)["input"]["line"]
        for path in (out, errors)
        for text in path.read_text(encoding="utf-8").split("\n")
        if text
    ]
    assert sorted(lines) == list(range(1, ROWS + 1))


def test_sigkill_at_random_points_then_resume(
    source: Path, reference: tuple[bytes, bytes], run_seconds: float, tmp_path: Path
) -> None:
    out = tmp_path / "decisions.jsonl"
    errors = tmp_path / "decisions.errors.jsonl"
    progress = tmp_path / "decisions.jsonl.progress"
    partial = tmp_path / "decisions.jsonl.partial"
    rng = random.Random(20261130)
    mid_run = total_resumes = kills = 0
    for _ in range(KILLS):
        resumes = 0
        args = command(source, out, "--as-of", AS_OF)
        while True:
            child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if rng.random() < 0.2:  # early: while starting, or creating its files
                time.sleep(rng.uniform(0.0, 1.0))
            else:  # once the run has begun, however loaded the machine is
                deadline = time.monotonic() + 60
                while not progress.exists() and child.poll() is None:
                    assert time.monotonic() < deadline, "the batch never started"
                    time.sleep(0.01)
                # A point in the run's output, not in time: a kill timed by a run measured
                # once landed after the run had ended when the machine's load fell.
                at = _written(partial)
                target = at + rng.uniform(0.0, 1.0) * (len(reference[0]) - at)
                deadline = time.monotonic() + 4 * run_seconds + 60
                while _written(partial) < target and child.poll() is None:
                    assert time.monotonic() < deadline, "the batch stopped writing"
                    time.sleep(0.002)
            child.send_signal(signal.SIGKILL)
            kills += 1
            code = child.wait()
            if code == -signal.SIGKILL and progress.exists():
                # a resumable partial run, and nothing that looks like a finished output
                assert not out.exists() or not (tmp_path / "decisions.jsonl.partial").exists()
                mid_run += 1
            if not progress.exists():
                break
            resumes += 1
            total_resumes += 1
            args = command(source, out, "--resume")
            if resumes >= 3:
                done = subprocess.run(args, capture_output=True, text=True, check=False)
                assert done.returncode == 1, done.stderr
                break
        assert (out.read_bytes(), errors.read_bytes()) == reference
        every_row_once(out, errors)
        assert not list(tmp_path.glob("*.partial"))
        assert not progress.exists()
    print(f"\n{KILLS} runs, {kills} kills, {mid_run} during a run, {total_resumes} resumes")
    assert mid_run >= KILLS // 2, f"only {mid_run} kills landed during a run"


def test_an_output_limit_exits_3_and_resume_completes(
    source: Path, reference: tuple[bytes, bytes], tmp_path: Path
) -> None:
    out = tmp_path / "decisions.jsonl"

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    limited = subprocess.run(
        command(source, out, "--as-of", AS_OF),
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=small_files,
    )
    assert limited.returncode == 3, limited.stderr
    assert "cannot write" in limited.stderr
    assert "Traceback" not in limited.stderr
    assert not out.exists()
    assert (tmp_path / "decisions.jsonl.partial").exists()
    done = subprocess.run(
        command(source, out, "--resume"), capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, done.stderr
    assert (out.read_bytes(), (tmp_path / "decisions.errors.jsonl").read_bytes()) == reference


def can_mount() -> bool:
    return (
        sys.platform == "linux"
        and os.geteuid() == 0
        and shutil.which("unshare") is not None
        and subprocess.run(
            ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )


@pytest.mark.skipif(not can_mount(), reason="needs root to mount a tiny tmpfs")
def test_a_full_disk_exits_3_with_a_clear_message(source: Path, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    batch = " ".join(f"'{a}'" for a in command(source, disk / "d.jsonl", "--as-of", AS_OF))
    script = (
        f"mount -t tmpfs -o size=256k tmpfs '{disk}' && {{ {batch}; echo \"exit=$?\"; "
        f"ls '{disk}'; }}"
    )
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, check=False
    )
    assert "exit=3" in result.stdout, result.stderr
    assert "the disk is full (no space left on device)" in result.stderr
    assert "--resume" in result.stderr
    listing = result.stdout.split("exit=3", 1)[1].split()
    assert "d.jsonl" not in listing
    assert "d.jsonl.partial" in listing
