"""Dynamic spectrum sharing: an incumbent database and a manager that grants, limits or revokes
IMT transmitters by the aggregate interference at each active incumbent.

The role of Japan's 2.3 GHz (2330–2370 MHz) dynamic sharing system, where broadcast FPU operators
register when and where they receive and a decision system stops or restarts the mobile base
stations that would interfere, and of a CBRS SAS protecting FSS earth stations and DPAs.

Database
    :class:`IncumbentRegistry` — one row per registration: an incumbent receiver (fixed-satellite
    earth station, broadcast FPU, radio-astronomy station, ...) at a place, over a band, active
    from ``start_s`` to ``end_s``, with its protection criterion: an interference threshold in dBm
    per ``threshold_bandwidth_hz`` (e.g. FSS −129 dBm/MHz) not to be exceeded at the
    ``percentile``-th percentile of locations (95 % in the WInnForum DPA rules). Exportable as an
    Arrow table (:meth:`IncumbentRegistry.to_arrow`) for DuckDB queries.

Propagation (stated, vectorised over incumbents × transmitters)
    Free space, ITU-R P.525-4 eq. (4) (:func:`free_space_loss_db`), plus the terrestrial statistical
    clutter loss of ITU-R P.2108-1 (09/2021) Annex 1 §3.2 (:func:`p2108_terrestrial_clutter_db`)
    at the IMT end, evaluated at the location percentage ``100 − percentile`` (the clutter loss
    exceeded at all but that share of locations, so the interference is the ``percentile``-th
    percentile). P.2108 §3.2 applies to 0.5–67 GHz and path lengths >= 0.25 km; shorter paths
    use the 0.25 km value. The incumbent antenna is taken above clutter (no clutter at its end),
    and no terrain is modelled: a smooth-earth "P.452-lite" that errs towards more interference
    beyond the radio horizon. A transmitter's EIRP is spread evenly over its channel; the part of
    the channel overlapping the incumbent's band counts in full, the first adjacent channel on
    each side leaks at the TS 38.104 §6.6.3 BS ACLR (45 dB), farther channels not at all.

Decision rule (:func:`decide`, like a SAS move list with power back-off)
    1. *Reduce*: while an active incumbent is above its threshold, sort the transmitters by their
       contribution to it, keep the largest set of smallest contributors that fits under the
       threshold and step every other one down one power level (``backoff_step_db`` at a time
       up to ``max_backoff_db``, then off). Repeat until every active incumbent is protected.
    2. *Restore*: raise transmitters back one level at a time, least harmful first (smallest
       largest-share of any incumbent's threshold), accepting each raise that keeps every active
       incumbent protected and retiring a transmitter at its first refused raise.

Guarantees (tested as properties): after ``decide`` the aggregate interference at every active
incumbent is at or below its threshold; and the decision is *minimal* — for every transmitter that
is limited or revoked, raising it by one power level alone would push some active incumbent
above its threshold. Inactive registrations never limit anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

from tsunagu.errors import ModelRangeError, ScenarioError
from tsunagu.geo import great_circle_m

__all__ = [
    "BS_ACLR_DB",
    "ImtTransmitters",
    "IncumbentKind",
    "IncumbentRegistry",
    "SharingDecision",
    "aggregate_interference_dbm",
    "coupling_mw",
    "decide",
    "free_space_loss_db",
    "p2108_terrestrial_clutter_db",
]

Float = NDArray[np.float64]
IncumbentKind = Literal["fss_earth_station", "broadcast_fpu", "radio_astronomy", "other"]

_C_M_PER_S: Final = 299_792_458.0
#: TS 38.104 §6.6.3 (Table 6.6.3.2-1/-2): BS adjacent-channel leakage ratio limit, 45 dB.
BS_ACLR_DB: Final = 45.0
_P2108_F_MIN_GHZ: Final = 0.5
_P2108_F_MAX_GHZ: Final = 67.0
_P2108_D_MIN_KM: Final = 0.25


# ------------------------------------------------------------------------------ propagation


def free_space_loss_db(distance_m: ArrayLike, freq_hz: ArrayLike) -> Float:
    """Free-space basic transmission loss, ITU-R P.525-4 eq. (4): ``20 log10(4π d f / c)``.

    Examples
    --------
    >>> round(float(free_space_loss_db(1000.0, 2.35e9)), 2)
    99.87
    """
    d = np.asarray(distance_m, dtype=np.float64)
    f = np.asarray(freq_hz, dtype=np.float64)
    if np.any(~(d > 0.0)) or np.any(~(f > 0.0)):
        raise ModelRangeError("free_space_loss_db: distance_m and freq_hz must be > 0.")
    return np.asarray(20.0 * np.log10(4.0 * np.pi * d * f / _C_M_PER_S), dtype=np.float64)


def _p2108_core(f_ghz: Float, d_km: Float, q: Float) -> Float:
    # ITU-R P.2108-1 Annex 1 §3.2, eqs. (4a)-(5b), (3a)-(3b); Q^-1 by the exact normal quantile.
    sigma_l, sigma_s = 4.0, 6.0
    l_l = -2.0 * np.log10(10.0 ** (-5.0 * np.log10(f_ghz) - 12.5) + 10.0 ** (-16.5))
    l_s = 32.98 + 23.9 * np.log10(d_km) + 3.0 * np.log10(f_ghz)
    wl = 10.0 ** (-0.2 * l_l)
    ws = 10.0 ** (-0.2 * l_s)
    sigma_cb = np.sqrt((sigma_l**2 * wl + sigma_s**2 * ws) / (wl + ws))
    return np.asarray(-5.0 * np.log10(wl + ws) - sigma_cb * ndtri(1.0 - q), dtype=np.float64)


def p2108_terrestrial_clutter_db(
    freq_ghz: ArrayLike, distance_km: ArrayLike, location_pct: ArrayLike
) -> Float:
    """Clutter loss at one end of a terrestrial path, ITU-R P.2108-1 Annex 1 §3.2.

    ``L_ctt = −5 log10(10^(−0.2 L_l) + 10^(−0.2 L_s)) − σ_cb Q⁻¹(p/100)`` (eq. 3a) with
    ``L_l = −2 log10(10^(−5 log f − 12.5) + 10^(−16.5))`` (4a), ``L_s = 32.98 + 23.9 log d +
    3 log f`` (5a), σ_l = 4 dB, σ_s = 6 dB, σ_cb of eq. (3b); the loss is capped by its value at
    2 km (eq. 6). Valid for 0.5–67 GHz, ``d >= 0.25 km`` and ``0 < p < 100`` (% of locations for
    which the loss is not exceeded); shorter paths are evaluated at 0.25 km.

    Examples
    --------
    >>> round(float(p2108_terrestrial_clutter_db(3.5, 1.0, 50.0)), 1)
    30.1
    """
    f = np.asarray(freq_ghz, dtype=np.float64)
    d = np.asarray(distance_km, dtype=np.float64)
    p = np.asarray(location_pct, dtype=np.float64)
    if np.any(np.isnan(f)) or np.any(f < _P2108_F_MIN_GHZ) or np.any(f > _P2108_F_MAX_GHZ):
        raise ModelRangeError(
            f"ITU-R P.2108 §3.2 clutter loss: freq_ghz must lie in [{_P2108_F_MIN_GHZ}, "
            f"{_P2108_F_MAX_GHZ}] GHz; got {f.ravel()[:3]!r}."
        )
    if np.any(~(p > 0.0)) or np.any(~(p < 100.0)):
        raise ModelRangeError(
            f"ITU-R P.2108 §3.2 clutter loss: location_pct must lie in (0, 100); got {p!r}."
        )
    if np.any(np.isnan(d)) or np.any(d < 0.0):
        raise ModelRangeError("ITU-R P.2108 §3.2 clutter loss: distance_km must be >= 0.")
    d = np.maximum(d, _P2108_D_MIN_KM)
    q = p / 100.0
    return np.asarray(
        np.minimum(_p2108_core(f, d, q), _p2108_core(f, np.full_like(d, 2.0), q)),
        dtype=np.float64,
    )


# ------------------------------------------------------------------------------ database


def _col(x: ArrayLike, n: int | None, name: str) -> Float:
    a = np.atleast_1d(np.asarray(x, dtype=np.float64))
    if n is not None and a.shape != (n,):
        a = np.broadcast_to(a, (n,)).copy() if a.size == 1 else a
        if a.shape != (n,):
            raise ScenarioError(f"{name}: expected {n} values, got {a.size}.")
    if np.any(np.isnan(a)):
        raise ScenarioError(f"{name}: NaN is not allowed.")
    return a


@dataclass(frozen=True)
class IncumbentRegistry:
    """The incumbent database: one registration per row (columns are arrays of equal length)."""

    name: tuple[str, ...] = ()
    kind: tuple[IncumbentKind, ...] = ()
    lat_deg: Float = field(default_factory=lambda: np.zeros(0))
    lon_deg: Float = field(default_factory=lambda: np.zeros(0))
    height_m: Float = field(default_factory=lambda: np.zeros(0))
    freq_lo_hz: Float = field(default_factory=lambda: np.zeros(0))
    freq_hi_hz: Float = field(default_factory=lambda: np.zeros(0))
    threshold_dbm: Float = field(default_factory=lambda: np.zeros(0))
    threshold_bandwidth_hz: Float = field(default_factory=lambda: np.zeros(0))
    rx_gain_dbi: Float = field(default_factory=lambda: np.zeros(0))
    percentile: Float = field(default_factory=lambda: np.zeros(0))
    start_s: Float = field(default_factory=lambda: np.zeros(0))
    end_s: Float = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.name)

    def register(
        self,
        name: str,
        kind: IncumbentKind,
        lat_deg: float,
        lon_deg: float,
        freq_lo_hz: float,
        freq_hi_hz: float,
        threshold_dbm: float,
        threshold_bandwidth_hz: float = 1e6,
        *,
        height_m: float = 10.0,
        rx_gain_dbi: float = 0.0,
        percentile: float = 95.0,
        start_s: float = 0.0,
        end_s: float = float("inf"),
    ) -> IncumbentRegistry:
        """A new registry with one more registration (the registry itself is immutable).

        ``rx_gain_dbi`` is the incumbent antenna's gain towards the horizon (where the IMT
        transmitters are); ``threshold_dbm`` per ``threshold_bandwidth_hz`` is the protection
        criterion; the registration is active for ``start_s <= t < end_s``.
        """
        if not (-90.0 <= lat_deg <= 90.0 and -180.0 <= lon_deg <= 360.0):
            raise ScenarioError(f"incumbent {name!r}: lat/lon out of range ({lat_deg}, {lon_deg}).")
        if not 0.0 < freq_lo_hz < freq_hi_hz:
            raise ScenarioError(
                f"incumbent {name!r}: need 0 < freq_lo_hz < freq_hi_hz; "
                f"got {freq_lo_hz}, {freq_hi_hz}."
            )
        if not threshold_bandwidth_hz > 0.0 or not 0.0 < percentile < 100.0:
            raise ScenarioError(
                f"incumbent {name!r}: threshold_bandwidth_hz must be > 0 and percentile in "
                f"(0, 100); got {threshold_bandwidth_hz}, {percentile}."
            )
        if not end_s > start_s:
            raise ScenarioError(f"incumbent {name!r}: end_s must be after start_s.")
        if kind not in ("fss_earth_station", "broadcast_fpu", "radio_astronomy", "other"):
            raise ScenarioError(
                f"incumbent {name!r}: kind {kind!r}; use fss_earth_station, broadcast_fpu, "
                "radio_astronomy or other."
            )

        def add(a: Float, v: float) -> Float:
            return np.append(a, float(v))

        return IncumbentRegistry(
            name=(*self.name, name),
            kind=(*self.kind, kind),
            lat_deg=add(self.lat_deg, lat_deg),
            lon_deg=add(self.lon_deg, lon_deg),
            height_m=add(self.height_m, height_m),
            freq_lo_hz=add(self.freq_lo_hz, freq_lo_hz),
            freq_hi_hz=add(self.freq_hi_hz, freq_hi_hz),
            threshold_dbm=add(self.threshold_dbm, threshold_dbm),
            threshold_bandwidth_hz=add(self.threshold_bandwidth_hz, threshold_bandwidth_hz),
            rx_gain_dbi=add(self.rx_gain_dbi, rx_gain_dbi),
            percentile=add(self.percentile, percentile),
            start_s=add(self.start_s, start_s),
            end_s=add(self.end_s, end_s),
        )

    def active(self, t_s: float) -> NDArray[np.bool_]:
        """Which registrations are active at time ``t_s``."""
        return np.asarray((self.start_s <= t_s) & (t_s < self.end_s), dtype=bool)

    def allowed_dbm(self) -> Float:
        """Protection threshold converted to the incumbent's whole receive band (dBm)."""
        bw = self.freq_hi_hz - self.freq_lo_hz
        return np.asarray(
            self.threshold_dbm + 10.0 * np.log10(bw / self.threshold_bandwidth_hz),
            dtype=np.float64,
        )

    def to_arrow(self) -> object:
        """The registry as a ``pyarrow.Table`` (one row per registration)."""
        import pyarrow as pa

        return pa.table(
            {
                "name": list(self.name),
                "kind": list(self.kind),
                "lat_deg": self.lat_deg,
                "lon_deg": self.lon_deg,
                "height_m": self.height_m,
                "freq_lo_hz": self.freq_lo_hz,
                "freq_hi_hz": self.freq_hi_hz,
                "threshold_dbm": self.threshold_dbm,
                "threshold_bandwidth_hz": self.threshold_bandwidth_hz,
                "rx_gain_dbi": self.rx_gain_dbi,
                "percentile": self.percentile,
                "start_s": self.start_s,
                "end_s": self.end_s,
            }
        )


