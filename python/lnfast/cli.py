"""The `lnfast` command (also `python -m lnfast`).

    lnfast demo                                 stream text from the shipped LN-LSTM
    lnfast inspect CHECKPOINT                   tensors and recognised layouts (or a .lnfast file)
    lnfast convert CHECKPOINT OUTPUT.lnfast     pack once into a mapped model file
    lnfast run CHECKPOINT --input X.npy --output Y.npy
    lnfast bench CHECKPOINT                     per-step latency (and PyTorch's)

Errors are one ``lnfast: error:`` line on stderr, never a traceback: exit
status 2 for a bad argument (the command's usage follows the line), 1 when the
work itself fails, 130 when interrupted. README.md's "Command line" says the same.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sys

import numpy as np

from . import __version__, _core

EXIT_ERROR = 1
EXIT_BAD_ARGUMENT = 2  # argparse's own status for a usage error
EXIT_INTERRUPTED = 130


class ArgumentParser(argparse.ArgumentParser):
    """argparse with lnfast's error line first (``lnfast: error: argument
    --x: ...``), then the usage of the command that was given."""

    def error(self, message):
        sys.stderr.write(f"lnfast: error: {message}\n")
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_ARGUMENT)


def _count(minimum: int):
    """An argparse type: a whole number >= minimum, named in the error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {'positive' if minimum == 1 else f'>= {minimum}'}, "
                                             f"got {value}")
        return value
    parse.__name__ = "count"
    return parse


def _temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0 (0 is greedy), got {text}")
    return value


LOAD_OPTIONS = ("prefix", "layout", "weights", "activations", "isa", "zoneout", "forget_bias", "eps", "activation")


CHECKPOINT_HELP = "a PyTorch (.pt/.pth/.ckpt), TorchScript or safetensors file"
PREFIX_HELP = "module prefix of the network, when the file holds several"
LAYOUT_HELP = "layout name, when the file's names are ambiguous"


def _add_load_options(parser):
    parser.add_argument("checkpoint", help=CHECKPOINT_HELP)
    parser.add_argument("--prefix", help=PREFIX_HELP)
    parser.add_argument("--layout", help=LAYOUT_HELP)
    parser.add_argument("--weights", choices=_core.WEIGHT_FORMATS, help="weight storage (default fp32)")
    parser.add_argument("--activations", choices=_core.ACTIVATION_FORMATS,
                        help="GEMM inputs: int8 (with --weights int8) uses integer dot products")
    # No fixed choices: the model checks the name against what this CPU has.
    parser.add_argument("--isa", help="force an instruction set (one of lnfast.supported_isas())")
    parser.add_argument("--zoneout", type=float, help="inference zoneout probability (haste)")
    parser.add_argument("--forget-bias", type=float, dest="forget_bias", help="constant added to f (LSTM)")
    parser.add_argument("--eps", type=float, help="eps of every layer norm")
    parser.add_argument("--activation", choices=("tanh", "relu"), help="RNN nonlinearity")


def _load_options(args) -> dict:
    return {name: getattr(args, name) for name in LOAD_OPTIONS if getattr(args, name, None) is not None}


def _load(args):
    from . import loading

    return loading.load(args.checkpoint, **_load_options(args))


def cmd_demo(args):
    from .demo import run_demo

    run_demo(prompt=args.prompt, length=args.chars, temperature=args.temperature, seed=args.seed,
             use_torch=not args.no_torch)


