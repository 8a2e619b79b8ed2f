"""icefall's ScaledLSTM (egs/librispeech/ASR/pruned_transducer_stateless2/scaling.py):
an nn.LSTM (any proj_size) whose every flat weight ``name`` has a learned
log-scale ``name + "_scale"`` (a 0-d tensor). Its forward runs torch's LSTM
on ``name * exp(name_scale)`` for weights and biases alike, so those
products are the weights lnfast loads; they are formed in float64 and
rounded once.
"""
from __future__ import annotations

import math
from typing import Dict

import numpy as np

from .layer_plan import LayerPlan
from .tensor_set import TensorSet

LAYOUT = "icefall_scaled_lstm"
KIND = "icefall ScaledLSTM"
SUFFIX = "_scale"


def fold_scales(tensors: TensorSet, plan: LayerPlan, keys: Dict[str, str]) -> LayerPlan:
    """``plan`` with each weight multiplied by exp of its scale; ``keys``
    maps the plan's weight roles to the tensor names they came from."""
    for role, key in keys.items():
        weight = plan.weights.get(role)
        scale_key = key + SUFFIX
        if weight is None:
            if scale_key in tensors:
                raise tensors.error(f"tensor {scale_key!r} scales {key!r}, which is not in "
                                    f"the checkpoint")
            continue
        scale = float(tensors.get(scale_key, (), f"log-scale of {key}"))
        factor = math.exp(scale) if math.isfinite(scale) and scale < 700 else math.inf
        folded = np.asarray(weight, dtype=np.float64) * factor
        # float32 is what runs: a product past its range would become inf.
        if not math.isfinite(factor) or not np.all(np.abs(folded) <= np.finfo(np.float32).max):
            raise tensors.error(f"tensor {scale_key!r} (log-scale of {key!r}) is {scale}: "
                                f"{key} * exp({scale}) is not a finite float32")
        plan.weights[role] = folded
    return plan
