"""haste's LayerNormLSTM and LayerNormGRU (haste_pytorch), one layer each.

Keras-style kernels, stored (in, G*H): transposed here. Norms over x and h
are gain-only (gamma row 0 and row 1), eps 1e-5, biases added after them.

LSTM, file gate order i,g,f,o:
    gates = LN(x K; gamma[0]) + LN(h R; gamma[1]) + bias
    c' = sig(f) c + sig(i) tanh(g) (kept raw);  h' = sig(o) tanh(LN(c'; gamma_h, beta_h))
GRU, file gate order z,r,n, reset after the recurrent matmul:
    x part = LN(x K; gamma[0]) + bias;  h part = LN(h R; gamma[1]) + recurrent_bias
    h' = z h + (1 - z) n        which is PyTorch's sense once rows are r,z,n
Zoneout is not in the checkpoint: it is the ``zoneout`` load option.
"""
from __future__ import annotations

from .cell_layout import CellLayout, dim_of, hidden_and_rows
from .gates import GATE_COUNT, to_canonical
from .layer_plan import DEFAULT_EPS, LayerPlan
from ..cells import LayerNorm


class _HasteCell(CellLayout):
    anchor = "recurrent_kernel"
    file_order = ""

    def sizes_at(self, tensors, prefix):
        return (dim_of(tensors, prefix + "kernel", 0), dim_of(tensors, prefix + "recurrent_kernel", 0))

    def _rows(self, array):
        return to_canonical(array, self.file_order, self.family)

    def _common(self, tensors, prefix):
        """Weights and the x/h norms both haste cells share."""
        hidden, cols = hidden_and_rows(tensors, prefix + "recurrent_kernel", 0, GATE_COUNT[self.family])
        kernel = tensors.get(prefix + "kernel", ("input_size", cols), "input kernel, stored (in, G*H)")
        recurrent = tensors.get(prefix + "recurrent_kernel", (hidden, cols),
                                "recurrent kernel, stored (H, G*H)")
        gamma = tensors.get(prefix + "gamma", (2, cols), "gains of the x and h norms")
        weights = {"w_ih": self._rows(kernel.T), "w_hh": self._rows(recurrent.T),
                   "b_ih": self._rows(tensors.get(prefix + "bias", (cols,), "bias"))}
        options = {"norm": "separate",
                   "ln_x": LayerNorm(gamma=self._rows(gamma[0]), eps=DEFAULT_EPS),
                   "ln_h": LayerNorm(gamma=self._rows(gamma[1]), eps=DEFAULT_EPS)}
        return hidden, cols, weights, options


class HasteLSTM(_HasteCell):
    name = "haste_lstm"
    kind = "haste LayerNormLSTM"
    family = "LSTM"
    file_order = "igfo"
    params = frozenset({"kernel", "recurrent_kernel", "bias", "gamma", "gamma_h", "beta_h"})
    required_params = params

    def convert_cell(self, tensors, prefix):
        hidden, _, weights, options = self._common(tensors, prefix)
        weights["b_hh"] = None
        options["cell_norm"] = "output"
        options["ln_c"] = LayerNorm(
            gamma=tensors.get(prefix + "gamma_h", (hidden,), "cell norm gain"),
            beta=tensors.get(prefix + "beta_h", (hidden,), "cell norm shift"), eps=DEFAULT_EPS)
        return LayerPlan("LSTM", weights, options)


class HasteGRU(_HasteCell):
    name = "haste_gru"
    kind = "haste LayerNormGRU"
    family = "GRU"
    file_order = "zrn"
    params = frozenset({"kernel", "recurrent_kernel", "bias", "recurrent_bias", "gamma"})
    required_params = params

    def convert_cell(self, tensors, prefix):
        _, cols, weights, options = self._common(tensors, prefix)
        # recurrent_bias joins U h before the reset gate multiplies it, which
        # is where lnfast's b_hh sits.
        weights["b_hh"] = self._rows(tensors.get(prefix + "recurrent_bias", (cols,), "recurrent bias"))
        options["update"] = "pytorch"
        return LayerPlan("GRU", weights, options)


LSTM_CELL = HasteLSTM()
GRU_CELL = HasteGRU()