@dataclass(frozen=True)
class ImtTransmitters:
    """Secondary (IMT) transmitters asking for spectrum: one row per base-station carrier."""

    lat_deg: Float
    lon_deg: Float
    eirp_dbm: Float  # maximum EIRP towards the horizon over the whole channel
    freq_lo_hz: Float
    freq_hi_hz: Float
    height_m: Float

    @staticmethod
    def from_arrays(
        lat_deg: ArrayLike,
        lon_deg: ArrayLike,
        eirp_dbm: ArrayLike,
        freq_lo_hz: ArrayLike,
        freq_hi_hz: ArrayLike,
        height_m: ArrayLike = 25.0,
    ) -> ImtTransmitters:
        lat = _col(lat_deg, None, "lat_deg")
        n = lat.size
        tx = ImtTransmitters(
            lat_deg=lat,
            lon_deg=_col(lon_deg, n, "lon_deg"),
            eirp_dbm=_col(eirp_dbm, n, "eirp_dbm"),
            freq_lo_hz=_col(freq_lo_hz, n, "freq_lo_hz"),
            freq_hi_hz=_col(freq_hi_hz, n, "freq_hi_hz"),
            height_m=_col(height_m, n, "height_m"),
        )
        if np.any(~(tx.freq_hi_hz > tx.freq_lo_hz)) or np.any(~(tx.freq_lo_hz > 0.0)):
            raise ScenarioError("IMT transmitters: need 0 < freq_lo_hz < freq_hi_hz per row.")
        return tx

    def __len__(self) -> int:
        return int(self.lat_deg.size)


