"""The register-only loops the benchmark measures step_many's fraction of
the compute peak against (lnfast._core.testing.compute_peak). Their speed
is the benchmark's business; here, what they report and what they refuse."""
import pytest

import lnfast
from lnfast._core import testing

ISAS = lnfast.supported_isas()


def available(kind, isa):
    return kind == "fp32" or (kind == "bf16" and testing.bf16_dot(isa)) or \
        (kind == "int8" and testing.int8_activations_dot(isa))


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("kind", testing.peak_kinds())
def test_peak_runs_report_their_operations(kind, isa):
    if not available(kind, isa):
        with pytest.raises(ValueError, match=f"no {kind} dot-product instruction"):
            testing.compute_peak(kind, isa, 10, 1)
        return
    ops, seconds = testing.compute_peak(kind, isa, 1000, 3)
    assert len(seconds) == 3 and all(s > 0 for s in seconds)
    # Operations are linear in the iterations, and none are counted twice.
    assert testing.compute_peak(kind, isa, 2000, 0)[0] == 2 * ops
    fp32_ops = testing.compute_peak("fp32", isa, 1000, 0)[0]
    # Per instruction, as many lanes as an FMA with 2 (bf16) or 4 (int8)
    # products in each: the 2x and 4x of the peak.
    assert ops == {"fp32": 1, "bf16": 2, "int8": 4}[kind] * fp32_ops


def test_peak_refuses_bad_arguments():
    isa = ISAS[0]
    with pytest.raises(ValueError, match="unknown peak kind 'fp16'"):
        testing.compute_peak("fp16", isa, 10, 1)
    for iterations in (0, -5, 1 << 27):
        with pytest.raises(ValueError, match="iterations must be in"):
            testing.compute_peak("fp32", isa, iterations, 1)
    with pytest.raises(ValueError, match="repeats must be in"):
        testing.compute_peak("fp32", isa, 10, -1)
    with pytest.raises(ValueError, match="not supported here"):
        testing.compute_peak("fp32", "neon" if "avx2" in ISAS else "avx512", 10, 1)
