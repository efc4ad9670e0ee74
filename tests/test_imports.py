"""``import collectrules`` stays light: durable_rules, typer and rich load only when used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


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


@pytest.mark.durable
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


def test_import_collectrules_loads_only_the_package_itself() -> None:
    """The public names are imported on first use: a bare import loads no submodule."""
    script = (
        "import sys, json\nbefore = set(sys.modules)\nimport collectrules\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    new = set(json.loads(out.stdout))
    assert {m for m in new if m.startswith("collectrules")} == {"collectrules"}
    heavy = {"pyarrow", "numpy", "pandas", "holidays", "pendulum", "cattrs", "importlib.metadata"}
    assert not new & heavy
    assert len(new) < 40, sorted(new)


def test_a_python_decision_loads_neither_pyarrow_nor_the_verifier() -> None:
    loaded = _loaded_after(
        "import collectrules as cr\n"
        "case = cr.Case.from_dict({'case_id': 'X', 'product': 'loan', 'currency': 'CNY',"
        " 'principal': '100', 'overdue_amount': '10', 'due_date': '2026-03-31',"
        " 'timezone': 'Asia/Shanghai'})\n"
        "cr.Engine(backend='python').decide(case, as_of='2026-04-03T12:00:00+08:00')"
    )
    assert not loaded & {"pyarrow", "numpy", "pandas", "typer", "rich", "durable"}


def test_lazy_names_resolve_to_their_modules() -> None:
    import collectrules
    from collectrules.authoring.verify import verify
    from collectrules.engine import Engine

    assert collectrules.Engine is Engine
    assert collectrules.verify is verify
    assert set(collectrules.__all__) <= set(dir(collectrules))
    assert collectrules.__version__.count(".") >= 2


def test_the_pytest_plugin_loads_no_engine_and_no_hypothesis() -> None:
    """The plugin is loaded in every pytest run of the environment: it must stay light."""
    script = (
        "import sys, json\nimport pytest\nbefore = set(sys.modules)\n"
        "import collectrules.testing.plugin\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    new = set(json.loads(out.stdout))
    ours = {m for m in new if m.startswith("collectrules")}
    assert ours <= {
        "collectrules",
        "collectrules.errors",
        "collectrules.testing",
        "collectrules.testing.plugin",
    }, sorted(ours)
    assert not {m.split(".")[0] for m in new} & {"hypothesis", "pendulum", "cattrs", "holidays"}


def test_a_columnar_run_never_loads_pandas(tmp_path: pytest.TempPathFactory) -> None:
    """The columnar batch builds its Arrow data without pyarrow's converters from
    Python lists, which load pandas (about 33 MiB) when it is installed: a run deciding
    columns, bad rows and rows with events (per case) leaves pandas unloaded."""
    pytest.importorskip("polars")
    from pathlib import Path

    from collectrules.frame.bench import write_portfolio

    cases = Path(str(tmp_path)) / "cases.parquet"
    write_portfolio(cases, 600, "default", events_every=3)
    loaded = _loaded_after(
        "from collectrules.engine import Engine\n"
        "from collectrules.frame.files import run_columnar\n"
        f"run = run_columnar([{str(cases)!r}], policy=Engine('default').policy,"
        f" out={str(Path(str(tmp_path)) / 'out.parquet')!r},"
        " as_of='2026-04-03T12:00:00+08:00')\n"
        "frames = run.frames\n"
        "assert run.batch.bad and sum(f.per_case for f in frames) > run.batch.bad\n"
        "assert sum(f.columnar for f in frames)\n"
    )
    assert "polars" in loaded
    assert "pandas" not in loaded


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_a_per_case_run_to_a_decision_table_never_loads_pandas(
    tmp_path: pytest.TempPathFactory, suffix: str
) -> None:
    """The per-case batch writing the compact Parquet table (from Parquet and from JSON
    Lines, with bad rows and rows with events) builds its Arrow data from buffers:
    neither pandas nor Polars is loaded."""
    pytest.importorskip("pyarrow")
    import json
    from pathlib import Path

    from collectrules.batch.bench import generate_rows
    from collectrules.engine import Engine

    folder = Path(str(tmp_path))
    rows = list(generate_rows(Engine("default", backend="python"), 300, events_every=3))
    rows[5]["overdue_amount"] = "-1"  # a bad row
    source = folder / f"cases{suffix}"
    if suffix == ".jsonl":
        source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), source)
    loaded = _loaded_after(
        "from collectrules.batch.runner import run_batch\n"
        "from collectrules.engine import Engine\n"
        f"summary = run_batch([{str(source)!r}], engine=Engine('default', backend='python'),"
        f" out={str(folder / 'out.parquet')!r}, as_of='2026-04-03T12:00:00+08:00')\n"
        "assert summary.bad == 1 and summary.decided == 299, summary\n"
    )
    assert "pyarrow" in loaded
    assert not loaded & {"pandas", "polars"}
