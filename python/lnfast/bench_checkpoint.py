"""`lnfast bench CHECKPOINT`: per-step latency of a loaded model, and of the
same computation in PyTorch eager where torch is installed."""
from __future__ import annotations

import time

import numpy as np

from .timing import ProgressBar, summarize_ns


def _time_steps(step, X, label):
    samples = np.empty(len(X), np.int64)
    bar = ProgressBar(len(X), label)
    for t, x in enumerate(X):
        t0 = time.perf_counter_ns()
        step(x)
        samples[t] = time.perf_counter_ns() - t0
        if t % 64 == 0:
            bar.update(t)
    bar.close()
    return samples


def _bench_step_many(model, X, streams):
    """Per-call latency of model.step_many over `streams` streams, and the
    steps per second that makes, against single steps."""
    group = [model.stream() for _ in range(streams)]
    out = np.empty((streams, model.hidden_size), np.float32)
    batch = np.ascontiguousarray(np.resize(X, (len(X), streams, X.shape[1])))
    for xs in batch[:10]:
        model.step_many(group, xs, out)
    stats = summarize_ns(_time_steps(lambda xs: model.step_many(group, xs, out), batch, "step_many"))
    return stats, streams * stats["steps_per_s"]


def bench_checkpoint(model, steps=2000, use_torch=True, seed=0, streams=1):
    X = np.random.default_rng(seed).standard_normal((steps, model.input_size)).astype(np.float32)
    stream = model.stream()
    out = np.empty(model.hidden_size, np.float32)
    for x in X[:50]:  # warm caches and branch predictors
        stream.step(x, out)
    ours = summarize_ns(_time_steps(lambda x: stream.step(x, out), X, "lnfast"))
    from . import get_num_threads

    layers = ", ".join(f"{getattr(c, 'family', type(c).__name__)}({c.input_size}->{c.hidden_size}, norm={c.norm})" for c in model.layers)
    print(f"model: {layers}; kernels: {model.isa}; weights: {model.weights}; "
          f"threads per step: {get_num_threads()}")
    print(f"lnfast   median {ours['median_us']:9.2f} us   p99 {ours['p99_us']:9.2f} us   "
          f"{ours['steps_per_s']:10.0f} steps/s")
    if streams > 1:
        many, rate = _bench_step_many(model, X[: max(50, steps // streams)], streams)
        print(f"step_many x{streams}: median {many['median_us']:9.2f} us per call, {rate:10.0f} stream-steps/s "
              f"({rate / ours['steps_per_s']:.1f}x single steps)")
    if not use_torch:
        return {"lnfast": ours}
    if not hasattr(model.layers[0], "w_ih"):  # a mapped .lnfast model keeps no float weights
        print("a .lnfast model keeps no float weights for PyTorch: bench the checkpoint to compare")
        return {"lnfast": ours}
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: skipping the comparison")
        return {"lnfast": ours}
    from .torch_equivalent import TorchStack

    torch.set_num_threads(1)
    module = TorchStack(model.layers)
    state = module.zero_state()
    with torch.inference_mode():
        Xt = torch.from_numpy(X)
        for x in Xt[:50]:
            _, state = module.step(x, state)
        holder = {"state": state}

        def torch_step(x):
            _, holder["state"] = module.step(x, holder["state"])

        theirs = summarize_ns(_time_steps(torch_step, Xt, "PyTorch"))
    print(f"PyTorch  median {theirs['median_us']:9.2f} us   p99 {theirs['p99_us']:9.2f} us   "
          f"{theirs['steps_per_s']:10.0f} steps/s   (eager, 1 thread)")
    print(f"ratio (PyTorch / lnfast, medians): {theirs['median_us'] / ours['median_us']:.1f}x")
    return {"lnfast": ours, "torch": theirs}
