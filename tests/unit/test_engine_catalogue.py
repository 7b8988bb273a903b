"""The KPI catalogue: each KPI name is spelled once in the source tree, and its readers use it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tsunagu.sim import catalogue as kc

SRC = Path(kc.__file__).resolve().parents[1]
CATALOGUE = Path(kc.__file__).resolve()


def _is_identifier_here(name: str, text: str) -> bool:
    """The file defines ``name`` as a function or a field (``__all__``, shape checks): not a KPI."""
    return bool(re.search(rf"(def {name}\(|^\s+{name}: |self\.{name}\b)", text, re.M))


def _literal_counts() -> dict[str, list[str]]:
    """Where each catalogue name appears as a quoted string literal in src/tsunagu/**/*.py."""
    found: dict[str, list[str]] = {name: [] for name in kc.KPIS}
    pattern = re.compile(r"""(?<![\w.])["']([a-z][a-z0-9_]*)["']""")
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for m in pattern.finditer(text):
            if m.group(1) in found and not _is_identifier_here(m.group(1), text):
                line = text.count("\n", 0, m.start()) + 1
                found[m.group(1)].append(f"{path.relative_to(SRC)}:{line}")
    return found


def test_each_kpi_name_is_defined_once_in_the_catalogue() -> None:
    counts = _literal_counts()
    rel = str(CATALOGUE.relative_to(SRC))
    elsewhere = {
        n: [w for w in where if not w.startswith(rel + ":")] for n, where in counts.items()
    }
    bad = {n: w for n, w in elsewhere.items() if w}
    assert not bad, f"KPI names spelled outside the catalogue (use kc.<NAME>.name): {bad}"
    in_cat = {n: len(w) for n, w in counts.items()}
    assert all(c <= 1 for c in in_cat.values()), {n: c for n, c in in_cat.items() if c > 1}


def test_the_grep_finds_a_name_spelled_twice(tmp_path: Path) -> None:
    """The check above can fail: a copy of a KPI name in another module is found."""
    pattern = re.compile(r"""(?<![\w.])["']([a-z][a-z0-9_]*)["']""")
    text = 'x = {"energy_ntn_kwh": 1.0}\n'
    assert [m.group(1) for m in pattern.finditer(text)] == [kc.ENERGY_NTN_KWH.name]


def test_readers_take_their_kpis_from_the_catalogue() -> None:
    from tsunagu.cli import KPI_ROWS
    from tsunagu.report.compare import COMPARE_KPIS
    from tsunagu.sim.sweep import KPI_COLUMNS

    assert [r[0] for r in KPI_ROWS] == [k.name for k in kc.in_view("cli")]
    assert [r[1] for r in KPI_ROWS] == [k.label for k in kc.in_view("cli")]
    assert [r[0] for r in COMPARE_KPIS] == [k.name for k in kc.in_view("compare")]
    assert list(KPI_COLUMNS) == [k.name for k in kc.in_view("sweep")]


@pytest.mark.parametrize("kpi", list(kc.KPIS.values()), ids=lambda k: k.name)
def test_every_kpi_has_unit_label_aggregation_and_description(kpi: kc.Kpi) -> None:
    assert kpi.label
    assert kpi.description
    assert kpi.aggregation
    assert kpi.unit or kpi.name.endswith("_share")
    # A KPI whose name ends in a unit is stored in that unit.
    for suffix, unit in (("_ms", "ms"), ("_kwh", "kWh"), ("_s", "s"), ("_db", "dB"), ("_w", "W")):
        if kpi.name.endswith(suffix):
            assert kpi.unit == unit, kpi
            break


def test_an_access_layer_gets_its_population_kpi_without_an_edit() -> None:
    k = kc.access_population("fwa")
    assert k.name == "population_fwa"
    assert k.unit == "people"
    assert kc.access_population("ran") is kc.KPIS[k.name.replace("fwa", "ran")]
    assert kc.label_unit("not_a_kpi") == ("not a kpi", "")
