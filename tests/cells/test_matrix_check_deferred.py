"""Cells built inside matrices_checked_by_model() leave the NaN/Inf pass
over their weight matrices to lnfast.Model, whose packer makes the same
check (a load then reads each weight once): nothing else is skipped, the
deferral ends with the block, and check_matrices() gives the cell's own
message."""
import threading

import numpy as np
import pytest

import lnfast
from lnfast.cells import matrices_checked_by_model


def weights(hidden=4, inputs=3, gates=4):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((gates * hidden, inputs)).astype(np.float32),
            rng.standard_normal((gates * hidden, hidden)).astype(np.float32))


def test_inside_the_block_a_nan_matrix_is_left_to_the_model():
    w_ih, w_hh = weights()
    w_hh[2, 1] = np.nan
    with matrices_checked_by_model():
        cell = lnfast.LSTM(w_ih, w_hh)
    with pytest.raises(ValueError, match=r"LSTM.w_hh holds a non-finite value at flat index 9"):
        cell.check_matrices()
    with pytest.raises(ValueError, match=r"layer 0: w_hh holds a non-finite value \(nan\) at flat index 9"):
        lnfast.Model(cell)


@pytest.mark.parametrize("make", [
    lambda w, u: lnfast.LSTM(w, u, b_ih=np.full(16, np.inf, np.float32)),
    lambda w, u: lnfast.LSTM(w, u[:, :3]),
    lambda w, u: lnfast.LSTM(w.astype(np.complex64), u),
])
def test_inside_the_block_everything_else_is_still_checked(make):
    w_ih, w_hh = weights()
    with matrices_checked_by_model(), pytest.raises((ValueError, TypeError)):
        make(w_ih, w_hh)


def test_the_deferral_ends_with_the_block_and_stays_in_its_thread():
    w_ih, w_hh = weights(gates=3)
    w_ih[0, 0] = np.inf
    seen = []

    def other_thread():
        try:
            lnfast.GRU(w_ih, w_hh)
        except ValueError as error:
            seen.append(str(error))

    with matrices_checked_by_model():
        lnfast.GRU(w_ih, w_hh)  # deferred here
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
    assert seen and "GRU.w_ih holds a non-finite value at flat index 0" in seen[0]
    with pytest.raises(ValueError, match="GRU.w_ih holds a non-finite value"):
        lnfast.GRU(w_ih, w_hh)
