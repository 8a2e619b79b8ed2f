"""Model files (.lnfast): a Model saved in its own packed layout, loaded by
mapping it.

    model.save("model.lnfast")              # any lnfast.Model
    model = lnfast.load("model.lnfast")     # recognised by its first bytes

Loading maps the file read-only and steps straight from the mapped panels:
no conversion and no copy, so it takes milliseconds and every process that
loads the same file shares one copy of the weights (the page cache). The
format is docs/model_file.md; C++ reads the same files
(lnfast/model_file.hpp).
"""
from __future__ import annotations

import os
import stat
from typing import Any, Dict, Optional, Tuple

from . import _core
from .errors import CheckpointError
from .cells import layer_summary, part_sizes, state_parts_of
from .model import Model

__all__ = ["MAGIC", "MappedModel", "StoredLayer", "describe", "is_model_file", "load", "save"]

MAGIC: bytes = _core.MODEL_FILE_MAGIC  # a file's first bytes (docs/model_file.md)

# Load options a .lnfast file answers itself: they were fixed at conversion.
_STORED_OPTIONS = ("zoneout", "forget_bias", "eps", "activation")


def is_model_file(source: Any) -> bool:
    """Whether `source` is a path to a file that starts with MAGIC."""
    if not isinstance(source, (str, os.PathLike)):
        return False
    try:
        if not stat.S_ISREG(os.stat(source).st_mode):
            return False  # a FIFO or device would block the open; the reader refuses them
        with open(source, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False  # the checkpoint reader reports it


def save(model: Model, path: "str | os.PathLike") -> None:
    """Write `model` to `path` as a .lnfast file: structure, options and the
    packed weights in the format it stores them (fp32, bf16, or int8 with
    its scales), panels as this CPU's kernels read them. Written to a
    temporary file beside `path` and renamed over it, so a process that has
    the old file mapped keeps it intact. Raises CheckpointError naming the
    path when it cannot be written."""
    if not isinstance(model, Model):
        raise TypeError(f"save takes an lnfast.Model, got {type(model).__name__}")
    _core.save_model_file(model._core, os.fspath(path))


def load(path: "str | os.PathLike", *, isa: Optional[str] = None, weights: Optional[str] = None,
         activations: Optional[str] = None, verify_checksum: bool = True,
         layout: Any = None, prefix: Optional[str] = None, **options: Any) -> "MappedModel":
    """A model mapped from a .lnfast file (``lnfast.load`` calls this for one).

    isa: as for lnfast.Model; when the file was packed for other kernels
    (another CPU, or LNFAST_ISA), the panels are relaid once into memory of
    the model's own, giving the same bits.
    weights, activations: optional; they must be what the file stores (a
    conversion is `lnfast convert`'s job), else CheckpointError.
    verify_checksum: hash the payload at load (default; about 10 ms per 64
    MiB) or skip it, when the file is trusted and load time matters.

    Raises CheckpointError naming the file for a damaged, truncated,
    hostile or newer-version file, or options that do not apply.
    """
    name = os.fspath(path)
    if layout is not None or prefix is not None:
        raise CheckpointError(name, "prefix= and layout= pick a network inside a checkpoint; "
                                    "a .lnfast file holds exactly one model")
    given = sorted(set(options) & set(_STORED_OPTIONS))
    unknown = sorted(set(options) - set(_STORED_OPTIONS))
    if unknown:
        raise TypeError(f"unknown load option(s) {', '.join(unknown)} for a .lnfast file")
    if given:
        raise CheckpointError(name, f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} "
                                    "stored in a .lnfast file; convert the checkpoint again "
                                    "with the option to change it")
    if isa is not None and isa not in _core.supported_isas():
        raise ValueError(f"isa {isa!r} is not available here; this CPU supports "
                         f"{_core.supported_isas()}")
    model = MappedModel._open(name, isa, verify_checksum)
    for option, asked, stored in (("weights", weights, model.weights),
                                  ("activations", activations, model.activations)):
        if asked is not None and asked != stored:
            raise CheckpointError(name, f"the file stores {option} {stored!r}, {option}={asked!r} "
                                        "asks for another; run `lnfast convert` on the checkpoint "
                                        f"with --{option} {asked}")
    return model


class StoredLayer:
    """A layer of a mapped model: its structure as the file records it. The
    weights stay in the file's panels (``model.layers`` of a model built
    from cells gives the cells with their arrays)."""

    __slots__ = ("family", "input_size", "hidden_size", "output_size", "norm", "state_parts")

    def __init__(self, spec: "_core.LayerSpec") -> None:
        self.family = spec.type.name
        self.input_size = spec.input_size
        self.hidden_size = spec.hidden_size
        self.output_size = spec.proj_size or spec.hidden_size
        self.state_parts = state_parts_of(self.family)
        self.norm = layer_summary(spec)[1]

    def state_part_sizes(self) -> Tuple[int, ...]:
        """Units of each of state_parts: h has output_size, c hidden_size."""
        return part_sizes(self.state_parts, self.output_size, self.hidden_size)

    def __repr__(self) -> str:
        projected = f", proj_size={self.output_size}" if self.output_size != self.hidden_size else ""
        return (f"<stored {self.family}(input_size={self.input_size}, "
                f"hidden_size={self.hidden_size}, norm={self.norm!r}{projected})>")


