"""The ``collectrules`` logger, and the metrics hook of batch runs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import collectrules
from collectrules import Engine
from collectrules.batch import BatchSummary, run_batch
from helpers import AS_OF, case_dict


def _rows(tmp_path: Path) -> Path:
    rows = [case_dict(("refused_to_pay", None), case_id=f"C-{i}") for i in range(9)]
    rows[4] = case_dict(overdue_amount="-1", case_id="BAD-4")
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_the_library_logger_is_silent_until_configured() -> None:
    logger = logging.getLogger("collectrules")
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)
    assert collectrules.__name__ == "collectrules"


def test_a_batch_logs_its_start_progress_bad_rows_and_end(
    tmp_path: Path, python_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    source = _rows(tmp_path)
    with caplog.at_level(logging.INFO, logger="collectrules"):
        run_batch(
            [source], engine=python_engine, out=tmp_path / "d.jsonl", as_of=AS_OF, chunk_rows=4
        )
    records = [r for r in caplog.records if r.name.startswith("collectrules.")]
    messages = [r.getMessage() for r in records]
    assert messages[0].startswith("batch started: 1 input file(s), policy default@")
    assert f"as_of {AS_OF}" in messages[0]
    progress = [m for m in messages if m.startswith("batch progress:")]
    assert progress == [
        "batch progress: 4 rows, 4 decided, 0 bad",
        "batch progress: 8 rows, 7 decided, 1 bad",
        "batch progress: 9 rows, 8 decided, 1 bad",
    ]
    bad = [r for r in records if r.levelno == logging.WARNING]
    assert len(bad) == 1
    assert bad[0].getMessage().startswith(f"bad row {source}:5: ")
    assert "overdue_amount" in bad[0].getMessage()
    assert messages[-1] == "batch done: 9 rows: 8 decided, 1 bad"


def test_the_metrics_hook_gets_the_run_so_far_after_each_checkpoint(
    tmp_path: Path, python_engine: Engine
) -> None:
    seen: list[BatchSummary] = []
    summary = run_batch(
        [_rows(tmp_path)],
        engine=python_engine,
        out=tmp_path / "d.jsonl",
        as_of=AS_OF,
        chunk_rows=4,
        on_metrics=seen.append,
    )
    assert [(s.rows, s.decided, s.bad) for s in seen] == [(4, 4, 0), (8, 7, 1), (9, 8, 1)]
    assert seen[-1].counts == summary.counts
    assert seen[-1].counts["quadrant"] == {"Q3": 8}
