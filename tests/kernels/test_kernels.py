"""Single kernels of every instruction set against plain references, on odd
sizes so that every SIMD tail (16, 8 lanes) is exercised."""
import numpy as np
import pytest

import lnfast
from lnfast._core import testing

ISAS = lnfast.supported_isas()
ODD_SIZES = [1, 3, 17, 37, 1000]

# Of cpp/src/kernels/kernel_table.hpp, lnfast._core.testing reaches gemm,
# moments, normalize (through layer_norm, without accumulate), sigmoid and
# tanh, each tested here on ODD_SIZES. The other entries (gemm_bf16, gemm_i8,
# add, mul_add, lerp, lerp_scalar, relu, lstm_cell, lstm_hidden, stream_read)
# have no binding of their own yet and are exercised only through the cells
# (tests/cells, tests/model/test_weight_formats.py).


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("n", ODD_SIZES + [16, 32, 33])
def test_moments_match_float64(isa, n):
    x = np.random.default_rng(n).normal(0.5, 2.0, n).astype(np.float32)
    mean, var = testing.moments(x, isa)
    x64 = x.astype(np.float64)
    # Welford in float32: errors of a few ulps of the mean and of the variance.
    assert mean == pytest.approx(x64.mean(), rel=1e-6, abs=1e-6)
    assert var == pytest.approx(x64.var(), rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("mean,std,n", [(3e3, 4e-2, 1024), (100.0, 0.01, 1024), (1e4, 1e-1, 37)])
def test_moments_stable_under_large_offset(isa, mean, std, n):
    x = np.random.default_rng(7).normal(mean, std, n).astype(np.float32)
    x64 = x.astype(np.float64)
    got_mean, got_var = testing.moments(x, isa)
    # Within float32 rounding of the float64 statistics of the same inputs.
    assert got_var == pytest.approx(x64.var(), rel=1e-5)
    assert got_mean == pytest.approx(x64.mean(), rel=1e-7)
    # The naive formula in float32 loses everything here (0, negative, or
    # off by orders of magnitude), which is why the kernel uses Welford.
    naive = np.float32(np.mean(x * x, dtype=np.float32)) - np.float32(np.mean(x, dtype=np.float32)) ** 2
    assert abs(naive - x64.var()) > 0.1 * x64.var()


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("n", ODD_SIZES)
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(isa, n, affine):
    rng = np.random.default_rng(n)
    x = rng.normal(1.0, 3.0, n).astype(np.float32)
    gamma = rng.normal(1.0, 0.3, n).astype(np.float32) if affine else None
    beta = rng.normal(0.0, 0.3, n).astype(np.float32) if affine else None
    got = testing.layer_norm(x, gamma, beta, 1e-5, isa)
    x64 = x.astype(np.float64)
    want = (x64 - x64.mean()) / np.sqrt(x64.var() + 1e-5)
    if affine:
        want = want * gamma + beta
    assert np.abs(got - want).max() <= 2e-6


@pytest.mark.parametrize("isa", ISAS)
def test_layer_norm_of_constant_with_zero_eps_is_beta(isa):
    beta = np.arange(17, dtype=np.float32)
    got = testing.layer_norm(np.full(17, 3.25, np.float32), np.ones(17, np.float32), beta, 0.0, isa)
    assert np.array_equal(got, beta)


# Measured on 2e5 points over [-30, 30], every ISA: sigmoid abs error
# 8.9e-8, tanh 1.8e-7 (tanh = 2 sigmoid(2x) - 1 doubles sigmoid's). The
# bounds leave a little room over those.
SIGMOID_ABS_ERROR = 1.5e-7
TANH_ABS_ERROR = 3e-7


@pytest.mark.parametrize("isa", ISAS)
def test_sigmoid_and_tanh_error_bounds(isa):
    x = np.concatenate([np.linspace(-30, 30, 200_001), [-1e30, -100, -88.5, 0.0, 88.5, 100, 1e30]]).astype(np.float32)
    x64 = x.astype(np.float64)
    sig = testing.sigmoid(x, isa)
    tanh = testing.tanh(x, isa)
    want_sig = 0.5 * (1 + np.tanh(0.5 * x64))  # no overflow at -1e30
    assert np.abs(sig - want_sig).max() <= SIGMOID_ABS_ERROR
    assert np.abs(tanh - np.tanh(x64)).max() <= TANH_ABS_ERROR
    assert np.all((sig >= 0) & (sig <= 1)) and np.all((tanh >= -1) & (tanh <= 1))


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("n", ODD_SIZES)
def test_activation_tails(isa, n):
    x = np.random.default_rng(n).normal(0, 3, n).astype(np.float32)
    assert np.abs(testing.tanh(x, isa) - np.tanh(x.astype(np.float64))).max() <= TANH_ABS_ERROR
    want_sig = 0.5 * (1 + np.tanh(0.5 * x.astype(np.float64)))
    assert np.abs(testing.sigmoid(x, isa) - want_sig).max() <= SIGMOID_ABS_ERROR


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("rows", ODD_SIZES)
@pytest.mark.parametrize("cols", ODD_SIZES)
# Around the register tiles' widths (AVX2 2 x 6, AVX-512 4 x 6), and past one time block.
@pytest.mark.parametrize("batch", [1, 2, 3, 5, 6, 7, 15, 16, 17, 33, 70])
def test_gemm(isa, rows, cols, batch):
    rng = np.random.default_rng(rows * 31 + cols)
    W = rng.standard_normal((rows, cols)).astype(np.float32)
    X = rng.standard_normal((batch, cols)).astype(np.float32)
    Y0 = rng.standard_normal((batch, rows)).astype(np.float32)
    want = X.astype(np.float64) @ W.T.astype(np.float64)
    # float32 dot products of length cols: error ~ cols * eps * |terms|.
    tol = 1e-6 * cols * 4
    assert np.abs(testing.gemm(W, X, isa) - want).max() <= tol
    assert np.abs(testing.gemm(W, X, isa, Y0) - (want + Y0)).max() <= tol
    # A batch gives each row the bits of a batch of one.
    single = np.stack([testing.gemm(W, X[t:t + 1], isa)[0] for t in range(batch)])
    assert np.array_equal(single, testing.gemm(W, X, isa))


# A layer norm rescales tiny values to unit spread, so tanh must also be
# accurate relative to its (tiny) result: measured 3.0e-7 at most for
# 1e-30 <= |x| <= 0.5 (the odd series below |x| = 0.4, 2 sigmoid(2x) - 1 above).
TANH_REL_ERROR_SMALL = 4e-7


@pytest.mark.parametrize("isa", ISAS)
def test_tanh_relative_error_near_zero(isa):
    mag = np.geomspace(1e-30, 0.5, 50_000)
    x = np.concatenate([mag, -mag]).astype(np.float32)
    x64 = x.astype(np.float64)
    got = testing.tanh(x, isa).astype(np.float64)
    assert (np.abs(got - np.tanh(x64)) / np.abs(np.tanh(x64))).max() <= TANH_REL_ERROR_SMALL
