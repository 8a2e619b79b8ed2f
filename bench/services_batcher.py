"""32 threads, each stepping its own stream of one LN-LSTM (H = 512): through
an lnfast.Batcher (their steps run together as step_many; its default 2
workers, and 1) against the same threads calling stream.step directly. Throughput and per-step latency
(p50/p99), medians over interleaved rounds, load average printed.

Then the same sessions as asyncio tasks on one event loop: ``await
batcher.astep`` (a worker hands results back through
loop.call_soon_threadsafe) against ``batcher.step`` run in a thread pool
(run_in_executor) and against stepping directly in the loop.

    python bench/services_batcher.py [--quick] [--threads 32] [--hidden 512]

``measure()`` and ``measure_async()`` return the numbers as dicts for a harness.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import lnfast  # noqa: E402

GOAL_RATIO = 1.8


def ln_lstm(hidden: int, seed: int = 0) -> lnfast.Model:
    """The README table's LN-LSTM: separate norms on Wx and Uh, LN(c) in the state."""
    rng = np.random.default_rng(seed)
    scale = 1.0 / np.sqrt(hidden)

    def norm(size):
        return lnfast.LayerNorm(1 + 0.1 * rng.standard_normal(size).astype(np.float32),
                                0.1 * rng.standard_normal(size).astype(np.float32))
    cell = lnfast.LSTM((scale * rng.standard_normal((4 * hidden, hidden))).astype(np.float32),
                       (scale * rng.standard_normal((4 * hidden, hidden))).astype(np.float32),
                       norm="separate", ln_x=norm(4 * hidden), ln_h=norm(4 * hidden),
                       cell_norm="state", ln_c=norm(hidden))
    return lnfast.Model(cell)


def summary(wall: float, all_ns) -> Dict[str, float]:
    return {"steps_per_s": all_ns.size / wall, "p50_us": np.percentile(all_ns, 50) / 1e3,
            "p99_us": np.percentile(all_ns, 99) / 1e3}


