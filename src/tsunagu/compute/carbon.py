"""Grid carbon intensity of Japan's ten utility service areas, shipped as data.

The figures are Electricity Maps' 2024 yearly *lifecycle* intensities (g CO2-eq/kWh), as
republished by thegreenwebfoundation/co2.js under the ODbL (attribution and share-alike apply
to the data file ``tsunagu/data/grid_carbon_intensity_jp.csv``; see ``data/SOURCES.md``).
Lifecycle intensities include upstream emissions, so they are higher than Japan's legal
温対法 emission factors, which count combustion only.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io

from tsunagu.errors import DataError

__all__ = ["CARBON_BASIS", "load_carbon_intensity"]

CARBON_BASIS = "Electricity Maps 2024 yearly lifecycle (via co2.js, ODbL)"


@functools.cache
def _read() -> tuple[tuple[str, float], ...]:
    text = (
        importlib.resources.files("tsunagu.data")
        .joinpath("grid_carbon_intensity_jp.csv")
        .read_text("utf-8")
    )
    rows = []
    for i, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            value = float(row["carbon_intensity_g_per_kwh"])
        except (KeyError, TypeError, ValueError):
            raise DataError(
                f"grid_carbon_intensity_jp.csv line {i}: carbon_intensity_g_per_kwh must be a "
                "number in g CO2-eq/kWh"
            ) from None
        if not value > 0.0:
            raise DataError(f"grid_carbon_intensity_jp.csv line {i}: intensity must be > 0")
        rows.append((row["grid_region"], value))
    return tuple(rows)


def load_carbon_intensity() -> dict[str, float]:
    """Grid region → lifecycle carbon intensity (g CO2-eq/kWh); ``"Japan"`` is the national mean.

    Examples
    --------
    >>> load_carbon_intensity()["Kyushu"]
    309.0
    """
    return dict(_read())
