"""Before anything is timed: every runtime must compute lnfast's numbers.

A fast wrong answer is worth nothing, and a converter or export that
silently dropped a norm would make the comparison meaningless.
"""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

TOLERANCE = 1e-4
STEPS = 20


class DisagreementError(RuntimeError):
    pass


def check_agreement(reference, peers: Sequence, inputs: np.ndarray, label: str,
                    tolerance: float = TOLERANCE) -> Dict[str, float]:
    """Step all runtimes from zero state through ``inputs`` (T, I); return each
    peer's largest |h - h_lnfast| over all steps, or raise on the first peer
    that strays beyond ``tolerance`` (or its own ``tolerance`` attribute, for a
    peer that computes in lower precision on purpose). Every runtime is left reset."""
    runtimes = [reference, *peers]
    for rt in runtimes:
        rt.reset()
    worst = {rt.name: 0.0 for rt in peers}
    for t, x in enumerate(inputs):
        for rt in runtimes:
            rt.step(x)
        h_ref = reference.hidden()
        if not np.all(np.isfinite(h_ref)):
            raise DisagreementError(f"{label}: {reference.name} produced a non-finite h at step {t}")
        for rt in peers:
            diff = float(np.max(np.abs(rt.hidden() - h_ref)))
            allowed = getattr(rt, "tolerance", tolerance)
            if not diff <= allowed:  # also catches NaN
                raise DisagreementError(
                    f"{label}: {rt.name} disagrees with {reference.name} at step {t}: "
                    f"max |h diff| = {diff:.3g} > {allowed:g}. The timings would compare "
                    f"different computations; fix the converter/export before benchmarking.")
            worst[rt.name] = max(worst[rt.name], diff)
    for rt in runtimes:
        rt.reset()
    return worst
