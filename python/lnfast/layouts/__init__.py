"""Checkpoint layouts: which tensors of a file make up which recurrent network.

One module per source (torch_nn, fastrnns, haste, icefall) recognises its
key names and converts them into lnfast's canonical form; find.py looks for
all of them under any module prefix and chains single cells into stacks;
choose.py picks the one to load or explains why it cannot; mapping.py is the
explicit description for anything else.
"""
from .candidate import Candidate
from .choose import choose, normalize_prefix
from .find import LAYOUT_NAMES, find_networks
from .mapping import Mapping, NormKeys
from .mapping_convert import convert_mapping
from .options import LoadOptions
from .summary import CheckpointSummary, TensorInfo
from .tensor_set import TensorSet

__all__ = ["Candidate", "CheckpointSummary", "LAYOUT_NAMES", "LoadOptions", "Mapping", "NormKeys",
           "TensorInfo", "TensorSet", "choose", "convert_mapping", "find_networks",
           "normalize_prefix"]
