"""``python -m collectrules.bench`` stays runnable, and prints what it promises."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def test_the_benchmark_runs_and_prints_every_line_and_target() -> None:
    # A child process: the benchmark pins itself to one core.
    args = ["--cases", "300", "--memory-decisions", "100", "--raw-posts", "200"]
    done = subprocess.run(
        [sys.executable, "-m", "collectrules.bench", *args, "--end-to-end-rows", "0"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for what in (
        "bare label function (the limit)",
        "generated evaluator",
        "collectrules durable, facts to Decision",
        "collectrules generated python, facts to Decision",
        "collectrules durable back end",
        "collectrules generated python back end",
        "collectrules generated python, dict to JSON",
        "collectrules generated python, dict to JSON bytes",
        "orjson alone, a decision's dict built (floor)",
        "back ends agree on the first 300 decisions: True",
        ">= 100,000/s facts to a Decision: generated python",
        ">= 40,000/s dict to decision JSON: generated python",
        "(as UTF-8 bytes, as the batch writes it:",
        ">= 1,500/s case to Decision on the durable back end",
    ):
        assert what in out, what
    assert "quadrant agrees on 300/300" in out
    floor = next(line for line in out.splitlines() if line.startswith("orjson alone"))
    assert re.search(r"[\d,]+  \([\d,]+ bytes a decision\)$", floor), floor
    assert "orjson alone writes" in out


def _script(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_from_dict_benchmark_runs_and_both_paths_agree() -> None:
    out = _script(str(BENCHMARKS / "from_dict.py"), "--cases", "200")
    assert out.count("identical cases             200 of 200") == 2, out


def test_the_decision_json_benchmark_runs_on_both_back_ends() -> None:
    out = _script(str(BENCHMARKS / "decision_json.py"), "default", "100")
    for backend in ("durable", "python"):
        assert f"== default, {backend} back end, 100 decisions" in out
    lines = out.splitlines()
    for label in ("to_json ", "to_json_bytes ", "canonical_json(to_dict()) "):
        assert sum(line.startswith(label) for line in lines) == 2, label


def test_the_derive_benchmark_runs_and_both_passes_agree() -> None:
    out = _script(str(BENCHMARKS / "derive.py"), "--cases", "200")
    for what in ("cases built in Python", "cases read from JSON"):
        assert f"== default: 200 {what}, five signals each" in out, out
    assert out.count("first pass (caches cold)") == 2
    assert out.count("identical facts             200 of 200") == 2, out


def test_the_per_case_benchmark_times_every_stage_both_ways() -> None:
    out = _script(str(BENCHMARKS / "per_case.py"), "--cases", "100")
    assert "== default@" in out, out
    assert "100 fresh dicts to JSON" in out, out
    lines = out.splitlines()
    for stage in ("from_dict", "derivation", "evaluation and Decision", "to_json", "total"):
        (line,) = [line for line in lines if line.startswith(stage)]
        assert line.count("µs") == 2, line


def test_the_spark_benchmark_decides_its_tables_from_parquet() -> None:
    """``benchmarks/spark_per_case.py`` runs (on a real local Spark), reads its tables
    back from Parquet, and decides every case, those with events per case."""
    pytest.importorskip("pyspark")
    out = _script(str(BENCHMARKS / "spark_per_case.py"), "--rows", "120", "--events-every", "2")
    assert "tables from Parquet" in out, out
    (counts,) = [line for line in out.splitlines() if line.startswith("per case:")]
    per_case, decided, errors = (int(n.replace(",", "")) for n in re.findall(r"[\d,]+", counts))
    assert (decided, errors) == (120, 0), counts
    assert 60 <= per_case <= 120, counts  # every case with events goes per case
    assert re.search(r"decide: [\d.]+ s; decide and write: [\d.]+ s", out), out
