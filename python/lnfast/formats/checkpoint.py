"""The result of reading a checkpoint file."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FORMATS = ("torch-zip", "torch-legacy", "torchscript", "safetensors", "nemo")


@dataclass
class Checkpoint:
    """Named float32 weights read from one file.

    tensors: flattened dotted name -> float32 C-contiguous array, converted
        from float16, bfloat16 or float64 where the file stored those.
        Tensors of other dtypes (integers, bool, complex, float8, quantized)
        are not included; their names and dtypes are listed in
        extras["skipped_tensors"].
    dtypes: name -> the dtype the file stored it in, e.g. "float16".
    extras: everything else worth showing, always including
        "placeholders" (sorted dotted names of globals the file named that
            were kept inert, e.g. "argparse.Namespace", "__torch__.MyNet"),
        "aliases" (name -> earlier name of the same tensor object; at most
            the first 1000),
        "skipped_tensors" (name -> dtype);
        and per format e.g. "archive_folder", "byteorder", "metadata".
    """

    path: str
    format: str
    tensors: dict[str, np.ndarray]
    dtypes: dict[str, str]
    extras: dict[str, object] = field(default_factory=dict)
