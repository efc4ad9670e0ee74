"""``import collectrules`` stays light: durable_rules, typer and rich load only when used."""

from __future__ import annotations

import json
import subprocess
import sys


def _loaded_after(code: str) -> set[str]:
    script = (
        f"{code}\nimport json, sys\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(out.stdout))


def test_import_collectrules_loads_no_engine_and_no_cli_library() -> None:
    loaded = _loaded_after("import collectrules")
    assert not loaded & {"durable", "durable_rules_engine", "typer", "rich", "click"}


def test_durable_loads_on_first_durable_decision() -> None:
    loaded = _loaded_after(
        "import collectrules as cr\n"
        "case = cr.Case.from_dict({'case_id': 'X', 'product': 'loan', 'currency': 'CNY',"
        " 'principal': '100', 'overdue_amount': '10', 'due_date': '2026-03-31',"
        " 'timezone': 'Asia/Shanghai'})\n"
        "cr.Engine().decide(case, as_of='2026-04-03T12:00:00+08:00')"
    )
    assert "durable" in loaded


def test_the_python_back_end_never_loads_durable() -> None:
    loaded = _loaded_after(
        "import collectrules as cr\n"
        "case = cr.Case.from_dict({'case_id': 'X', 'product': 'loan', 'currency': 'CNY',"
        " 'principal': '100', 'overdue_amount': '10', 'due_date': '2026-03-31',"
        " 'timezone': 'Asia/Shanghai'})\n"
        "cr.Engine(backend='python').decide(case, as_of='2026-04-03T12:00:00+08:00')"
    )
    assert "durable" not in loaded
