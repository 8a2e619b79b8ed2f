"""Small models and the header offsets the hostile-file tests edit (the
layout is docs/model_file.md's; the C++ fuzz test covers the rest)."""
import numpy as np

import lnfast
from variants import make_cell

VERSION_AT = 8
FILE_BYTES_AT = 16
HEADER_BYTES = 128


def small_model(weights="fp32", activations="fp32", seed=0):
    rng = np.random.default_rng(seed)
    return lnfast.Model([make_cell("lstm_separate_state", 5, 8, rng), make_cell("gru_paper", 8, 6, rng)],
                        weights=weights, activations=activations)


def saved(tmp_path, model=None, name="model.lnfast"):
    path = tmp_path / name
    (model or small_model()).save(path)
    return path


def inputs(model, steps=12, seed=1):
    return np.random.default_rng(seed).standard_normal((steps, model.input_size)).astype(np.float32)
