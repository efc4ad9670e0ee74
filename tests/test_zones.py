"""A case's time zone is an IANA name, the same on every machine.

Python's zone loader reads any file of the machine's zone database. ``localtime`` is
this machine's configured zone: a case naming it was decided in whatever zone the
machine was set to, so the same input gave different decisions on different machines.
``posixrules``, ``posix/…`` and ``right/…`` exist on some machines and not on others.
Each is refused as an unknown zone, wherever a zone's name is read.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pendulum
import pytest

from collectrules import Engine, InputError, frame
from collectrules.batch import run_batch
from collectrules.calendars import BusinessCalendar, ContactHours
from collectrules.model import Case, local_midnight
from collectrules.model.case import iana_zones, zone
from collectrules.testing import cases, dated_cases
from helpers import AS_OF, case_dict

#: Names a machine's zone database may hold that are not IANA zones.
MACHINE_ONLY = ["localtime", "posixrules", "right/UTC", "posix/Asia/Shanghai", "right/Asia/Tokyo"]
HINT = "(a file of this machine's zone database, not an IANA zone"


@pytest.mark.parametrize("name", MACHINE_ONLY)
def test_a_case_naming_a_zone_file_of_the_machine_is_refused(name: str) -> None:
    with pytest.raises(InputError) as caught:
        Case.from_dict(case_dict(timezone=name))
    (problem,) = caught.value.problems
    assert problem.path == "timezone"
    assert problem.message.startswith(f"unknown IANA time zone {name!r} {HINT}")


@pytest.mark.parametrize("name", MACHINE_ONLY)
def test_every_reader_of_a_zone_name_refuses_it(name: str) -> None:
    """``local_midnight`` took a text zone as it was; the calendars took it through
    ``require_zone``; the testing kit through ``zoneinfo``: each accepted these."""
    at = pendulum.datetime(2026, 4, 2, 9, tz="Asia/Shanghai")
    calls = [
        lambda: local_midnight(dt.date(2026, 4, 2), name),
        lambda: BusinessCalendar("CN").add_business_days(at, 2, name),
        lambda: ContactHours.parse("08:00", "21:00").window_on(dt.date(2026, 4, 2), name),
        lambda: ContactHours.parse("08:00", "21:00").allows(at, name),
        lambda: cases("default", timezones=[name]),
        lambda: dated_cases("default", timezones=[name]),
    ]
    for call in calls:
        with pytest.raises(InputError, match=f"unknown IANA time zone {name!r}"):
            call()


def test_the_zones_are_the_iana_names_and_each_loads() -> None:
    names = iana_zones()
    assert {"Asia/Shanghai", "America/New_York", "UTC", "Etc/GMT-14", "Factory"} <= names
    assert not names & {"localtime", "posixrules", "zone.tab", "tzdata.zi", "leapseconds"}
    assert not [n for n in names if n.startswith(("posix/", "right/"))]
    for name in sorted(names):
        assert zone(name).key == name


@pytest.mark.parametrize("backend", ["python", "durable"])
def test_both_back_ends_and_the_columns_give_the_row_the_same_error(
    tmp_path: Path, backend: str
) -> None:
    rows = [case_dict(case_id="A"), case_dict(case_id="B", timezone="localtime")]
    source = tmp_path / "cases.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "d.jsonl"
    summary = run_batch([source], engine=Engine("default", backend=backend), out=out, as_of=AS_OF)
    assert (summary.decided, summary.bad) == (1, 1)
    (record,) = [json.loads(x) for x in (tmp_path / "d.errors.jsonl").read_text().splitlines()]
    assert record["case_id"] == "B"
    assert record["error"].startswith("timezone: unknown IANA time zone 'localtime' (a file")
    pl = pytest.importorskip("polars")
    result = frame.decide(pl.DataFrame(rows), None, None, policy="default", as_of=AS_OF)
    assert result.decisions.get_column("case_id").to_list() == ["A"]
    (error,) = result.errors
    assert (error.case_id, str(error.error)) == ("B", record["error"])