class MappedModel(Model):
    """An lnfast.Model whose weights are a mapped .lnfast file's panels.

    Steps, streams, step_many, fingerprints and state blobs are a Model's.
    A file truncated while mapped never crashes the process: the step that
    meets the missing pages raises CheckpointError with the stream's state
    as before it, and so does every later step of this model. A file
    rewritten in place while mapped changes the weights under the model
    (lnfast's own writer never does that: it renames a new file over the
    old); ``verify()`` detects it. Pickles as its path and fingerprint:
    unpickling maps the file again and refuses one holding another model.
    """

    _path: str
    _verify: bool

    @classmethod
    def _open(cls, path: str, isa: Optional[str], verify_checksum: bool) -> "MappedModel":
        model = cls.__new__(cls)
        model._set_core(_core.load_model_file(path, isa, verify_checksum), isa)
        model._path = path
        model._verify = verify_checksum
        return model

    @property  # type: ignore[override]
    def layers(self) -> Tuple[StoredLayer, ...]:  # type: ignore[override]
        """Each layer's structure (StoredLayer); the weights stay mapped."""
        return tuple(StoredLayer(self._core.layer(k)) for k in range(self.num_layers))

    @property
    def path(self) -> str:
        """The file this model is mapped from."""
        return self._path

    @property
    def mapped(self) -> bool:
        """True when it steps from the mapping; False when the file's panels
        were laid out for other kernels and were relaid into memory at load."""
        return _core.is_mapped(self._core)

    def verify(self) -> None:
        """Hash the mapped weights again; CheckpointError if they are no
        longer those loaded (the file rewritten in place) or are gone (the
        file truncated). Nothing to check when the panels were relaid."""
        _core.verify_model_file(self._core)

    def __reduce__(self) -> Tuple[Any, Tuple[str, Optional[str], str, bool]]:
        return _reopen, (self._path, self._requested_isa, self.fingerprint, self._verify)

    def __getstate__(self) -> Dict[str, Any]:
        raise TypeError("a MappedModel pickles through __reduce__")

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return (f"lnfast.load({self._path!r}) -> [{inner}], isa={self.isa!r}, "
                f"weights={self.weights!r}, activations={self.activations!r}")


def _reopen(path: str, isa: Optional[str], fingerprint: str, verify: bool) -> MappedModel:
    model = MappedModel._open(path, isa, verify)
    if model.fingerprint != fingerprint:
        raise CheckpointError(path, f"holds another model now (fingerprint {model.fingerprint}, "
                                    f"the pickled model had {fingerprint})")
    return model


def describe(path: "str | os.PathLike") -> Dict[str, Any]:
    """The header and each layer's structure and panel layout, as parsed
    and checked (the payload is not read): what ``lnfast inspect`` prints."""
    return _core.describe_model_file(os.fspath(path))


def summary_text(info: Dict[str, Any]) -> str:
    """``describe``'s result as lnfast inspect prints it."""
    lines = [f"{info['path']}: lnfast model file, format version {info['version']}, "
             f"{info['bytes']} bytes",
             f"  fingerprint {info['fingerprint']}, weights {info['weights']}, "
             f"activations {info['activations']}, packed on {info['writer_isa'] or '?'}"]
    for k, layer in enumerate(info["layers"]):
        options = [f"cell_norm={layer['cell_norm']}"] if layer["cell_norm"] != "none" else []
        if layer["proj_size"]:
            options.append(f"proj_size={layer['proj_size']}")
        for name in ("x_norms", "h_norms", "gate_norms"):
            if layer[name]:
                options.append(f"{name}={len(layer[name])}")
        if layer["type"] == "RNN":
            options.append(f"activation={layer['activation']}")
        if layer["gru_reset"] != "recurrent":
            options.append(f"reset={layer['gru_reset']}")
        for name in ("forget_bias", "update_bias", "zoneout"):
            if layer[name]:
                options.append(f"{name}={layer[name]:g}")
        if layer["gru_paper_update"]:
            options.append("update=paper")
        lines.append(f"  layer {k}: {layer['type']} {layer['input_size']} -> {layer['hidden_size']}"
                     + (f" ({', '.join(options)})" if options else ""))
        for name, m in layer["matrices"].items():
            lines.append(f"    {name}: {m['rows']} x {m['cols']}, panels of {m['panel_rows']} rows "
                         f"in blocks of {m['block_panels']}, {m['order']}"
                         + (f" by {m['k_group']}" if m["k_group"] > 1 else "")
                         + (", u8 offset" if m["u8_offset"] else "")
                         + f", {m['bytes']} bytes at {m['offset']}")
    return "\n".join(lines)