# ------------------------------------------------------------------------------ coupling


def _overlap_hz(lo1: Float, hi1: Float, lo2: Float, hi2: Float) -> Float:
    return np.asarray(np.clip(np.minimum(hi1, hi2) - np.maximum(lo1, lo2), 0.0, None))


def coupling_mw(
    incumbents: IncumbentRegistry, tx: ImtTransmitters, aclr_db: float = BS_ACLR_DB
) -> Float:
    """Interference power (mW) each transmitter at full EIRP puts in each incumbent's band.

    Shape (incumbents, transmitters); free space + P.2108 clutter (see module docstring).
    """
    d_m = great_circle_m(
        incumbents.lat_deg[:, None],
        incumbents.lon_deg[:, None],
        tx.lat_deg[None, :],
        tx.lon_deg[None, :],
    )
    dh = incumbents.height_m[:, None] - tx.height_m[None, :]
    d3 = np.sqrt(d_m**2 + dh**2)
    f_mid = 0.5 * (tx.freq_lo_hz + tx.freq_hi_hz)[None, :]
    loss = free_space_loss_db(np.maximum(d3, 1.0), f_mid) + p2108_terrestrial_clutter_db(
        f_mid / 1e9, d_m / 1e3, 100.0 - incumbents.percentile[:, None]
    )
    bw = (tx.freq_hi_hz - tx.freq_lo_hz)[None, :]
    ilo, ihi = incumbents.freq_lo_hz[:, None], incumbents.freq_hi_hz[:, None]
    tlo, thi = tx.freq_lo_hz[None, :], tx.freq_hi_hz[None, :]
    inband = _overlap_hz(ilo, ihi, tlo, thi) / bw
    adjacent = (_overlap_hz(ilo, ihi, thi, thi + bw) + _overlap_hz(ilo, ihi, tlo - bw, tlo)) / bw
    share = inband + adjacent * 10.0 ** (-aclr_db / 10.0)
    p_dbm = tx.eirp_dbm[None, :] + incumbents.rx_gain_dbi[:, None] - loss
    return np.asarray(10.0 ** (p_dbm / 10.0) * share, dtype=np.float64)


