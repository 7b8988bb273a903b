"""Base-station antenna patterns of 3GPP TR 38.901 §7.3 (v17.0.0), vectorised.

* :func:`element_gain_dbi` — the single-element radiation pattern of Table 7.3-1
  (vertical cut, horizontal cut, combined 3D pattern plus the maximum directional gain).
* :func:`vertical_array_factor_db` — the array gain of ``M`` vertically stacked elements
  (spacing ``d_V``) all mapped to one port with the electrical-tilt weights of
  TR 36.897 §5.2.2 / TR 38.901 §7.8 (Table 7.8-1: "BS antenna: M = 10, N = 1, d_V = 0.5 λ,
  electrical downtilt 102°").
* :func:`sector_gain_dbi` — element + array, the BS gain used by the large-scale calibration.
* :func:`beam_gain_dbi` — the Table 7.3-1 parabolic law applied to the angle off a beam's axis
  (a circularly symmetric beam): used for HIBS cells on HAPS, whose beams point downwards.

Angles follow TR 38.901 §7.1 (global coordinate system): zenith angle ``θ`` in degrees
(0° up, 90° horizon, 180° nadir), azimuth ``φ`` in degrees counter-clockwise from the x-axis.
An electrical tilt of 102° is a beam 12° below the horizon.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tsunagu.errors import ModelRangeError

__all__ = [
    "ELEMENT_A_MAX_DB",
    "ELEMENT_G_MAX_DBI",
    "ELEMENT_HPBW_DEG",
    "ELEMENT_SLA_V_DB",
    "beam_gain_dbi",
    "element_gain_dbi",
    "off_axis_angle_deg",
    "sector_gain_dbi",
    "vertical_array_factor_db",
    "wrap_azimuth_deg",
]

Float = NDArray[np.float64]

#: TR 38.901 Table 7.3-1: maximum directional gain of an element (dBi).
ELEMENT_G_MAX_DBI: Final = 8.0
#: TR 38.901 Table 7.3-1: 3 dB beamwidth, vertical and horizontal (degrees).
ELEMENT_HPBW_DEG: Final = 65.0
#: TR 38.901 Table 7.3-1: side-lobe level limit of the vertical cut and front-back ratio (dB).
ELEMENT_SLA_V_DB: Final = 30.0
ELEMENT_A_MAX_DB: Final = 30.0


def wrap_azimuth_deg(phi_deg: ArrayLike) -> Float:
    """Wrap an azimuth to [-180°, 180°).

    Examples
    --------
    >>> float(wrap_azimuth_deg(270.0))
    -90.0
    """
    p = np.asarray(phi_deg, dtype=np.float64)
    return np.asarray((p + 180.0) % 360.0 - 180.0, dtype=np.float64)


def element_gain_dbi(
    theta_deg: ArrayLike,
    phi_deg: ArrayLike,
    g_max_dbi: ArrayLike = ELEMENT_G_MAX_DBI,
    theta_3db_deg: ArrayLike = ELEMENT_HPBW_DEG,
    phi_3db_deg: ArrayLike = ELEMENT_HPBW_DEG,
    sla_v_db: ArrayLike = ELEMENT_SLA_V_DB,
    a_max_db: ArrayLike = ELEMENT_A_MAX_DB,
) -> Float:
    """Radiation power pattern of one antenna element, TR 38.901 v17.0.0 Table 7.3-1.

    ``A_V(θ'') = -min(12 ((θ'' - 90°)/θ3dB)², SLA_V)``,
    ``A_H(φ'') = -min(12 (φ''/φ3dB)², A_max)``,
    ``A(θ'', φ'') = -min(-(A_V + A_H), A_max) + G_E,max``.

    Parameters
    ----------
    theta_deg : array_like
        Zenith angle in the element's local coordinate system, 0–180°.
    phi_deg : array_like
        Azimuth relative to the element's boresight (any value; wrapped to ±180°).
    g_max_dbi, theta_3db_deg, phi_3db_deg, sla_v_db, a_max_db : array_like
        Pattern parameters (defaults: 8 dBi, 65°, 65°, 30 dB, 30 dB).

    Returns
    -------
    numpy.ndarray
        Gain in dBi.

    Raises
    ------
    ModelRangeError
        If a zenith angle lies outside [0°, 180°] or is NaN, or a beamwidth is not positive.

    Examples
    --------
    >>> float(element_gain_dbi(90.0, 0.0))
    8.0
    >>> float(element_gain_dbi(90.0, 180.0))
    -22.0
    """
    theta = np.asarray(theta_deg, dtype=np.float64)
    if theta.size and (np.any(np.isnan(theta)) or np.any(theta < 0.0) or np.any(theta > 180.0)):
        raise ModelRangeError(
            "TR 38.901 Table 7.3-1 element pattern: theta_deg is a zenith angle and must lie in "
            "[0, 180] degrees (90 = horizon)."
        )
    t3 = np.asarray(theta_3db_deg, dtype=np.float64)
    p3 = np.asarray(phi_3db_deg, dtype=np.float64)
    if np.any(~(t3 > 0.0)) or np.any(~(p3 > 0.0)):
        raise ModelRangeError(
            "TR 38.901 Table 7.3-1 element pattern: beamwidths must be > 0 degrees."
        )
    phi = wrap_azimuth_deg(phi_deg)
    a_v = -np.minimum(12.0 * ((theta - 90.0) / t3) ** 2, sla_v_db)
    a_h = -np.minimum(12.0 * (phi / p3) ** 2, a_max_db)
    return np.asarray(-np.minimum(-(a_v + a_h), a_max_db) + g_max_dbi, dtype=np.float64)


def vertical_array_factor_db(
    theta_deg: ArrayLike,
    tilt_deg: ArrayLike,
    n_elements: int,
    spacing_wavelengths: float = 0.5,
) -> Float:
    """Array gain of a uniform vertical column with electrical tilt (one port), in dB.

    Elements ``m = 0 … M-1`` at heights ``m d_V`` carry the weights
    ``w_m = M^(-1/2) exp(-j 2π m d_V cos θ_tilt / λ)`` (TR 36.897 §5.2.2, the port mapping of
    TR 38.901 Table 7.8-1). Towards zenith angle ``θ`` the array factor is
    ``|Σ_m w_m exp(j 2π m d_V cos θ / λ)|²``; its maximum, ``M`` (10 log10 M dB), lies at
    ``θ = θ_tilt``. The element pattern is applied separately (:func:`element_gain_dbi`).

    Parameters
    ----------
    theta_deg : array_like
        Zenith angle towards the user (degrees).
    tilt_deg : array_like
        Electrical tilt as a zenith angle (degrees): 90 is no tilt, 102 is 12° down.
    n_elements : int
        Number of elements M (≥ 1).
    spacing_wavelengths : float
        Element spacing ``d_V/λ`` (> 0).

    Returns
    -------
    numpy.ndarray
        Array gain in dB, at most ``10 log10 M``.

    Examples
    --------
    >>> round(float(vertical_array_factor_db(102.0, 102.0, 10)), 6)
    10.0
    """
    if int(n_elements) < 1:
        raise ModelRangeError(
            f"vertical array factor: n_elements must be >= 1; got {n_elements}. Pass 1 for a "
            "single element."
        )
    if not spacing_wavelengths > 0.0:
        raise ModelRangeError(
            f"vertical array factor: spacing_wavelengths must be > 0; got {spacing_wavelengths}."
        )
    m = int(n_elements)
    theta = np.radians(np.asarray(theta_deg, dtype=np.float64))
    tilt = np.radians(np.asarray(tilt_deg, dtype=np.float64))
    psi = np.pi * 2.0 * spacing_wavelengths * (np.cos(theta) - np.cos(tilt))
    # |Σ exp(j m ψ)|² / M = sin²(Mψ/2) / (M sin²(ψ/2)), with the limit M at ψ → 0 (mod 2π).
    half = 0.5 * psi
    num = np.sin(m * half) ** 2
    den = m * np.sin(half) ** 2
    small = np.abs(np.sin(half)) < 1e-9
    af = np.where(small, float(m), num / np.where(small, 1.0, den))
    return np.asarray(10.0 * np.log10(np.maximum(af, 1e-30)), dtype=np.float64)


def sector_gain_dbi(
    theta_deg: ArrayLike,
    phi_rel_deg: ArrayLike,
    tilt_deg: ArrayLike = 102.0,
    n_elements: int = 10,
    spacing_wavelengths: float = 0.5,
    g_max_dbi: ArrayLike = ELEMENT_G_MAX_DBI,
) -> Float:
    """Gain of a sector antenna: Table 7.3-1 element times a tilted vertical array (dBi).

    The TR 38.901 §7.8 calibration antenna (10 × 1 elements, 0.5 λ, tilt 102°, 8 dBi element)
    peaks at ``8 + 10 = 18`` dBi towards ``θ = 102°`` on boresight.

    Parameters
    ----------
    theta_deg : array_like
        Zenith angle from the antenna towards the user (degrees).
    phi_rel_deg : array_like
        Azimuth of the user relative to the sector's boresight (degrees).
    tilt_deg, n_elements, spacing_wavelengths : see :func:`vertical_array_factor_db`.
    g_max_dbi : array_like
        Element gain (dBi).

    Examples
    --------
    >>> round(float(sector_gain_dbi(102.0, 0.0)), 1)
    17.6
    """
    return np.asarray(
        element_gain_dbi(theta_deg, phi_rel_deg, g_max_dbi)
        + vertical_array_factor_db(theta_deg, tilt_deg, n_elements, spacing_wavelengths),
        dtype=np.float64,
    )


def off_axis_angle_deg(
    theta_deg: ArrayLike, phi_deg: ArrayLike, axis_theta_deg: ArrayLike, axis_phi_deg: ArrayLike
) -> Float:
    """Angle (degrees) between direction (θ, φ) and a beam axis (θ_a, φ_a), spherical law.

    Examples
    --------
    >>> round(float(off_axis_angle_deg(180.0, 0.0, 150.0, 45.0)), 6)
    30.0
    """
    t = np.radians(np.asarray(theta_deg, dtype=np.float64))
    p = np.radians(np.asarray(phi_deg, dtype=np.float64))
    ta = np.radians(np.asarray(axis_theta_deg, dtype=np.float64))
    pa = np.radians(np.asarray(axis_phi_deg, dtype=np.float64))
    c = np.cos(t) * np.cos(ta) + np.sin(t) * np.sin(ta) * np.cos(p - pa)
    return np.asarray(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))), dtype=np.float64)


def beam_gain_dbi(
    off_axis_deg: ArrayLike,
    g_max_dbi: ArrayLike,
    hpbw_deg: ArrayLike,
    a_max_db: ArrayLike = ELEMENT_A_MAX_DB,
) -> Float:
    """Circularly symmetric beam: ``G_max - min(12 (α/α3dB)², A_max)`` (dBi).

    The parabolic law of TR 38.901 Table 7.3-1 applied to the angle ``α`` off the beam axis;
    used for HIBS cells whose beams point down from a HAPS (ITU-R M.2101 applies the same law
    to IMT sectors). ``α`` in degrees, 0–180.

    Examples
    --------
    >>> float(beam_gain_dbi(0.0, 20.0, 30.0))
    20.0
    >>> float(beam_gain_dbi(15.0, 20.0, 30.0))
    17.0
    """
    a = np.asarray(off_axis_deg, dtype=np.float64)
    hp = np.asarray(hpbw_deg, dtype=np.float64)
    if np.any(~(hp > 0.0)):
        raise ModelRangeError("beam_gain_dbi: hpbw_deg must be > 0 degrees.")
    if a.size and (np.any(np.isnan(a)) or np.any(a < 0.0) or np.any(a > 180.0)):
        raise ModelRangeError("beam_gain_dbi: off_axis_deg must lie in [0, 180] degrees.")
    return np.asarray(g_max_dbi - np.minimum(12.0 * (a / hp) ** 2, a_max_db), dtype=np.float64)
