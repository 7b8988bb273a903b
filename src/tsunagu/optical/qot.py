"""Quality of transmission of optical lightpaths: ASE, GN-model NLI, GSNR and latency.

Pure, vectorised model functions. A lightpath is a chain of fibre spans (where nonlinear
interference, NLI, is generated), optical amplifiers (where amplified spontaneous emission, ASE,
is added), ROADM add/drop stages and a transceiver pair (whose noise is given as an OSNR). Under
the incoherent-accumulation assumption of the GN model every impairment is an additive white
Gaussian noise, so the generalised SNR of a channel is

.. math::

    \\mathrm{GSNR}^{-1} = \\sum_{\\text{amps}} \\frac{P_{ASE}}{P_{in}}
        + \\sum_{\\text{spans}} \\frac{P_{NLI}}{P_{launch}}
        + \\sum_{\\text{trx, ROADM}} \\mathrm{OSNR}_{B_s}^{-1}

with each term evaluated where the noise is added (the same gain or loss then scales signal and
noise alike). This is the accumulation GNPy uses when it propagates a full spectrum element by
element; here it is evaluated for many lightpaths at once as array sums.

Models and their sources
------------------------
* ASE of an amplifier, referred to its input, in the signal bandwidth :math:`B`:
  :math:`P_{ASE} = F\\,h\\,\\nu\\,B` (high-gain limit of :math:`n_{sp} h \\nu (G-1) B`, two
  polarisations, :math:`F \\approx 2 n_{sp}`; E. Desurvire, *Erbium-Doped Fiber Amplifiers*,
  Wiley 1994, ch. 2; the same convention as GNPy ``Edfa.noise_profile``).
* NLI: closed-form incoherent GN model, P. Poggiolini et al., "The GN model of non-linear
  propagation in uncompensated coherent optical systems", J. Lightwave Technol. 30(24), 2012, and
  the extended derivation arXiv:1209.0394 (eq. 120 for the NLI power spectral density with the
  SPM/XPM weights 16/27 and 32/27, eq. 123 for the per-pair :math:`\\psi` with asinh).
* Fibre dispersion and nonlinearity at each channel frequency: :math:`\\beta_2 = -D\\lambda^2 /
  (2\\pi c)` with :math:`D(f) = D_{ref}(f/f_{ref})^2` when no slope is given (GNPy's convention);
  :math:`\\gamma(f) = 2\\pi n_2 f / (c A_{eff}(f))` with the Marcuse Gaussian-mode effective
  area of a step-index core (D. Marcuse, "Loss analysis of single-mode fiber splices", Bell Syst.
  Tech. J. 56(5), 1977), :math:`n_2 = 2.6\\times10^{-20}` m²/W.
* Latency: group index 1.468 (4.897 µs/km), :data:`tsunagu.constants.FIBRE_GROUP_INDEX`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tsunagu.constants import C_M_PER_S, FIBRE_GROUP_INDEX
from tsunagu.errors import ModelRangeError, ScenarioError

__all__ = [
    "H_PLANCK_J_S",
    "NONLINEAR_INDEX_M2_PER_W",
    "QotResult",
    "ase_inverse_snr",
    "ase_noise_power_w",
    "channel_comb_hz",
    "compose_noise_segments",
    "compose_noise_shares",
    "fibre_alpha_per_m",
    "fibre_beta2_s2_per_m",
    "fibre_effective_area_m2",
    "fibre_gamma_per_w_m",
    "gn_model_analytic_eta",
    "gsnr_of_chains",
    "lightpath_qot",
    "nli_inverse_snr",
    "noise_share_factors",
    "power_transfer_accumulation",
    "qot_from_inverse_snr",
    "snr_01nm_to_bandwidth_db",
    "snr_bandwidth_to_01nm_db",
]

#: Planck constant (exact, SI 2019).
H_PLANCK_J_S = 6.62607015e-34
#: Nonlinear refractive index of silica, m²/W (G. P. Agrawal, Nonlinear Fiber Optics; GNPy default).
NONLINEAR_INDEX_M2_PER_W = 2.6e-20
#: OSNR reference bandwidth: 0.1 nm at 1550 nm ≈ 12.5 GHz (ITU-T G.697 practice).
OSNR_REFERENCE_BANDWIDTH_HZ = 12.5e9
#: Core radius and core index for the Marcuse effective-area scaling (GNPy defaults for SSMF).
_CORE_RADIUS_M = 4.2e-6
_CORE_INDEX = 1.468
#: SPM and XPM weights of the GN model, arXiv:1209.0394 eq. 120 (dual polarisation).
_SPM_WEIGHT = 16.0 / 27.0
_XPM_WEIGHT = 32.0 / 27.0
#: Reference wavelength of fibre parameters when none is given (1550 nm).
REF_FREQUENCY_HZ = C_M_PER_S / 1550e-9
#: Elements (lightpaths × spans × channels) per chunk of :func:`lightpath_qot`.
_CHAIN_CHUNK_ELEMENTS = 2_000_000


def _db2lin(x: ArrayLike) -> NDArray[np.float64]:
    return np.power(10.0, np.asarray(x, dtype=float) / 10.0)


def _lin2db(x: ArrayLike) -> NDArray[np.float64]:
    with np.errstate(divide="ignore"):
        return np.asarray(10.0 * np.log10(np.asarray(x, dtype=float)), dtype=float)


def channel_comb_hz(f_min_hz: float, spacing_hz: float, count: int) -> NDArray[np.float64]:
    """Centre frequencies of a full-load comb: ``f_min + k·spacing`` for ``k = 0..count-1``."""
    if count < 1 or spacing_hz <= 0.0:
        raise ScenarioError(
            f"a channel comb needs count >= 1 and spacing > 0 (got count={count}, "
            f"spacing_hz={spacing_hz}); pass the transceiver spacing in Hz"
        )
    return f_min_hz + spacing_hz * np.arange(count, dtype=float)


def snr_01nm_to_bandwidth_db(
    snr_01nm_db: ArrayLike, baud_rate_hz: ArrayLike
) -> NDArray[np.float64]:
    """SNR in the signal bandwidth from an OSNR in 0.1 nm: subtract ``10 log10(Rs / 12.5 GHz)``."""
    return np.asarray(snr_01nm_db, dtype=float) - _lin2db(
        np.asarray(baud_rate_hz, dtype=float) / OSNR_REFERENCE_BANDWIDTH_HZ
    )


def snr_bandwidth_to_01nm_db(snr_db: ArrayLike, baud_rate_hz: ArrayLike) -> NDArray[np.float64]:
    """OSNR in 0.1 nm (12.5 GHz) from an SNR in the signal bandwidth (inverse of the above)."""
    return np.asarray(snr_db, dtype=float) + _lin2db(
        np.asarray(baud_rate_hz, dtype=float) / OSNR_REFERENCE_BANDWIDTH_HZ
    )


def ase_noise_power_w(
    noise_figure_db: ArrayLike, frequency_hz: ArrayLike, bandwidth_hz: ArrayLike
) -> NDArray[np.float64]:
    """ASE power of an optical amplifier referred to its input, in a bandwidth: ``F·h·ν·B``.

    Parameters
    ----------
    noise_figure_db : array_like
        Amplifier noise figure F (dB).
    frequency_hz : array_like
        Optical frequency ν (Hz).
    bandwidth_hz : array_like
        Noise bandwidth B (Hz): the symbol rate for SNR in the signal bandwidth, 12.5 GHz for
        OSNR in 0.1 nm.

    Returns
    -------
    ndarray
        ASE power (W) at the amplifier input; multiply by the gain for the output.

    References
    ----------
    E. Desurvire, *Erbium-Doped Fiber Amplifiers*, Wiley 1994, ch. 2 (high-gain limit);
    the per-channel convention of GNPy ``Edfa.noise_profile``.

    Examples
    --------
    >>> p = ase_noise_power_w(5.0, 193.4e12, 12.5e9)
    >>> round(float(10 * np.log10(p * 1e3)), 2)  # the classic -58 dBm + NF in 0.1 nm
    -52.95
    """
    return np.asarray(
        _db2lin(noise_figure_db)
        * H_PLANCK_J_S
        * np.asarray(frequency_hz, dtype=float)
        * np.asarray(bandwidth_hz, dtype=float)
    )


def fibre_alpha_per_m(loss_db_per_km: ArrayLike) -> NDArray[np.float64]:
    """Power attenuation coefficient (1/m, natural log) from a loss coefficient in dB/km."""
    return np.asarray(np.asarray(loss_db_per_km, dtype=float) / (10.0 * np.log10(np.e)) / 1e3)


def fibre_beta2_s2_per_m(
    dispersion_s_per_m2: ArrayLike,
    frequency_hz: ArrayLike,
    ref_frequency_hz: float = REF_FREQUENCY_HZ,
) -> NDArray[np.float64]:
    """Group-velocity dispersion β2 (s²/m) at each frequency from the dispersion D at a reference.

    ``β2 = -D(f) λ² / (2π c)`` with ``D(f) = D_ref (f / f_ref)²`` (no dispersion slope), the
    convention of GNPy ``Fiber.beta2``. ``dispersion_s_per_m2`` is D in s/m² (17 ps/nm/km =
    1.7e-5 s/m²).
    """
    f = np.asarray(frequency_hz, dtype=float)
    d = np.asarray(dispersion_s_per_m2, dtype=float) * (f / ref_frequency_hz) ** 2
    wavelength_m = C_M_PER_S / f
    return np.asarray(-(wavelength_m**2) * d / (2.0 * np.pi * C_M_PER_S))


def fibre_effective_area_m2(
    effective_area_m2: ArrayLike,
    frequency_hz: ArrayLike,
    ref_frequency_hz: float = REF_FREQUENCY_HZ,
) -> NDArray[np.float64]:
    """Effective area at each frequency from its value at a reference frequency (Marcuse 1977).

    A step-index core of radius a = 4.2 µm and index 1.468 is assumed; its relative index
    contrast is chosen so that the Gaussian mode-field of Marcuse's fit reproduces the given
    effective area at the reference frequency: ``V = exp(π a² / A_ref)`` there,
    ``w = a / sqrt(ln V)``, ``A(f) = π w²`` with ``V ∝ f``.
    """
    a_ref = np.asarray(effective_area_m2, dtype=float)
    if np.any(a_ref <= 0.0):
        raise ModelRangeError("effective_area_m2 must be > 0 (SSMF: 80e-12 m²)")
    f = np.asarray(frequency_hz, dtype=float)
    v = np.exp(np.pi * _CORE_RADIUS_M**2 / a_ref) * (f / ref_frequency_hz)
    w2 = _CORE_RADIUS_M**2 / np.log(v)
    return np.asarray(np.pi * w2)


def fibre_gamma_per_w_m(
    effective_area_m2: ArrayLike,
    frequency_hz: ArrayLike,
    ref_frequency_hz: float = REF_FREQUENCY_HZ,
) -> NDArray[np.float64]:
    """Nonlinear coefficient γ(f) = 2π n2 f / (c A_eff(f)) in 1/(W·m)."""
    f = np.asarray(frequency_hz, dtype=float)
    a = fibre_effective_area_m2(effective_area_m2, f, ref_frequency_hz)
    return np.asarray(2.0 * np.pi * NONLINEAR_INDEX_M2_PER_W * f / (C_M_PER_S * a))


def gn_model_analytic_eta(
    frequency_hz: ArrayLike,
    baud_rate_hz: ArrayLike,
    alpha_per_m: ArrayLike,
    beta2_s2_per_m: ArrayLike,
    gamma_per_w_m: ArrayLike,
    length_m: ArrayLike,
) -> NDArray[np.float64]:
    """NLI efficiency η of one span, closed-form incoherent GN model (Poggiolini 2012).

    The NLI power on the channel under test (CUT) i at the span end, referred to the span input,
    is ``P_NLI,i = P_i Σ_j η_ij P_j²`` (W) with

    .. math::

        \\eta_{ij} = \\frac{\\gamma_i^2\\,w_{ij}\\,\\psi_{ij}}{R_j^2},\\qquad
        \\psi_{ij} = \\frac{L_{eff}^2}{4\\pi|\\bar\\beta_2|L_a}\\Big[
          \\operatorname{asinh}(\\pi^2 L_a|\\bar\\beta_2| R_i (\\Delta f_{ij} + R_j/2))
        - \\operatorname{asinh}(\\pi^2 L_a|\\bar\\beta_2| R_i (\\Delta f_{ij} - R_j/2))\\Big]

    where :math:`w_{ii} = 16/27` (SPM), :math:`w_{ij} = 32/27` (XPM), :math:`L_a = 1/\\alpha`,
    :math:`L_{eff} = (1 - e^{-\\alpha L})/\\alpha`, :math:`\\bar\\beta_2` the mean of the two
    channels' β2 and :math:`\\Delta f_{ij} = f_j - f_i` (arXiv:1209.0394 eqs. 120 and 123; the
    evaluation of GNPy ``gn_model_analytic``). The local-white-noise approximation integrates
    the NLI PSD at the CUT centre over the CUT symbol rate.

    Parameters
    ----------
    frequency_hz, baud_rate_hz : array_like, shape (C,)
        Channel centre frequencies and symbol rates of the comb.
    alpha_per_m, length_m : array_like, shape (...)
        Span attenuation (1/m) and length (m); any leading shape (spans, lightpaths, ...).
    beta2_s2_per_m, gamma_per_w_m : array_like, shape (..., C)
        β2 and γ of each span at each channel frequency.

    Returns
    -------
    ndarray, shape (..., C, C)
        η_ij in 1/W² (CUT i along the second-to-last axis, pump j along the last).
    """
    f = np.asarray(frequency_hz, dtype=float)
    rs = np.broadcast_to(np.asarray(baud_rate_hz, dtype=float), f.shape)
    alpha = np.asarray(alpha_per_m, dtype=float)[..., None, None]
    length = np.asarray(length_m, dtype=float)[..., None, None]
    beta2 = np.asarray(beta2_s2_per_m, dtype=float)
    gamma = np.asarray(gamma_per_w_m, dtype=float)
    if np.any(alpha <= 0.0):
        raise ModelRangeError("the GN model needs a fibre loss > 0 dB/km (SSMF: 0.2 dB/km)")
    nch = f.size
    beta2_pair = np.abs(0.5 * (beta2[..., :, None] + beta2[..., None, :]))
    if np.any(beta2_pair == 0.0):
        raise ModelRangeError(
            "the closed-form GN model diverges at zero dispersion; pass D != 0 (SSMF 1.67e-5 s/m²)"
        )
    l_asym = 1.0 / alpha
    l_eff = (1.0 - np.exp(-alpha * length)) / alpha
    df = f[None, :] - f[:, None]
    rs_cut = rs[:, None]
    rs_pump = rs[None, :]
    k = np.pi**2 * l_asym * beta2_pair * rs_cut
    psi = (np.arcsinh(k * (df + rs_pump / 2.0)) - np.arcsinh(k * (df - rs_pump / 2.0))) / 2.0
    psi = psi * l_eff**2 / (2.0 * np.pi * beta2_pair * l_asym)
    weight = np.full((nch, nch), _XPM_WEIGHT)
    np.fill_diagonal(weight, _SPM_WEIGHT)
    return np.asarray(gamma[..., :, None] ** 2 * weight * psi / rs_pump**2)


@dataclass(frozen=True)
class QotResult:
    """QoT of L lightpaths on a comb of C channels (per channel arrays have shape (L, C)).

    ``*_db`` values are SNRs in the signal bandwidth (the symbol rate); ``*_01nm_db`` the same
    in the 0.1 nm (12.5 GHz) reference bandwidth. ``osnr_ase`` counts ASE, transceiver and ROADM
    noise (everything but NLI), as GNPy's ``OSNR`` does; ``snr_nli`` NLI alone. The summaries
    (shape (L,)) are the mean over the comb of the per-channel dB values, as GNPy's
    "(average)" columns, and the worst channel.
    """

    frequency_hz: NDArray[np.float64]
    baud_rate_hz: float
    gsnr_db: NDArray[np.float64]
    gsnr_01nm_db: NDArray[np.float64]
    osnr_ase_db: NDArray[np.float64]
    osnr_ase_01nm_db: NDArray[np.float64]
    snr_nli_db: NDArray[np.float64]
    latency_s: NDArray[np.float64]
    length_km: NDArray[np.float64]
    gsnr_mean_db: NDArray[np.float64]
    gsnr_01nm_mean_db: NDArray[np.float64]
    gsnr_01nm_min_db: NDArray[np.float64]
    osnr_ase_mean_db: NDArray[np.float64]
    osnr_ase_01nm_mean_db: NDArray[np.float64]
    #: Worst-channel GSNR (0.1 nm) minus the mode's required OSNR, (L,); NaN when not given.
    margin_db: NDArray[np.float64] | None = None


def _padded(x: ArrayLike, shape: tuple[int, ...], name: str) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=float)
    try:
        return np.broadcast_to(arr, shape).astype(float)
    except ValueError:
        raise ScenarioError(
            f"{name} has shape {arr.shape}; pass a scalar or an array broadcastable to {shape}"
        ) from None


def ase_inverse_snr(
    noise_figure_db: ArrayLike,
    input_power_dbm: ArrayLike,
    frequency_hz: ArrayLike,
    baud_rate_hz: float,
) -> NDArray[np.float64]:
    """Inverse SNR (linear, signal bandwidth) added by amplifiers: ``F h ν Rs / P_in``.

    ``noise_figure_db`` and ``input_power_dbm`` (per channel, at the amplifier input) have a
    shape ``(...)``; the result has shape ``(..., C)`` for the ``C`` frequencies. A NaN noise
    figure (padding) contributes 0.
    """
    nf = np.asarray(noise_figure_db, dtype=float)
    p = np.asarray(input_power_dbm, dtype=float)
    valid = np.isfinite(nf)
    per = np.where(valid, _db2lin(np.where(valid, nf, 0.0)), 0.0) / (
        _db2lin(np.where(valid, p, 0.0)) * 1e-3
    )
    f = np.asarray(frequency_hz, dtype=float)
    return np.asarray(per[..., None] * H_PLANCK_J_S * f * baud_rate_hz)


def nli_inverse_snr(
    frequency_hz: ArrayLike,
    baud_rate_hz: float,
    length_km: ArrayLike,
    loss_db_per_km: ArrayLike,
    launch_power_dbm: ArrayLike,
    dispersion_s_per_m2: ArrayLike = 1.67e-5,
    effective_area_m2: ArrayLike = 83e-12,
) -> NDArray[np.float64]:
    """NLI-to-power ratio ``P_NLI,i / P_i = Σ_j η_ij P_j²`` of S spans, shape (S, C).

    ``launch_power_dbm`` is the per-channel power at each fibre input (after its input
    connector), shape (S,) for a flat comb or (S, C) per channel. η comes from
    :func:`gn_model_analytic_eta`; spans with equal (length, loss, D, A_eff) share one η
    matrix.
    """
    f = np.atleast_1d(np.asarray(frequency_hz, dtype=float))
    length = np.atleast_1d(np.asarray(length_km, dtype=float))
    shape = length.shape
    loss = _padded(loss_db_per_km, shape, "loss_db_per_km")
    p_dbm = np.asarray(launch_power_dbm, dtype=float)
    if p_dbm.shape == (*shape, f.size):
        p_w = _db2lin(p_dbm) * 1e-3
    else:
        p_w = np.repeat(
            _db2lin(_padded(p_dbm, shape, "launch_power_dbm"))[..., None] * 1e-3, f.size, -1
        )
    disp = _padded(dispersion_s_per_m2, shape, "dispersion_s_per_m2")
    aeff = _padded(effective_area_m2, shape, "effective_area_m2")
    out = np.zeros((*shape, f.size))
    used = length > 0.0
    if not np.any(used):
        return out
    # η ∝ L_eff² = (1 - e^{-αL})² / α² and nothing else depends on the length, so one matrix
    # per fibre type (loss, D, A_eff) at L → ∞ serves every span of that type.
    params = np.stack([loss[used], disp[used], aeff[used]], axis=1)
    if np.all(params == params[0]):  # one fibre type (the common case): skip the sort
        unique, inverse = params[:1], np.zeros(params.shape[0], dtype=np.int64)
    else:
        unique, inverse = np.unique(params, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
    alpha = fibre_alpha_per_m(loss[used])
    scale = np.expm1(-alpha * length[used] * 1e3) ** 2
    p2 = p_w[used] ** 2
    x = np.empty((params.shape[0], f.size))
    for u, (u_loss, u_disp, u_aeff) in enumerate(unique):
        eta_inf = gn_model_analytic_eta(
            f,
            baud_rate_hz,
            fibre_alpha_per_m(u_loss),
            fibre_beta2_s2_per_m(u_disp, f),
            fibre_gamma_per_w_m(u_aeff, f),
            np.inf,
        )
        sel = np.nonzero(inverse == u)[0]
        x[sel] = scale[sel, None] * (p2[sel] @ eta_inf.T)
    out[used] = x
    return out


def _cumsum_axis0(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``np.cumsum(x, axis=0)``, computed along the contiguous last axis (or row by row).

    NumPy 2.4's accumulate along a leading axis is two orders of magnitude slower than along
    the last one, and this running sum is on the hot path of every QoT evaluation.
    """
    if x.shape[0] <= 64:
        out = np.empty_like(x)
        acc = np.zeros(x.shape[1:])
        for k in range(x.shape[0]):
            acc += x[k]
            out[k] = acc
        return out
    flat = np.ascontiguousarray(x.reshape(x.shape[0], -1).T)
    return np.ascontiguousarray(np.cumsum(flat, axis=-1).T).reshape(x.shape)


