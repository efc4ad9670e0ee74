"""A generated portfolio for the worklist, changes and report tests."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "cases"
OPENING = "2026-04-03T12:00:00+08:00"
CLOSING = "2026-05-20T12:00:00+08:00"


def templates() -> list[dict[str, Any]]:
    """The example cases, one per quadrant profile."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]


def portfolio(n: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` case dicts: the example profiles with varied due dates, amounts and events.

    Due dates run from 2025-10-01 to 2026-04-02, so the cases spread over the buckets
    and their timeline steps over every status.
    """
    rng = random.Random(seed)
    base = templates()
    first = dt.date(2025, 10, 1)
    out = []
    for i in range(n):
        case = json.loads(json.dumps(rng.choice(base)))
        due = first + dt.timedelta(days=rng.randrange(0, 184))
        case["case_id"] = f"P-{i:06d}"
        case["due_date"] = due.isoformat()
        case["overdue_amount"] = f"{rng.randrange(500, 90_000)}.00"
        events = []
        if rng.random() < 0.4:
            when = dt.datetime.combine(due + dt.timedelta(days=1), dt.time(10, 0))
            outcome = rng.choice(["reached", "no_answer"])
            events.append(
                {
                    "kind": "contact_attempt",
                    "at": when.isoformat() + "+08:00",
                    "outcome": outcome,
                    "channel": "phone",
                }
            )
        case["events"] = events
        out.append(case)
    return out


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write ``rows`` as JSON Lines."""
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows),
        encoding="utf-8",
    )
    return path
