"""The money package's one check of an amount against its currency's minor unit."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from collectrules.errors import InputError
from collectrules.money import charges, plans

MONEY = Path(plans.__file__).parent


def _private_imports(path: Path) -> list[str]:
    """The underscore names ``path`` imports from another module of the package."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("collectrules"):
            found.extend(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            )
    return found


def test_no_money_module_imports_a_private_name_of_another() -> None:
    """charges.py imported ``_require_minor_units`` from plans.py: a private name of one
    module that another relied on. The shared check has a public name in the package's
    internal module ``_units``."""
    found = {p.name: _private_imports(p) for p in sorted(MONEY.glob("*.py"))}
    assert {name: names for name, names in found.items() if names} == {}


def test_plans_and_charges_share_the_one_check() -> None:
    from collectrules.money import _units
    from collectrules.money._units import quantum, require_minor_units

    assert plans.require_minor_units is charges.require_minor_units is require_minor_units
    assert plans.quantum is charges.quantum is quantum
    for name in _units.__all__:
        assert getattr(_units, name).__doc__ or name.isupper(), name


@pytest.mark.parametrize(
    ("amount", "currency", "quantum_"),
    [
        ("1.00", "CNY", "0.01"),
        ("1000", "JPY", "1"),
        ("0.125", "KWD", "0.001"),
        ("0", "CNY", "0.01"),
    ],
)
def test_an_amount_in_whole_minor_units_gives_the_quantum(
    amount: str, currency: str, quantum_: str
) -> None:
    from collectrules.money._units import require_minor_units

    assert require_minor_units(Decimal(amount), currency, "x", "y") == Decimal(quantum_)


@pytest.mark.parametrize(
    ("amount", "currency", "said"),
    [
        (
            "0.5",
            "JPY",
            "0.5 has more decimals than JPY allows: expected a multiple of 1, its minor unit",
        ),
        (
            "1.001",
            "CNY",
            "1.001 has more decimals than CNY allows: expected a multiple of 0.01, its minor unit",
        ),
    ],
)
def test_an_amount_of_more_decimals_is_refused_naming_its_path(
    amount: str, currency: str, said: str
) -> None:
    from collectrules.money._units import require_minor_units

    with pytest.raises(InputError) as caught:
        require_minor_units(Decimal(amount), currency, "fees[0].amount", "case 'C-1'", then="!")
    (problem,) = caught.value.problems
    assert (problem.path, problem.message) == ("fees[0].amount", said + "!")
    assert caught.value.subject == "case 'C-1'"


def test_a_currency_that_is_no_code_is_refused_naming_currency() -> None:
    from collectrules.money._units import require_minor_units

    with pytest.raises(InputError) as caught:
        require_minor_units(Decimal(1), "rmb", "amount", "plan terms")
    assert caught.value.paths == ("currency",)
    assert caught.value.problems[0].suggestion == "CNY"