def noise_share_factors(
    ase_to_power: ArrayLike, nli_to_power: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-element factors of the power-transfer accounting of :func:`power_transfer_accumulation`.

    Returns ``log_m = log(1 - x) - log(1 + a)`` (change of the log signal share of the channel
    power) and ``b = a`` (the ASE-to-signal increment at the element's input share), same shape
    as the inputs.
    """
    a = np.asarray(ase_to_power, dtype=float)
    x = np.asarray(nli_to_power, dtype=float)
    if np.any(x >= 1.0) or np.any(a < 0.0) or np.any(x < 0.0):
        raise ModelRangeError(
            "noise-to-power ratios must lie in [0, 1): NLI above the channel power means a "
            "launch power far outside the GN model's range"
        )
    return np.log1p(-x) - np.log1p(a), a.copy()


def compose_noise_shares(
    log_m: ArrayLike, b: ArrayLike, index: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Compose element factors along chains: ``(Σ log_m, Σ_k b_k exp(-Σ_{j<k} log_m_j))``.

    The composition is associative, so a segment crossed as a whole (an optical multiplex
    section between two ROADMs) can be composed once and reused by every lightpath.

    Parameters
    ----------
    log_m, b : array_like, shape (L, K, C), or (E, C) with ``index``
        Factors per chain element in order (pad with 0).
    index : array_like of int, shape (L, K), optional
        Rows of an (E, C) factor table along each chain (pad with a row of zeros).

    Returns
    -------
    log_m_total, b_total : ndarray, shape (L, C)
    """
    lm = np.asarray(log_m, dtype=float)
    bb = np.asarray(b, dtype=float)
    # element axis first, (K, L, C): the running sum then runs over whole contiguous rows
    if index is not None:
        idx = np.asarray(index, dtype=np.int64).T
        lm = lm[idx]
        bb = bb[idx]
    else:
        lm = np.ascontiguousarray(np.moveaxis(lm, 1, 0))
        bb = np.ascontiguousarray(np.moveaxis(bb, 1, 0))
    before = _cumsum_axis0(lm)
    total = before[-1].copy()
    before -= lm
    np.negative(before, out=before)
    np.exp(before, out=before)
    before *= bb
    return total, before.sum(axis=0)


def compose_noise_segments(
    log_m: ArrayLike, b: ArrayLike, starts: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`compose_noise_shares` for chains stored back to back in one (N, C) table.

    ``starts`` (S,) are the first rows of the S chains (increasing; every chain non-empty).
    Returns the composed ``(log_m, b)`` of each chain, shape (S, C). No padding is needed, so
    chains of very different lengths cost only their own rows.
    """
    lm = np.asarray(log_m, dtype=float)
    bb = np.asarray(b, dtype=float)
    st = np.asarray(starts, dtype=np.int64)
    csum = _cumsum_axis0(lm)
    before = csum - lm
    offset = before[st]  # cumulative sum before each chain's first row
    seg_len = np.diff(np.concatenate([st, [lm.shape[0]]]))
    before -= np.repeat(offset, seg_len, axis=0)
    weight = np.exp(-before)
    return np.add.reduceat(lm, st, axis=0), np.add.reduceat(bb * weight, st, axis=0)


def power_transfer_accumulation(
    ase_to_power: ArrayLike,
    nli_to_power: ArrayLike,
    index: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Inverse GSNR and inverse OSNR-ASE of element chains when noise is part of channel power.

    Gains, losses and ROADM equalisation act on the whole channel power (signal plus the noise
    it carries), ASE adds power and NLI transfers power from the channel to noise (energy is
    conserved). Per element k along a chain, with ``a_k = P_ASE/P`` at an amplifier input and
    ``x_k = P_NLI/P`` at a fibre input (both on total channel power P), the signal share of
    the channel power evolves as ``s ← s/(1 + a_k)`` and ``s ← s(1 - x_k)``; at the end
    ``GSNR = s/(1 - s)`` and ``OSNR_ASE = s/A`` with ``A/s = Σ_k a_k / s_k`` (``s_k`` the
    share entering element k). To first order this is the incoherent sum ``Σ a_k + Σ x_k``;
    the exact form is the accounting GNPy 3.0.1 uses (``SpectralInformation`` ratios).

    Parameters
    ----------
    ase_to_power, nli_to_power : array_like, shape (L, K, C), or (E, C) with ``index``
        Per lightpath, per element in path order (pad with 0), per channel; or a table of E
        elements gathered by ``index``.
    index : array_like of int, shape (L, K), optional
        Rows of the element table along each lightpath, in order (pad with a row of zeros).

    Returns
    -------
    inv_gsnr, inv_osnr_ase : ndarray, shape (L, C)
        ``1/GSNR`` and ``1/OSNR_ASE`` (linear, bandwidth of the ASE term).

    Examples
    --------
    >>> inv_g, inv_o = power_transfer_accumulation([[[1e-3], [2e-3]]], [[[0.0], [1e-3]]])
    >>> bool(inv_g[0, 0] > 1e-3 + 2e-3 + 1e-3)  # slightly above the first-order sum
    True
    """
    log_m, b = noise_share_factors(ase_to_power, nli_to_power)
    total, b_total = compose_noise_shares(log_m, b, index)
    return np.expm1(-total), b_total


def qot_from_inverse_snr(
    *,
    frequency_hz: ArrayLike,
    baud_rate_hz: float,
    inv_snr_ase: ArrayLike,
    inv_snr_nli: ArrayLike,
    osnr_01nm_db: ArrayLike,
    length_km: ArrayLike,
    equipment_latency_s: ArrayLike = 0.0,
) -> QotResult:
    """Assemble a :class:`QotResult` from accumulated inverse SNRs of L lightpaths.

    ``inv_snr_ase`` and ``inv_snr_nli`` have shape (L, C) (signal bandwidth, linear);
    ``osnr_01nm_db`` (L, R) lists other noise as OSNR in 0.1 nm (transmitter, ROADM add/drop),
    NaN or +inf padded; ``length_km`` (L,) is the fibre length for the propagation delay.
    """
    f = np.atleast_1d(np.asarray(frequency_hz, dtype=float))
    inv_ase = np.atleast_2d(np.asarray(inv_snr_ase, dtype=float))
    inv_nli = np.atleast_2d(np.asarray(inv_snr_nli, dtype=float))
    n_lp = inv_ase.shape[0]
    osnr = np.asarray(osnr_01nm_db, dtype=float)
    osnr = osnr.reshape(n_lp, -1) if osnr.size else np.full((n_lp, 1), np.nan)
    valid = np.isfinite(osnr)
    inv_other = np.where(valid, 1.0 / _db2lin(np.where(valid, osnr, 0.0)), 0.0).sum(axis=1) * (
        baud_rate_hz / OSNR_REFERENCE_BANDWIDTH_HZ
    )
    inv_total_ase = inv_ase + inv_other[:, None]
    to_01nm = _lin2db(baud_rate_hz / OSNR_REFERENCE_BANDWIDTH_HZ)
    gsnr_db = -_lin2db(inv_total_ase + inv_nli)
    osnr_ase_db = -_lin2db(inv_total_ase)
    length = np.broadcast_to(np.asarray(length_km, dtype=float), (n_lp,)).astype(float)
    latency = length * 1e3 * FIBRE_GROUP_INDEX / C_M_PER_S + np.broadcast_to(
        np.asarray(equipment_latency_s, dtype=float), (n_lp,)
    )
    gsnr_mean = gsnr_db.mean(axis=-1)
    osnr_mean = osnr_ase_db.mean(axis=-1)
    return QotResult(
        frequency_hz=f,
        baud_rate_hz=float(baud_rate_hz),
        gsnr_db=gsnr_db,
        gsnr_01nm_db=gsnr_db + to_01nm,
        osnr_ase_db=osnr_ase_db,
        osnr_ase_01nm_db=osnr_ase_db + to_01nm,
        snr_nli_db=-_lin2db(inv_nli),
        latency_s=np.asarray(latency, dtype=float),
        length_km=length,
        gsnr_mean_db=gsnr_mean,
        gsnr_01nm_mean_db=gsnr_mean + to_01nm,
        gsnr_01nm_min_db=gsnr_db.min(axis=-1) + to_01nm,
        osnr_ase_mean_db=osnr_mean,
        osnr_ase_01nm_mean_db=osnr_mean + to_01nm,
    )


def gsnr_of_chains(
    *,
    frequency_hz: ArrayLike,
    baud_rate_hz: float,
    span_length_km: ArrayLike,
    span_loss_db_per_km: ArrayLike,
    span_launch_power_dbm: ArrayLike,
    amp_input_power_dbm: ArrayLike,
    amp_noise_figure_db: ArrayLike,
    osnr_01nm_db: ArrayLike,
    span_dispersion_s_per_m2: ArrayLike = 1.67e-5,
    span_effective_area_m2: ArrayLike = 83e-12,
    equipment_latency_s: ArrayLike = 0.0,
) -> QotResult:
    """GSNR per channel of L lightpaths given as padded arrays of spans, amplifiers and OSNRs.

    The noise terms are summed incoherently to first order (``1/GSNR = Σ a + Σ x``, the
    small-noise limit of :func:`power_transfer_accumulation`), which needs no element order.
    All lightpaths share one full-load comb (``frequency_hz``, one symbol rate) with the same
    per-channel power at each point (flat gain and loss, as after ROADM equalisation).

    Parameters
    ----------
    frequency_hz : array_like, shape (C,)
        Channel centre frequencies (Hz).
    baud_rate_hz : float
        Symbol rate of every channel (Hz); the ASE and SNR bandwidth.
    span_length_km, span_loss_db_per_km : array_like, shape (L, S)
        Fibre spans; pad with length 0 (a zero-length span adds no noise and no delay).
    span_launch_power_dbm : array_like, shape (L, S)
        Per-channel power at each fibre's input, after its input connector (dBm).
    amp_input_power_dbm, amp_noise_figure_db : array_like, shape (L, A)
        Per-channel power at each amplifier input (dBm) and its noise figure (dB); pad with
        NaN noise figure. Amplifiers of any role (booster, in-line, pre-amplifier).
    osnr_01nm_db : array_like, shape (L, R)
        Other noise given as OSNR in 0.1 nm (transmitter, ROADM add/drop, ...); pad with NaN
        or +inf.
    span_dispersion_s_per_m2, span_effective_area_m2 : array_like, broadcastable to (L, S)
        Fibre D at 1550 nm (s/m²) and effective area (m²).
    equipment_latency_s : array_like, shape (L,) or scalar
        Latency added by equipment (DSP, ROADMs), seconds.

    Returns
    -------
    QotResult
    """
    f = np.atleast_1d(np.asarray(frequency_hz, dtype=float))
    if not baud_rate_hz > 0.0:
        raise ScenarioError(f"baud_rate_hz must be > 0 (got {baud_rate_hz}); e.g. 32e9")
    length = np.atleast_2d(np.asarray(span_length_km, dtype=float))
    if np.any(length < 0.0):
        raise ScenarioError("span_length_km must be >= 0 (pad unused spans with 0)")
    n_lp = length.shape[0]
    nf = np.atleast_2d(np.asarray(amp_noise_figure_db, dtype=float))
    nf = _padded(nf, (n_lp, nf.shape[-1]), "amp_noise_figure_db")
    p_amp = _padded(amp_input_power_dbm, nf.shape, "amp_input_power_dbm")
    inv_ase = ase_inverse_snr(nf, p_amp, f, baud_rate_hz).sum(axis=1)
    inv_nli = nli_inverse_snr(
        f,
        baud_rate_hz,
        length,
        span_loss_db_per_km,
        span_launch_power_dbm,
        span_dispersion_s_per_m2,
        span_effective_area_m2,
    ).sum(axis=1)
    osnr = np.atleast_2d(np.asarray(osnr_01nm_db, dtype=float))
    osnr = _padded(osnr, (n_lp, osnr.shape[-1]), "osnr_01nm_db")
    return qot_from_inverse_snr(
        frequency_hz=f,
        baud_rate_hz=baud_rate_hz,
        inv_snr_ase=inv_ase,
        inv_snr_nli=inv_nli,
        osnr_01nm_db=osnr,
        length_km=length.sum(axis=1),
        equipment_latency_s=equipment_latency_s,
    )


def lightpath_qot(
    span_length_km: ArrayLike,
    *,
    baud_rate_hz: float,
    span_loss_db_per_km: ArrayLike = 0.2,
    span_extra_loss_db: ArrayLike = 0.0,
    launch_power_dbm: ArrayLike = 0.0,
    amp_noise_figure_db: ArrayLike = 5.5,
    roadm_count: ArrayLike = 2,
    roadm_osnr_01nm_db: float = 38.0,
    tx_osnr_01nm_db: float = 40.0,
    spacing_hz: float = 50e9,
    channel_count: int = 1,
    f_min_hz: float = 193.1e12,
    span_dispersion_s_per_m2: ArrayLike = 1.67e-5,
    span_effective_area_m2: ArrayLike = 83e-12,
    equipment_latency_s: ArrayLike = 0.0,
    required_osnr_01nm_db: ArrayLike | None = None,
    roll_off: float = 0.15,
) -> QotResult:
    """QoT of many amplified lightpaths given as padded span arrays (the engine's entry point).

    Each span is a fibre followed by an amplifier whose gain restores the span loss, so the
    per-channel power at the amplifier input is ``launch - loss·length - extra_loss``. Noise
    accumulates by the power-transfer accounting of :func:`power_transfer_accumulation` (as
    GNPy), NLI by :func:`gn_model_analytic_eta` on the full-load comb. Each
    ROADM on the path (``roadm_count`` per lightpath, counting add and drop) contributes an OSNR
    ``roadm_osnr_01nm_db`` (0.1 nm); the transmitter contributes ``tx_osnr_01nm_db``.

    Parameters
    ----------
    span_length_km : array_like, shape (L, S)
        Span lengths; pad unused spans with 0 (no noise, no delay, no amplifier).
    baud_rate_hz : float
        Transceiver symbol rate (Hz).
    span_loss_db_per_km, span_extra_loss_db, launch_power_dbm, amp_noise_figure_db : array_like
        Broadcastable to (L, S): fibre loss coefficient, connector/splice loss per span (dB),
        per-channel launch power into each span (dBm) and the noise figure of the amplifier that
        ends it (dB).
    roadm_count : array_like, shape (L,)
        ROADM add/drop stages each contributing ``roadm_osnr_01nm_db``.
    spacing_hz, channel_count, f_min_hz : float, int, float
        Full-load comb: ``channel_count`` channels from ``f_min_hz`` every ``spacing_hz``.
        With the default single channel the NLI is SPM only.
    equipment_latency_s : array_like
        Added latency per lightpath (s).
    required_osnr_01nm_db : array_like, optional
        The mode's required OSNR in 0.1 nm (scalar or (L,)); fills ``margin_db``.
    roll_off : float
        Transceiver roll-off, checked to lie in [0, 1]. The closed-form GN model treats each
        channel as a rectangle of width the symbol rate (as GNPy's ``gn_model_analytic``), so
        the roll-off does not enter the result; the spacing must hold ``Rs (1 + roll_off)``.

    Returns
    -------
    QotResult
        Per channel (L, C) GSNR and OSNR-ASE in the signal bandwidth and in 0.1 nm, NLI SNR,
        latency (s) and length (km) per lightpath.

    Examples
    --------
    >>> r = lightpath_qot([[80.0, 80.0, 0.0], [80.0, 0.0, 0.0]], baud_rate_hz=32e9)
    >>> bool(r.gsnr_01nm_mean_db[0] < r.gsnr_01nm_mean_db[1])
    True
    """
    length = np.atleast_2d(np.asarray(span_length_km, dtype=float))
    if not baud_rate_hz > 0.0:
        raise ScenarioError(f"baud_rate_hz must be > 0 (got {baud_rate_hz}); e.g. 32e9")
    if not 0.0 <= roll_off <= 1.0:
        raise ScenarioError(f"roll_off must lie in [0, 1] (got {roll_off}); e.g. 0.15")
    if channel_count > 1 and spacing_hz < baud_rate_hz * (1.0 + roll_off) - 1e-6:
        raise ScenarioError(
            f"spacing_hz {spacing_hz:g} is narrower than the channel, baud_rate_hz × (1 + "
            f"roll_off) = {baud_rate_hz * (1 + roll_off):g}; widen the spacing"
        )
    if np.any(length < 0.0):
        raise ScenarioError("span_length_km must be >= 0 (pad unused spans with 0)")
    shape = length.shape
    loss = _padded(span_loss_db_per_km, shape, "span_loss_db_per_km")
    extra = _padded(span_extra_loss_db, shape, "span_extra_loss_db")
    launch = _padded(launch_power_dbm, shape, "launch_power_dbm")
    nf = _padded(amp_noise_figure_db, shape, "amp_noise_figure_db")
    used = length > 0.0
    amp_in = launch - loss * length - extra
    f = channel_comb_hz(f_min_hz, spacing_hz, channel_count)
    count = np.broadcast_to(np.asarray(roadm_count, dtype=int), (shape[0],))
    if np.any(count < 0):
        raise ScenarioError("roadm_count must be >= 0")
    # Each span is a fibre (NLI share x) then its amplifier (ASE share a): composed, the span
    # multiplies the signal share by (1 - x)/(1 + a) and adds a/(1 - x) to A/s at its entry.
    # Lightpaths are processed in chunks that bound memory to a few (chunk, S, C) arrays.
    disp = np.broadcast_to(np.asarray(span_dispersion_s_per_m2, dtype=float), shape)
    aeff = np.broadcast_to(np.asarray(span_effective_area_m2, dtype=float), shape)
    nf_used = np.where(used, nf, np.nan)
    inv_gsnr = np.empty((shape[0], f.size))
    inv_ase = np.empty((shape[0], f.size))
    chunk = max(1, _CHAIN_CHUNK_ELEMENTS // max(1, shape[1] * f.size))
    for lo in range(0, shape[0], chunk):
        sl = slice(lo, lo + chunk)
        n_rows = length[sl].shape[0]
        x = nli_inverse_snr(
            f,
            baud_rate_hz,
            length[sl].reshape(-1),
            loss[sl].reshape(-1),
            launch[sl].reshape(-1),
            disp[sl].reshape(-1),
            aeff[sl].reshape(-1),
        ).reshape((n_rows, shape[1], f.size))
        a = ase_inverse_snr(nf_used[sl], amp_in[sl], f, baud_rate_hz)
        lm_f, _ = noise_share_factors(np.zeros_like(x), x)
        lm_a, b_a = noise_share_factors(a, np.zeros_like(a))
        total, b_total = compose_noise_shares(lm_f + lm_a, b_a * np.exp(-lm_f))
        inv_gsnr[sl] = np.expm1(-total)
        inv_ase[sl] = b_total
    width = int(count.max(initial=0)) + 1
    osnr = np.full((shape[0], width), np.nan)
    osnr[:, 0] = tx_osnr_01nm_db
    cols = np.arange(1, width)[None, :]
    osnr[:, 1:] = np.where(cols <= count[:, None], roadm_osnr_01nm_db, np.nan)
    res = qot_from_inverse_snr(
        frequency_hz=f,
        baud_rate_hz=baud_rate_hz,
        inv_snr_ase=inv_ase,
        inv_snr_nli=inv_gsnr - inv_ase,
        osnr_01nm_db=osnr,
        length_km=length.sum(axis=1),
        equipment_latency_s=equipment_latency_s,
    )
    if required_osnr_01nm_db is None:
        return res
    req = np.broadcast_to(np.asarray(required_osnr_01nm_db, dtype=float), (shape[0],))
    return replace(res, margin_db=res.gsnr_01nm_min_db - req)
