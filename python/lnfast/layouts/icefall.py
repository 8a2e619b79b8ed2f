"""icefall's LayerNormLSTMCell and LayerNormGRUCell, stacked as ``layers.{k}.cell.``.

Weights as nn.LSTMCell/GRUCell's (rows i,f,g,o / r,z,n, biases optional);
each gate's H units are normed on their own, on the sum of both projections:
    LSTM  gate_k = LN_k(W_k x + b_ih_k + U_k h + b_hh_k) with norms
          layernorm_i, layernorm_f, layernorm_cx (the candidate g), layernorm_o;
          c' = LN_cy(sig(f) c + sig(i) tanh(g)) kept as the state
    GRU   r = sig(LN_r(xr + hr)), z = sig(LN_i(xz + hz)) (icefall calls z "i"),
          n = tanh(LN_n(xn + r hn)), h' = (1 - z) n + z h
eps 1e-5, not stored; the ``eps`` load option overrides it.
"""
from __future__ import annotations

from .cell_layout import CellLayout, dim_of, hidden_and_rows
from .gates import GATE_COUNT
from .layer_plan import DEFAULT_EPS, LayerPlan, module_norm


class _IcefallCell(CellLayout):
    anchor = "weight_hh"
    params = frozenset({"weight_ih", "weight_hh", "bias_ih", "bias_hh"})
    required_params = frozenset({"weight_ih", "weight_hh"})
    gate_norms = ()      # norm module per canonical gate
    state_norm = None    # norm module on the cell state, if any

    @property
    def norms(self):
        return frozenset(self.gate_norms) | ({self.state_norm} if self.state_norm else set())

    def sizes_at(self, tensors, prefix):
        return (dim_of(tensors, prefix + "weight_ih", -1), dim_of(tensors, prefix + "weight_hh", -1))

    def convert_cell(self, tensors, prefix):
        hidden, rows = hidden_and_rows(tensors, prefix + "weight_hh", -1, GATE_COUNT[self.family])
        weights = {
            "w_ih": tensors.get(prefix + "weight_ih", (rows, "input_size"), "input weights"),
            "w_hh": tensors.get(prefix + "weight_hh", (rows, hidden), "recurrent weights"),
            "b_ih": tensors.get_optional(prefix + "bias_ih", (rows,), "input bias"),
            "b_hh": tensors.get_optional(prefix + "bias_hh", (rows,), "recurrent bias"),
        }
        options = {"norm": "per_gate", "ln_gates": [
            module_norm(tensors, prefix + name, hidden, DEFAULT_EPS, "gate norm")
            for name in self.gate_norms]}
        if self.state_norm:
            options["cell_norm"] = "state"
            options["ln_c"] = module_norm(tensors, prefix + self.state_norm, hidden, DEFAULT_EPS,
                                          "cell state norm")
        return LayerPlan(self.family, weights, options)


class IcefallLSTM(_IcefallCell):
    name = "icefall_lstm"
    kind = "icefall LayerNormLSTMCell"
    family = "LSTM"
    gate_norms = ("layernorm_i", "layernorm_f", "layernorm_cx", "layernorm_o")
    state_norm = "layernorm_cy"


class IcefallGRU(_IcefallCell):
    name = "icefall_gru"
    kind = "icefall LayerNormGRUCell"
    family = "GRU"
    gate_norms = ("layernorm_r", "layernorm_i", "layernorm_n")


LSTM_CELL = IcefallLSTM()
GRU_CELL = IcefallGRU()
