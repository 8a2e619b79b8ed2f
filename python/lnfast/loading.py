"""lnfast.load, lnfast.inspect and lnfast.from_torch: from a checkpoint to a Model.

Reading a file never imports torch or runs anything the file names (see
lnfast.formats); this module finds the recurrent network among the tensors
(lnfast.layouts), converts it to lnfast's canonical form and builds the Model.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from .errors import LayoutError
from .formats import mapped_checkpoint, read_checkpoint
from .formats.reader import Source
from .layouts import (Candidate, CheckpointSummary, LoadOptions, Mapping, NormKeys, TensorInfo,
                      TensorSet, choose, convert_mapping, find_networks, normalize_prefix)
from .layouts.layer_plan import LayerPlan
from .bidirectional import Bidirectional
from .cells import matrices_checked_by_model
from .model import Model
from . import model_file

__all__ = ["load", "inspect", "read_tensors", "from_torch", "Mapping", "NormKeys"]

Layout = Union[None, str, Mapping]


# Typed as Model: a bidirectional file gives an lnfast.Bidirectional, which
# has Model's run() and sizes but no streams; annotating the union would make
# every streaming caller narrow a type that a unidirectional file never has.
def load(path: Source, layout: Layout = None, prefix: Optional[str] = None,
         **options: Any) -> Model:
    """Build an lnfast.Model from a checkpoint file, without torch.

    path: a file path, the file's bytes (bytes, bytearray, memoryview) or a
    binary file object (anything with ``read``; seekable or not).
    Reads PyTorch zip and legacy files, TorchScript archives, safetensors
    and NeMo .nemo archives (the weights inside, nothing extracted);
    the state_dict may be wrapped ({"state_dict": ...}, {"model": ...},
    Lightning files). The recurrent network is found under any module prefix
    and its layout recognised from the key names: torch nn.LSTM/GRU/RNN (and
    their Cell versions, with proj_size), PyTorch fastrnns / NeMo LN-LSTM,
    haste LayerNormLSTM/LayerNormGRU, icefall LayerNormLSTMCell (with
    proj_size)/GRUCell and ScaledLSTM, sheeprl LayerNormGRUCell and
    dreamerv3-torch GRUCell (DreamerV2/V3). Gate rows are put in lnfast's
    order, transposed kernels turned, and each source's norm placement, cell
    norm and eps set.

    layout: None to recognise it; a layout name (see lnfast.layouts.LAYOUT_NAMES:
        "torch_nn", "fastrnns", "haste_lstm", ..., "icefall_scaled_lstm",
        "sheeprl_gru", "dreamerv3_torch_gru"; or "haste", "icefall",
        "dreamer" for all of a source's) to consider only that one; or an
        lnfast.Mapping describing your own module's tensors.
    prefix: the module prefix of the network, e.g. "model.encoder.rnn", when
        the file holds several (the error then lists them). With a Mapping,
        its keys are relative to this prefix.
    options (none are stored in checkpoints):
        zoneout      p in h' = p h + (1 - p) h', every layer (haste's zoneout)
        forget_bias  added to the LSTM forget gate after its norm
        eps          every layer norm's eps, instead of the layout's default
        activation   "tanh" (default) or "relu" for RNN layers; nn.RNN's
                     nonlinearity is not in its state_dict
        isa          instruction set, passed to lnfast.Model
        weights      'fp32' (default), 'bf16' or 'int8' weight storage, passed to lnfast.Model

    A .lnfast file (``model.save``, ``lnfast convert``) is mapped instead:
    see lnfast.model_file.load for its options (isa, verify_checksum).

    Bidirectional stacks (torch's bidirectional=True, fastrnns'
    BidirLSTMLayer) load as an lnfast.Bidirectional, which runs whole
    sequences (``model.run(X)``) and cannot stream.

    Raises CheckpointError if the file cannot be read, LayoutError (a
    CheckpointError) if the network is not found, ambiguous, refused
    (proj_size, a norm between layers) or a tensor's shape does not fit, and
    TypeError for an unknown option.
    """
    if model_file.is_model_file(path):
        return model_file.load(path, layout=layout, prefix=prefix, **options)
    LoadOptions.parse(options)  # a bad option fails before the file is read
    # The model packs the tensors straight from the file's mapping and
    # keeps none of them (docs/speed.md#loading).
    with mapped_checkpoint(path) as checkpoint:
        return load_tensors(checkpoint.tensors, checkpoint.path, layout, prefix, **options)


def read_tensors(path: Source) -> Dict[str, np.ndarray]:
    """Every floating-point tensor of a checkpoint, by its flattened dotted
    name, e.g. {"embed.weight": ..., "rnn.weight_ih_l0": ...}: float32,
    C-contiguous numpy arrays (float16, bfloat16 and float64 converted).

    For the layers around the recurrent stack (embeddings, output layers),
    read through the same safe reader as ``load``: same formats, same
    sources (a path, bytes or a binary file object), same limits and the
    same CheckpointError. Integer and bool tensors (a BatchNorm's
    num_batches_tracked) are not returned; ``inspect`` lists them.
    """
    return read_checkpoint(path).tensors


def load_tensors(arrays: Dict[str, np.ndarray], origin: str, layout: Layout = None,
                 prefix: Optional[str] = None, **options) -> Model:
    """``load`` from tensors already read by ``read_tensors``, for callers
    that also use the other tensors (the demo's embedding and output layer)
    and should not read the file twice. ``origin`` names the file in
    errors. Same arguments and errors as ``load``."""
    parsed = LoadOptions.parse(options)
    tensors = TensorSet(origin, arrays)
    plans, candidate = _plans(tensors, layout, prefix)
    return _model(tensors, plans, parsed, candidate)


def inspect(path: Source) -> CheckpointSummary:
    """What a checkpoint holds: every tensor (name, shape, stored dtype) and
    every recurrent network recognised, with its layout, prefix, sizes and
    whether it can be loaded. ``print(lnfast.inspect(path))`` shows a table.
    path: a path, bytes or a binary file object, as for ``load``."""
    checkpoint = read_checkpoint(path)
    tensors = TensorSet(checkpoint.path, checkpoint.tensors)
    findings = find_networks(tensors)
    return CheckpointSummary(
        path=checkpoint.path, format=checkpoint.format,
        tensors=[TensorInfo(name, tuple(array.shape), checkpoint.dtypes.get(name, str(array.dtype)))
                 for name, array in checkpoint.tensors.items()],
        candidates=findings.candidates,
        statuses=[_status(tensors, c) for c in findings.candidates],
        skipped=dict(checkpoint.extras.get("skipped_tensors", {})),
        placeholders=list(checkpoint.extras.get("placeholders", [])),
        near_misses=findings.near_misses)


def from_torch(module: Any, layout: Layout = None, prefix: Optional[str] = None,
               **options: Any) -> Model:
    """Build an lnfast.Model from a live torch module (its state_dict), the
    same way ``load`` does from a file; same ``layout``, ``prefix`` and
    options. An nn.RNN's (or RNNCell's) nonlinearity is read from the module.
    torch is imported here only, never by the rest of lnfast."""
    import torch  # only here: the caller has torch; loading files never needs it

    parsed = LoadOptions.parse(options)
    arrays = {name: tensor.detach().cpu().to(torch.float64).numpy()
              for name, tensor in module.state_dict().items() if tensor.is_floating_point()}
    tensors = TensorSet(f"<torch module {type(module).__name__}>", arrays)
    plans, candidate = _plans(tensors, layout, prefix)
    if candidate is not None:
        _take_nonlinearity(module, plans, parsed)
    return _model(tensors, plans, parsed, candidate)


# --------------------------------------------------------------------------


def _plans(tensors: TensorSet, layout: Layout, prefix: Optional[str]
           ) -> Tuple[List[LayerPlan], Optional[Candidate]]:
    if isinstance(layout, Mapping):
        return convert_mapping(layout, tensors, normalize_prefix(prefix) or ""), None
    if layout is not None and not isinstance(layout, str):
        raise TypeError(f"layout must be a layout name, an lnfast.Mapping or None, "
                        f"got {type(layout).__name__}")
    candidate = choose(find_networks(tensors), tensors, layout, prefix)
    return candidate.convert(tensors), candidate


def _model(tensors: TensorSet, plans: List[LayerPlan], options: LoadOptions,
           candidate: Optional[Candidate]) -> Union[Model, Bidirectional]:
    plans = options.apply(plans)
    # The core checks every matrix element as it packs: the cells need not
    # read them first (one pass over the weights, not two).
    with matrices_checked_by_model():
        cells = _cells(tensors, plans)
    try:
        if candidate is not None and candidate.directions == 2:
            pairs = list(zip(cells[0::2], cells[1::2]))  # (forward, backward) per layer
            return Bidirectional(pairs, isa=options.isa, weights=options.weights,
                                 activations=options.activations)
        return Model(cells, isa=options.isa, weights=options.weights,
                     activations=options.activations)
    except ValueError:
        # A NaN or Inf in a matrix: name its layer and prefix as for any
        # other bad tensor.
        _each_layer(tensors, plans, lambda k: cells[k].check_matrices())
        raise


def _cells(tensors: TensorSet, plans: List[LayerPlan]) -> list:
    cells: list = []
    _each_layer(tensors, plans, lambda k: cells.append(plans[k].to_cell()))
    return cells


def _each_layer(tensors: TensorSet, plans: List[LayerPlan], action) -> None:
    """action(k) for every layer, a ValueError raised as a LayoutError that
    names the layer and where its tensors came from."""
    for k, plan in enumerate(plans):
        try:
            action(k)
        except ValueError as error:
            # Options were checked already: what is left is the data itself
            # (a NaN in a weight, say); say which layer it came from.
            where = f"at prefix {plan.source_prefix!r}" if plan.source_prefix else "at the top level"
            raise LayoutError(tensors.origin, f"layer {k} {where}: {error}") from None


def _status(tensors: TensorSet, candidate: Candidate) -> str:
    if candidate.problem:
        return f"cannot load: {candidate.short_problem}"
    try:
        _cells(tensors, candidate.convert(tensors))
    except LayoutError as error:
        return f"cannot load: {error.problem}"
    return "ok"


def _take_nonlinearity(module, plans: List[LayerPlan], options: LoadOptions) -> None:
    """nn.RNN keeps tanh/relu in an attribute, not in its state_dict."""
    for plan in plans:
        if plan.family != "RNN":
            continue
        path = plan.source_prefix.rstrip(".")
        try:
            owner = module.get_submodule(path) if path else module
        except AttributeError:  # e.g. a scripted module that hides its children
            continue
        nonlinearity = getattr(owner, "nonlinearity", None)
        if nonlinearity is None:
            continue
        if options.activation is not None and options.activation != nonlinearity:
            raise ValueError(f"activation={options.activation!r} contradicts the module's "
                             f"nonlinearity {nonlinearity!r} at {path or '(top level)'}")
        plan.options["activation"] = nonlinearity
