"""The character-level LN-LSTM language model that `lnfast demo` streams text from.

Shipped files, beside this module:
  charlm.pt    PyTorch state_dict in the fastrnns/NeMo LayerNormLSTM key layout
  charlm.json  vocabulary, sizes, norm placement and the training record

Reading the json needs only the standard library; the PyTorch module is in
``lnfast.charlm.torch_model`` and is imported only by code that has torch.
The script that made both files is tools/train_charlm.py.
"""

import json
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKPOINT_PATH = PACKAGE_DIR / "charlm.pt"
CONFIG_PATH = PACKAGE_DIR / "charlm.json"


def load_config(path=CONFIG_PATH):
    """The shipped model's description (vocabulary, sizes, training record) as a dict."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