def cmd_inspect(args):
    from . import loading, model_file

    if model_file.is_model_file(args.checkpoint):
        if args.prefix or args.layout:
            raise ValueError(f"{args.checkpoint}: a .lnfast file holds one model; "
                             "--prefix and --layout apply to checkpoints")
        print(model_file.summary_text(model_file.describe(args.checkpoint)))
        return
    print(_as_flags(str(loading.inspect(args.checkpoint)), args))
    chosen = _load_options(args)
    if chosen:
        # What `lnfast run` and `lnfast bench` would load with the same flags.
        model = loading.load(args.checkpoint, **chosen)
        flags = " ".join(f"--{name} {value}" for name, value in chosen.items())
        layers = ", ".join(f"{getattr(c, 'family', type(c).__name__)}({c.input_size}->"
                           f"{c.hidden_size}, norm={c.norm})" for c in model.layers)
        print(f"with {flags}: loads {layers}")


def _check_output_directory(path: str) -> None:
    """Before any work: an output into a missing folder would fail only
    after the whole run."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"--output {path}: directory {folder} does not exist")


def cmd_run(args):
    _check_output_directory(args.output)
    model = _load(args)
    try:
        X = np.load(args.input, allow_pickle=False)
    except ValueError as e:
        raise ValueError(f"{args.input}: not a plain .npy array ({e})") from None
    if X.ndim != 2 or X.shape[1] != model.input_size:
        raise ValueError(f"{args.input}: expected an array of shape (T, {model.input_size}), got {X.shape}")
    if X.dtype.kind not in "fiu":
        raise ValueError(f"{args.input}: expected real numbers, got dtype {X.dtype}")
    Y = model.stream().run(np.ascontiguousarray(X, dtype=np.float32))
    with open(args.output, "wb") as f:  # np.save(path) would append .npy to any other name
        np.save(f, Y)
    print(f"wrote {args.output}: {Y.shape[0]} steps x {Y.shape[1]} units (float32)")


def cmd_convert(args):
    _check_output_directory(args.output)
    model = _load(args)
    if not hasattr(model, "save"):  # lnfast.Bidirectional runs whole sequences only
        raise ValueError(f"{args.checkpoint}: a bidirectional network cannot be saved as a "
                         ".lnfast file yet")
    model.save(args.output)
    print(f"wrote {args.output}: {model.num_layers} layer(s), {model.weight_count} weights as "
          f"{model.weights} (activations {model.activations}), packed for {model.isa}, "
          f"fingerprint {model.fingerprint}; lnfast.load it to map it")


def cmd_bench(args):
    from . import get_num_threads, set_num_threads
    from .bench_checkpoint import bench_checkpoint

    model = _load(args)
    previous = get_num_threads()
    set_num_threads(args.threads)
    try:
        bench_checkpoint(model, steps=args.steps, use_torch=not args.no_torch, streams=args.streams)
    finally:
        set_num_threads(previous)


def build_parser():
    parser = ArgumentParser(prog="lnfast", description="Fast CPU inference for layer-normalized RNNs.")
    parser.add_argument("--version", action="version", version=f"lnfast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    demo = sub.add_parser("demo", help="stream text from the shipped character-level LN-LSTM")
    demo.add_argument("--prompt", help="text to start from (default: the model's sample prompt)")
    demo.add_argument("--chars", type=_count(0), default=400, help="characters to generate (default 400)")
    demo.add_argument("--temperature", type=_temperature, default=0.7,
                      help="sampling temperature, >= 0; 0 for greedy (default 0.7)")
    demo.add_argument("--seed", type=_count(0), default=0, help="seed of the sampler (default 0)")
    demo.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    demo.set_defaults(func=cmd_demo, command_parser=demo)

    inspect = sub.add_parser("inspect", help="list tensors and the layouts recognised")
    inspect.add_argument("checkpoint", help=CHECKPOINT_HELP)
    inspect.add_argument("--prefix", help=PREFIX_HELP + "; also shows what it loads")
    inspect.add_argument("--layout", help=LAYOUT_HELP + "; also shows what it loads")
    inspect.set_defaults(func=cmd_inspect, command_parser=inspect)

    run = sub.add_parser("run", help="stream a [T, input] .npy array through the model")
    _add_load_options(run)
    run.add_argument("--input", required=True, help=".npy file of shape (T, input_size)")
    run.add_argument("--output", required=True,
                     help=".npy file to write, shape (T, hidden_size), at exactly this path")
    run.set_defaults(func=cmd_run, command_parser=run)

    convert = sub.add_parser("convert", help="pack a checkpoint once into a .lnfast model file")
    _add_load_options(convert)
    convert.add_argument("output", help="the .lnfast file to write (replaced atomically)")
    convert.set_defaults(func=cmd_convert, command_parser=convert)

    bench = sub.add_parser("bench", help="per-step latency on a checkpoint")
    _add_load_options(bench)
    bench.add_argument("--steps", type=_count(1), default=2000, help="timed steps (default 2000)")
    bench.add_argument("--threads", type=_count(1), default=1,
                       help="threads per step (lnfast.set_num_threads; default 1)")
    bench.add_argument("--streams", type=_count(1), default=1,
                       help="also time B streams advanced together by model.step_many")
    bench.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    bench.set_defaults(func=cmd_bench, command_parser=bench)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_load_options(args)
    try:
        args.func(args)
    except KeyboardInterrupt:
        print("\nlnfast: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except (OSError, ValueError, TypeError, RuntimeError) as e:
        # CheckpointError and LayoutError are ValueErrors: every expected
        # failure ends here as one line.
        print(_error_text(_in_cli_words(e, args)), file=sys.stderr)
        return EXIT_ERROR
    return 0


_LOAD_OPTION = re.compile(r"^load option (\w+)")


def _check_load_options(args) -> None:
    """Bad load-option values (--zoneout 2, --eps nan) are bad arguments:
    refused before any file is read, by the one check lnfast.load makes."""
    from .layouts import LoadOptions

    try:
        LoadOptions.parse({name: value for name, value in _load_options(args).items()
                           if name not in ("prefix", "layout")})  # arguments of load, not options
    except (TypeError, ValueError) as e:
        args.command_parser.error(_LOAD_OPTION.sub(
            lambda m: f"argument --{m.group(1).replace('_', '-')}:", str(e)))


# The Python API's wording in a layout error (prefix='dec', lnfast.load(path,
# ...)) said as the flags a command-line user types.
_KEYWORD_VALUE = re.compile(r"\b(prefix|layout)=(?:'([^']*)'|\"([^\"]*)\")")
_BARE_KEYWORD = re.compile(r"\b(prefix|layout)=(?=[\s)]|$)")
_LOAD_CALL = re.compile(r"lnfast\.load\(path, (.*)\)")


def _in_cli_words(error, args):
    from .errors import LayoutError

    return ValueError(_as_flags(str(error), args)) if isinstance(error, LayoutError) else error


def _as_flags(text: str, args) -> str:
    text = _LOAD_CALL.sub(lambda m: f"lnfast {args.command} {args.checkpoint} {m.group(1)}", text)
    text = _KEYWORD_VALUE.sub(lambda m: f"--{m.group(1)} {m.group(2) if m.group(2) is not None else m.group(3)}",
                              text)
    return _BARE_KEYWORD.sub(lambda m: f"--{m.group(1)}", text)

def _error_text(error) -> str:
    """One line saying what went wrong; errors that list choices (which
    networks a file holds, say) keep that list below it, indented."""
    if isinstance(error, FileNotFoundError) and error.filename:
        return f"lnfast: error: {error.filename}: no such file"
    if isinstance(error, IsADirectoryError) and error.filename:
        return f"lnfast: error: {error.filename}: is a directory"
    if isinstance(error, PermissionError) and error.filename:
        return f"lnfast: error: {error.filename}: permission denied"
    lines = [line.rstrip() for line in (str(error) or type(error).__name__).splitlines() if line.strip()]
    head = f"lnfast: error: {lines[0]}"
    return "\n".join([head] + ["    " + line.strip() for line in lines[1:]])


if __name__ == "__main__":
    sys.exit(main())
