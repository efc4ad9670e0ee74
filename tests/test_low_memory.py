"""``collectrules batch --low-memory``: the allocators set before Polars and Arrow load,
one chunk at a time, the same table and error file as a run without it."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("polars")

from collectrules import _allocator  # noqa: E402
from collectrules.batch.bench import generate_rows  # noqa: E402
from collectrules.engine import Engine  # noqa: E402
from collectrules.errors import InputError  # noqa: E402
from collectrules.frame import files  # noqa: E402
from collectrules.frame.files import run_columnar  # noqa: E402

AS_OF = "2026-06-30T12:00:00+08:00"

# What the command line's allocator variables hold once its module has loaded, and
# whether Polars and Arrow were loaded before it set them.
_PROBE = """
import json, os, sys
sys.argv = ["collectrules", *sys.argv[1:]]
import collectrules.cli
import polars, pyarrow
names = ("_RJEM_MALLOC_CONF", "ARROW_DEFAULT_MEMORY_POOL")
print(json.dumps({n: os.environ.get(n) for n in names}))
"""


def _probe(*argv: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    import json

    base = {k: v for k, v in os.environ.items() if k not in ("_RJEM_MALLOC_CONF",)}
    base.pop(_allocator.ARROW_POOL_VARIABLE, None)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_flag_sets_the_lean_allocators_before_polars_and_arrow_load() -> None:
    """Polars writes its own settings before the variable's value, so the value ending
    in the lean settings shows they were there when Polars loaded."""
    seen = _probe("batch", "cases.parquet", "--low-memory")
    assert seen["_RJEM_MALLOC_CONF"].endswith(_allocator.LEAN_ALLOCATOR)
    assert seen["ARROW_DEFAULT_MEMORY_POOL"] == "system"


def test_without_the_flag_freed_pages_are_kept_and_arrow_keeps_its_pool() -> None:
    seen = _probe("batch", "cases.parquet")
    assert seen["_RJEM_MALLOC_CONF"].endswith(_allocator.ALLOCATOR)
    assert seen["ARROW_DEFAULT_MEMORY_POOL"] is None


def test_settings_in_the_environment_win_over_the_flag() -> None:
    mine = {"_RJEM_MALLOC_CONF": "dirty_decay_ms:7", "ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}
    seen = _probe("batch", "--low-memory", env=mine)
    assert seen["_RJEM_MALLOC_CONF"].endswith("dirty_decay_ms:7")
    assert seen["ARROW_DEFAULT_MEMORY_POOL"] == "jemalloc"


def test_the_c_heap_is_bounded_where_the_c_library_is_glibc() -> None:
    """mallopt answers 1 for each setting it takes; elsewhere nothing is called."""
    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert _allocator.limit_c_heap() is glibc
    assert _allocator.limit_c_heap() is glibc  # again: the same settings, taken again


@pytest.fixture
def portfolio(tmp_path: Path) -> Path:
    rows: list[dict[str, Any]] = list(
        generate_rows(Engine("default", backend="python"), 9_000, bad_every=97)
    )
    rows[4_500]["case_id"] = rows[10]["case_id"]  # a repeated id, in a later chunk
    path = tmp_path / "portfolio.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=3_000)
    return path


def _batch(
    tmp_path: Path, portfolio: Path, name: str, *flags: str
) -> subprocess.CompletedProcess[str]:
    out = tmp_path / f"{name}.parquet"
    command = [sys.executable, "-m", "collectrules", "batch", str(portfolio), "--out", str(out)]
    return subprocess.run(
        [*command, "--as-of", AS_OF, *flags], capture_output=True, text=True, check=False
    )


def test_the_low_memory_run_writes_the_same_table_and_errors(
    tmp_path: Path, portfolio: Path
) -> None:
    """Chunks of 2,000 rows, one at a time, against chunks of 50,000 two at a time: the
    same bytes in both files, and the same summary."""
    plain = _batch(tmp_path, portfolio, "plain")
    lean = _batch(tmp_path, portfolio, "lean", "--low-memory")
    assert plain.returncode == lean.returncode == 1, (plain.stderr, lean.stderr)
    assert (tmp_path / "plain.parquet").read_bytes() == (tmp_path / "lean.parquet").read_bytes()
    errors = (tmp_path / "plain.errors.jsonl").read_bytes()
    assert errors == (tmp_path / "lean.errors.jsonl").read_bytes()
    assert b"case_id" in errors
    assert errors.count(b"\n") == 9_000 // 97 + 1

    def summary(done: subprocess.CompletedProcess[str]) -> list[str]:
        lines = done.stderr.replace("plain.", "lean.").splitlines()
        return [line for line in lines if not line.startswith("time taken")]

    assert summary(plain) == summary(lean)


def test_the_low_memory_flag_works_with_the_per_case_engine(
    tmp_path: Path, portfolio: Path
) -> None:
    plain = _batch(tmp_path, portfolio, "plain", "--engine", "per-case")
    lean = _batch(tmp_path, portfolio, "lean", "--engine", "per-case", "--low-memory")
    assert plain.returncode == lean.returncode == 1, (plain.stderr, lean.stderr)
    assert (tmp_path / "plain.parquet").read_bytes() == (tmp_path / "lean.parquet").read_bytes()


def test_the_low_memory_flag_refuses_workers(tmp_path: Path, portfolio: Path) -> None:
    done = _batch(tmp_path, portfolio, "lean", "--low-memory", "--jobs", "2")
    assert done.returncode == 2
    assert "--jobs: --low-memory decides in this process alone" in done.stderr
    assert not (tmp_path / "lean.parquet").exists()


@pytest.mark.parametrize("at_once", [0, 9, True, 1.0, "2", None])
def test_run_columnar_refuses_a_bad_number_of_chunks_at_once(
    tmp_path: Path, portfolio: Path, at_once: Any
) -> None:
    policy = Engine("default", backend="python").policy
    with pytest.raises(InputError, match=r"at_once: expected a whole number of chunks from 1 to 8"):
        run_columnar(
            [portfolio], policy=policy, out=tmp_path / "d.parquet", as_of=AS_OF, at_once=at_once
        )
    assert not (tmp_path / "d.parquet").exists()


def test_one_chunk_at_a_time_decides_each_only_after_the_last(
    tmp_path: Path, portfolio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``at_once=1`` no two chunks are ever being decided together."""
    import threading

    busy = 0
    most = 0
    lock = threading.Lock()
    decide = files._decide_chunk

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal busy, most
        with lock:
            busy += 1
            most = max(most, busy)
        try:
            return decide(*args, **kwargs)
        finally:
            with lock:
                busy -= 1

    monkeypatch.setattr(files, "_decide_chunk", counted)
    policy = Engine("default", backend="python").policy
    run_columnar(
        [portfolio],
        policy=policy,
        out=tmp_path / "d.parquet",
        as_of=AS_OF,
        chunk_rows=1_000,
        at_once=1,
    )
    assert most == 1