def aggregate_interference_dbm(coupling: Float, power_scale: ArrayLike) -> Float:
    """Aggregate interference (dBm) at each incumbent for linear power factors per transmitter."""
    tot = coupling @ np.asarray(power_scale, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.asarray(10.0 * np.log10(tot), dtype=np.float64)


# ------------------------------------------------------------------------------ decision


@dataclass(frozen=True)
class SharingDecision:
    """Outcome of :func:`decide` at one time.

    ``level`` per transmitter: 0 = full power, ``1..n_backoff`` = back-off of
    ``level · backoff_step_db``, ``n_backoff + 1`` = revoked. ``aggregate_dbm`` and
    ``allowed_dbm`` per registration (``-inf`` aggregate and no constraint when inactive).
    """

    t_s: float
    level: NDArray[np.int64]
    backoff_db: Float  # inf where revoked
    power_scale: Float  # linear factor applied to each transmitter's EIRP (0 where revoked)
    active: NDArray[np.bool_]
    aggregate_dbm: Float
    allowed_dbm: Float
    n_backoff: int
    backoff_step_db: float

    @property
    def status(self) -> NDArray[np.str_]:
        """``granted`` / ``limited`` / ``revoked`` per transmitter."""
        return np.where(
            self.level == 0,
            "granted",
            np.where(self.level > self.n_backoff, "revoked", "limited"),
        )


def _scale_of(level: NDArray[np.int64], step_db: float, n_backoff: int) -> Float:
    return np.asarray(
        np.where(level > n_backoff, 0.0, 10.0 ** (-level * step_db / 10.0)), dtype=np.float64
    )


def decide(
    incumbents: IncumbentRegistry,
    tx: ImtTransmitters,
    t_s: float,
    *,
    backoff_step_db: float = 3.0,
    max_backoff_db: float = 9.0,
    coupling: Float | None = None,
) -> SharingDecision:
    """Grant, limit or revoke each transmitter at time ``t_s`` (rule in the module docstring).

    ``coupling`` (incumbents × transmitters, mW at full power) can be passed when the same
    geometry is decided at many times; it defaults to :func:`coupling_mw`.

    Raises
    ------
    ScenarioError
        If the back-off ladder is malformed.
    """
    if not backoff_step_db > 0.0 or not max_backoff_db >= 0.0:
        raise ScenarioError(
            "decide: backoff_step_db must be > 0 dB and max_backoff_db >= 0 dB; got "
            f"{backoff_step_db}, {max_backoff_db}."
        )
    n_backoff = int(np.floor(max_backoff_db / backoff_step_db + 1e-9))
    off = n_backoff + 1
    g_all = coupling_mw(incumbents, tx) if coupling is None else np.asarray(coupling)
    if g_all.shape != (len(incumbents), len(tx)):
        raise ScenarioError(
            f"decide: coupling must be (incumbents, transmitters) = {(len(incumbents), len(tx))}."
        )
    act = incumbents.active(t_s)
    allowed_all = incumbents.allowed_dbm()
    g = g_all[act]
    allowed = 10.0 ** (allowed_all[act] / 10.0)
    tol = 1.0 + 1e-9
    level = np.zeros(len(tx), dtype=np.int64)

    # 1. reduce: step the move list of every violated incumbent down one level, repeat
    while g.shape[0]:
        scale = _scale_of(level, backoff_step_db, n_backoff)
        contrib = g * scale[None, :]
        agg = contrib.sum(axis=1)
        bad = agg > allowed * tol
        if not bad.any():
            break
        cb = contrib[bad]
        order = np.argsort(cb, axis=1, kind="stable")
        csum = np.cumsum(np.take_along_axis(cb, order, axis=1), axis=1)
        keep_sorted = csum <= allowed[bad][:, None] * tol
        move = np.zeros_like(cb, dtype=bool)
        np.put_along_axis(move, order, ~keep_sorted, axis=1)
        move &= cb > 0.0
        step_down = move.any(axis=0) & (level < off)
        level = level + step_down.astype(np.int64)

    # 2. restore: raise one level at a time, least harmful first; retire at first refusal
    retired = level == 0
    while g.shape[0]:
        cand = np.nonzero(~retired)[0]
        if cand.size == 0:
            break
        scale = _scale_of(level, backoff_step_db, n_backoff)
        head = allowed * tol - g @ scale
        up = _scale_of(level[cand] - 1, backoff_step_db, n_backoff) - scale[cand]
        delta = g[:, cand] * up[None, :]  # (active incumbents, candidates)
        alone_bad = np.any(delta > head[:, None], axis=0)
        if alone_bad.any():  # refused even on their own: retire them all at once
            retired[cand[alone_bad]] = True
            continue
        harm = (delta / allowed[:, None]).max(axis=0)
        order = np.argsort(harm, kind="stable")
        cum = np.cumsum(delta[:, order], axis=1)
        fits = np.all(cum <= head[:, None], axis=0)
        n_ok = int(np.argmin(fits)) if not fits.all() else fits.size
        accepted = cand[order[:n_ok]]
        level[accepted] -= 1
        if n_ok < fits.size:
            retired[cand[order[n_ok]]] = True
        retired |= level == 0
    if g.shape[0] == 0:
        level[:] = 0

    scale = _scale_of(level, backoff_step_db, n_backoff)
    agg_dbm = np.full(len(incumbents), -np.inf)
    with np.errstate(divide="ignore"):
        agg_dbm[act] = 10.0 * np.log10(g @ scale)
    return SharingDecision(
        t_s=float(t_s),
        level=level,
        backoff_db=np.where(level > n_backoff, np.inf, level * backoff_step_db),
        power_scale=scale,
        active=act,
        aggregate_dbm=agg_dbm,
        allowed_dbm=allowed_all,
        n_backoff=n_backoff,
        backoff_step_db=float(backoff_step_db),
    )
