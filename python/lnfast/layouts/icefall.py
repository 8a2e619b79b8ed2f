"""icefall's LayerNormLSTMCell and LayerNormGRUCell, stacked as ``layers.{k}.cell.``
(egs/librispeech/ASR/transducer/rnn.py).

Weights as nn.LSTMCell/GRUCell's (rows i,f,g,o / r,z,n, biases optional);
each gate's H units are normed on their own, on the sum of both projections:
    LSTM  gate_k = LN_k(W_k x + b_ih_k + U_k h + b_hh_k) with norms
          layernorm_i, layernorm_f, layernorm_cx (the candidate g), layernorm_o;
          c' = LN_cy(sig(f) c + sig(i) tanh(g)) kept as the state;
          h' = sig(o) tanh(c'), then W_hr h' when the cell has a projection
          (proj_size P: weight_hr (P, H), weight_hh (4H, P), h has P units)
    GRU   r = sig(LN_r(xr + hr)), z = sig(LN_i(xz + hz)) (icefall calls z "i"),
          n = tanh(LN_n(xn + r hn)), h' = (1 - z) n + z h
eps 1e-5, not stored; the ``eps`` load option overrides it.
"""
from __future__ import annotations

import dataclasses

from .cell_layout import CellLayout, dim_of
from .layer_plan import DEFAULT_EPS, module_norm
from .torch_nn import plain_layer, projected_lstm_layer

PROJECTION = "weight_hr"


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
        # The output size is weight_hh's width: H, or P when projected.
        return (dim_of(tensors, prefix + "weight_ih", -1), dim_of(tensors, prefix + "weight_hh", -1))

    def candidate_at(self, tensors, prefix):
        candidate = super().candidate_at(tensors, prefix)
        if prefix + PROJECTION in tensors:
            candidate = dataclasses.replace(candidate, kind=candidate.kind + "(proj_size)")
        return candidate

    def convert_cell(self, tensors, prefix):
        keys = {"w_ih": prefix + "weight_ih", "w_hh": prefix + "weight_hh",
                "b_ih": prefix + "bias_ih", "b_hh": prefix + "bias_hh"}
        if prefix + PROJECTION in tensors:
            plan = projected_lstm_layer(tensors, dict(keys, w_hr=prefix + PROJECTION), None)
        else:
            plan = plain_layer(tensors, keys, self.family, None)
        hidden = plan.weights["w_ih"].shape[0] // len(self.gate_norms)
        plan.options = {"norm": "per_gate", "ln_gates": [
            module_norm(tensors, prefix + name, hidden, DEFAULT_EPS, "gate norm")
            for name in self.gate_norms]}
        if self.state_norm:
            plan.options["cell_norm"] = "state"
            plan.options["ln_c"] = module_norm(tensors, prefix + self.state_norm, hidden,
                                               DEFAULT_EPS, "cell state norm")
        return plan


class IcefallLSTM(_IcefallCell):
    name = "icefall_lstm"
    kind = "icefall LayerNormLSTMCell"
    family = "LSTM"
    params = _IcefallCell.params | {PROJECTION}
    gate_norms = ("layernorm_i", "layernorm_f", "layernorm_cx", "layernorm_o")
    state_norm = "layernorm_cy"


class IcefallGRU(_IcefallCell):
    name = "icefall_gru"
    kind = "icefall LayerNormGRUCell"
    family = "GRU"
    gate_norms = ("layernorm_r", "layernorm_i", "layernorm_n")


LSTM_CELL = IcefallLSTM()
GRU_CELL = IcefallGRU()
