"""PyTorch's fastrnns LayerNormLSTMCell (benchmarks/fastrnns/custom_lstms.py)
and NeMo's LN-LSTM, usually stacked as ``layers.{k}.cell.``.

    gates = LN_i(W_ih x) + LN_h(W_hh h)      no bias: the norms' shifts act as one
    c' = LN_c(sig(f) c + sig(i) tanh(g)), kept as the state;  h' = sig(o) tanh(c')

Weights are (4H, in) in i,f,g,o order, lnfast's own; eps 1e-5 (nn.LayerNorm's
default; not stored, so the ``eps`` load option overrides it).
"""
from __future__ import annotations

from .cell_layout import CellLayout, dim_of, hidden_and_rows
from .layer_plan import DEFAULT_EPS, LayerPlan, module_norm


class FastrnnsLSTM(CellLayout):
    name = "fastrnns"
    kind = "fastrnns/NeMo LayerNormLSTMCell"
    family = "LSTM"
    anchor = "weight_hh"
    params = frozenset({"weight_ih", "weight_hh"})
    required_params = params
    norms = frozenset({"layernorm_i", "layernorm_h", "layernorm_c"})

    def sizes_at(self, tensors, prefix):
        return (dim_of(tensors, prefix + "weight_ih", -1), dim_of(tensors, prefix + "weight_hh", -1))

    def convert_cell(self, tensors, prefix):
        w_hh = prefix + "weight_hh"
        hidden, rows = hidden_and_rows(tensors, w_hh, -1, 4)
        weights = {
            "w_ih": tensors.get(prefix + "weight_ih", (rows, "input_size"), "input weights"),
            "w_hh": tensors.get(w_hh, (rows, hidden), "recurrent weights"),
            "b_ih": None, "b_hh": None,
        }
        options = {
            "norm": "separate",
            "ln_x": module_norm(tensors, prefix + "layernorm_i", rows, DEFAULT_EPS, "x norm"),
            "ln_h": module_norm(tensors, prefix + "layernorm_h", rows, DEFAULT_EPS, "h norm"),
            "cell_norm": "state",
            "ln_c": module_norm(tensors, prefix + "layernorm_c", hidden, DEFAULT_EPS, "cell norm"),
        }
        return LayerPlan("LSTM", weights, options)


CELL = FastrnnsLSTM()
