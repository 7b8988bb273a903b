"""Physical constants and conventions shared by every domain (SI units)."""

from __future__ import annotations

from typing import Final

#: Speed of light in vacuum (exact, SI definition).
C_M_PER_S: Final = 299_792_458.0

#: Group index of standard single-mode fibre used for latency (GNPy and ITU-T G.652 practice):
#: 1.468 → 4.897 µs/km.
FIBRE_GROUP_INDEX: Final = 1.468

#: WGS84 semi-major axis and flattening (NIMA TR8350.2).
WGS84_A_M: Final = 6_378_137.0
WGS84_F: Final = 1.0 / 298.257223563

#: Mean Earth radius (IUGG) for great-circle distances.
EARTH_MEAN_RADIUS_M: Final = 6_371_008.8

#: Standard gravitational parameter of the Earth (WGS84), m^3/s^2.
EARTH_MU_M3_PER_S2: Final = 3.986004418e14

#: Earth rotation rate (WGS84), rad/s.
EARTH_ROTATION_RAD_PER_S: Final = 7.2921150e-5

#: Boltzmann constant in dBW/K/Hz.
BOLTZMANN_DBW_PER_K_HZ: Final = -228.6

SECONDS_PER_HOUR: Final = 3600.0
