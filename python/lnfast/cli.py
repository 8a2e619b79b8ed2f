"""The `lnfast` command (also `python -m lnfast`).

    lnfast demo                                 stream text from the shipped LN-LSTM
    lnfast inspect CHECKPOINT                   tensors and recognised layouts
    lnfast run CHECKPOINT --input X.npy --output Y.npy
    lnfast bench CHECKPOINT                     per-step latency (and PyTorch's)

Errors are one line on stderr and a non-zero exit status, never a traceback.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

EXIT_ERROR = 1


LOAD_OPTIONS = ("prefix", "layout", "weights", "isa", "zoneout", "forget_bias", "eps", "activation")


def _add_load_options(parser):
    parser.add_argument("checkpoint", help="a PyTorch (.pt/.pth/.ckpt), TorchScript or safetensors file")
    parser.add_argument("--prefix", help="module prefix of the network, when the file holds several")
    parser.add_argument("--layout", help="layout name, when the file's names are ambiguous")
    parser.add_argument("--weights", choices=("fp32", "bf16", "int8"), help="weight storage (default fp32)")
    # No fixed choices: the model checks the name against what this CPU has.
    parser.add_argument("--isa", help="force an instruction set (one of lnfast.supported_isas())")
    parser.add_argument("--zoneout", type=float, help="inference zoneout probability (haste)")
    parser.add_argument("--forget-bias", type=float, dest="forget_bias", help="constant added to f (LSTM)")
    parser.add_argument("--eps", type=float, help="eps of every layer norm")
    parser.add_argument("--activation", choices=("tanh", "relu"), help="RNN nonlinearity")


def _load(args):
    from . import loading

    options = {name: getattr(args, name) for name in LOAD_OPTIONS if getattr(args, name) is not None}
    return loading.load(args.checkpoint, **options)


def cmd_demo(args):
    from .demo import run_demo

    run_demo(prompt=args.prompt, length=args.chars, temperature=args.temperature, seed=args.seed,
             use_torch=not args.no_torch)


def cmd_inspect(args):
    from . import loading

    print(loading.inspect(args.checkpoint))


def cmd_run(args):
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
    np.save(args.output, Y)
    print(f"wrote {args.output}: {Y.shape[0]} steps x {Y.shape[1]} units (float32)")


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
    parser = argparse.ArgumentParser(prog="lnfast", description="Fast CPU inference for layer-normalized RNNs.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="stream text from the shipped character-level LN-LSTM")
    demo.add_argument("--prompt", help="text to start from (default: the model's sample prompt)")
    demo.add_argument("--chars", type=int, default=400, help="characters to generate (default 400)")
    demo.add_argument("--temperature", type=float, default=0.7, help="0 for greedy (default 0.7)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    demo.set_defaults(func=cmd_demo)

    inspect = sub.add_parser("inspect", help="list tensors and the layouts recognised")
    inspect.add_argument("checkpoint")
    inspect.set_defaults(func=cmd_inspect)

    run = sub.add_parser("run", help="stream a [T, input] .npy array through the model")
    _add_load_options(run)
    run.add_argument("--input", required=True, help=".npy file of shape (T, input_size)")
    run.add_argument("--output", required=True, help=".npy file to write, shape (T, hidden_size)")
    run.set_defaults(func=cmd_run)

    bench = sub.add_parser("bench", help="per-step latency on a checkpoint")
    _add_load_options(bench)
    bench.add_argument("--steps", type=int, default=2000, help="timed steps (default 2000)")
    bench.add_argument("--threads", type=int, default=1, help="threads per step (lnfast.set_num_threads)")
    bench.add_argument("--streams", type=int, default=1,
                       help="also time B streams advanced together by model.step_many")
    bench.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "chars", 1) < 0 or min(getattr(args, name, 1) for name in ("steps", "threads", "streams")) <= 0:
        parser.error("counts must be positive")
    try:
        args.func(args)
    except KeyboardInterrupt:
        print("\nlnfast: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (OSError, ValueError, TypeError, RuntimeError) as e:
        # CheckpointError and LayoutError are ValueErrors: every expected
        # failure ends here as one line.
        print(_error_text(e), file=sys.stderr)
        return EXIT_ERROR
    return 0


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