def one_round(model, inputs, step_of_thread) -> Dict[str, float]:
    """Every thread steps its own stream through all its inputs, from a
    common start: throughput and per-step latency."""
    n_threads = len(inputs)
    start = threading.Barrier(n_threads + 1)
    latencies = [None] * n_threads

    def session(k):
        stream, step = model.stream(), step_of_thread
        out = np.empty(model.hidden_size, np.float32)
        mine = np.empty(len(inputs[k]), np.int64)
        start.wait()
        for t, x in enumerate(inputs[k]):
            t0 = time.perf_counter_ns()
            step(stream, x, out)
            mine[t] = time.perf_counter_ns() - t0
        latencies[k] = mine
    threads = [threading.Thread(target=session, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return summary(time.perf_counter() - t0, np.concatenate(latencies))


def async_round(model, inputs, step_of_task) -> Dict[str, float]:
    """Every task steps its own stream through all its inputs on one event
    loop: throughput and per-step latency."""
    async def session(X):
        stream, mine = model.stream(), np.empty(len(X), np.int64)
        out = np.empty(model.hidden_size, np.float32)
        for t, x in enumerate(X):
            t0 = time.perf_counter_ns()
            await step_of_task(stream, x, out)
            mine[t] = time.perf_counter_ns() - t0
        return mine

    async def main():
        t0 = time.perf_counter()
        latencies = await asyncio.gather(*(session(X) for X in inputs))
        return time.perf_counter() - t0, np.concatenate(latencies)
    return summary(*asyncio.run(main()))


def check_bit_identical(model, batcher, inputs) -> None:
    direct, batched = model.stream(), model.stream()
    for x in inputs[:20]:
        if not np.array_equal(direct.step(x), batcher.step(batched, x)):
            raise SystemExit("the batcher's result differs from stream.step: not measuring")


def load_average():
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def workload(hidden: int, sessions: int, steps: int, seed: int):
    rng = np.random.default_rng(seed)
    return ln_lstm(hidden), [rng.standard_normal((steps, hidden)).astype(np.float32)
                             for _ in range(sessions)]


def interleaved_medians(model, inputs, modes, round_of, rounds):
    """Each mode warmed up, then timed in rotating rounds so all see the same
    machine load; the median of each figure, per mode."""
    for step in modes.values():  # warm up all (threads, caches, allocator)
        round_of(model, [X[:5] for X in inputs], step)
    samples = {name: [] for name in modes}
    for _ in range(rounds):
        for name, step in modes.items():
            samples[name].append(round_of(model, inputs, step))
    return {name: {key: float(np.median([r[key] for r in rs])) for key in rs[0]}
            for name, rs in samples.items()}


def measure(threads: int = 32, hidden: int = 512, steps: int = 40, rounds: int = 7,
            max_batch: int = 64) -> Dict[str, object]:
    model, inputs = workload(hidden, threads, steps, seed=1)
    load_before = load_average()
    with lnfast.Batcher(model, max_batch=max_batch) as default, \
            lnfast.Batcher(model, max_batch=max_batch, workers=1) as one:
        check_bit_identical(model, default, inputs[0])
        check_bit_identical(model, one, inputs[0])
        modes = {"direct": lambda s, x, out: s.step(x, out),
                 "batcher": lambda s, x, out: default.step(s, x, out),
                 "batcher, 1 worker": lambda s, x, out: one.step(s, x, out)}
        result = {"modes": interleaved_medians(model, inputs, modes, one_round, rounds)}
        batches = {"batcher": default.stats, "batcher, 1 worker": one.stats}
    direct = result["modes"]["direct"]["steps_per_s"]
    for name, stats in batches.items():
        result["modes"][name]["ratio"] = result["modes"][name]["steps_per_s"] / direct
        result["modes"][name]["mean_batch"] = stats["steps"] / max(1, stats["batches"])
    result["ratio"] = result["modes"]["batcher"]["ratio"]  # the default Batcher: the goal's
    result["goal_ratio"] = GOAL_RATIO
    result["config"] = {"sessions": threads, "hidden": hidden, "steps": steps,
                        "rounds": rounds, "max_batch": max_batch, "isa": model.isa}
    result["load_average"] = {"before": load_before, "after": load_average()}
    return result


def measure_async(tasks: int = 32, hidden: int = 512, steps: int = 40, rounds: int = 7,
                  max_batch: int = 64) -> Dict[str, object]:
    model, inputs = workload(hidden, tasks, steps, seed=2)
    load_before = load_average()

    async def direct(stream, x, out):  # blocks the loop: the tasks take turns
        return stream.step(x, out)

    with lnfast.Batcher(model, max_batch=max_batch) as batcher, \
            ThreadPoolExecutor(max_workers=tasks) as pool:
        async def in_executor(stream, x, out):
            return await asyncio.get_running_loop().run_in_executor(
                pool, batcher.step, stream, x, out)
        modes = {"direct in the loop": direct, "astep": batcher.astep,
                 "step in an executor": in_executor}
        result = {"modes": interleaved_medians(model, inputs, modes, async_round, rounds)}
    direct_rate = result["modes"]["direct in the loop"]["steps_per_s"]
    for name in ("astep", "step in an executor"):
        result["modes"][name]["ratio"] = result["modes"][name]["steps_per_s"] / direct_rate
    result["config"] = {"sessions": tasks, "hidden": hidden, "steps": steps,
                        "rounds": rounds, "max_batch": max_batch, "isa": model.isa}
    result["load_average"] = {"before": load_before, "after": load_average()}
    return result


def report_lines(r, title: str, verdicts=()):
    """The title line, one line per mode, the verdicts and the load average."""
    c = r["config"]
    lines = [f"{title}: {c['sessions']} sessions, LN-LSTM H = {c['hidden']}, {c['steps']} steps "
             f"each, medians over {c['rounds']} interleaved rounds, kernels {c['isa']}"]
    for name, m in r["modes"].items():
        extra = f"   {m['ratio']:.2f}x direct" if "ratio" in m else ""
        if "mean_batch" in m:
            extra += f", mean batch {m['mean_batch']:.1f}"
        lines.append(f"  {name:20s} {m['steps_per_s']:7.0f} steps/s   p50 {m['p50_us']:7.0f} us"
                     f"   p99 {m['p99_us']:7.0f} us{extra}")
    lines += list(verdicts)
    load = r["load_average"]
    if load["before"] is not None:
        lines.append(f"  load average before {load['before']:.2f}, after {load['after']:.2f}")
    return lines


def report(r) -> str:
    verdict = "PASS" if r["ratio"] >= r["goal_ratio"] else "MISS"
    return "\n".join(report_lines(
        r, "Batcher vs direct stream.step, one thread per session",
        [f"  goal: the default Batcher >= {r['goal_ratio']}x direct: {verdict}"]))


def report_async(r) -> str:
    return "\n".join(report_lines(r, "asyncio: one task per session, one event loop"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 20 steps")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=512)
    args = parser.parse_args(argv)
    steps, rounds = (20, 3) if args.quick else (40, 7)
    print(report(measure(threads=args.threads, hidden=args.hidden, steps=steps, rounds=rounds)))
    print(report_async(measure_async(tasks=args.threads, hidden=args.hidden, steps=steps,
                                     rounds=rounds)))


if __name__ == "__main__":
    main()
