"""The printed report: the latency table and the extra measurements."""
from __future__ import annotations

from typing import Dict, List, Sequence

from harness.console import fmt_us, median_p99_cells

SHORT = {"lnfast": "lnfast", "floor": "floor", "torch": "torch",
         "torchscript": "tscript", "onnxruntime": "ort", "openvino_f32": "ov32",
         "openvino_bf16": "ovbf16"}


def latency_table(cases: List[Dict], runtimes: Sequence[str]) -> str:
    """One row per case: median and p99 per runtime (us), then ratios of
    medians, peer / lnfast and lnfast / floor."""
    peers = [r for r in runtimes if r not in ("lnfast", "floor")]
    head1 = f"{'cell':<8}{'I':>5}{'H':>6}{'KiB':>7} |"
    head2 = f"{'':<8}{'':>5}{'':>6}{'':>7} |"
    for r in runtimes:
        head1 += f"{SHORT.get(r, r) + ' us':>17}"
        head2 += f"{'median':>9}{'p99':>8}"
    head1 += " |"
    head2 += " |"
    for r in peers:
        head1 += f"{SHORT.get(r, r) + '/ln':>11}"
        head2 += f"{'':>11}"
    head1 += f"{'ln/floor':>10}"
    lines = [head1, head2, "-" * len(head1)]
    for c in cases:
        lat = c["latency"]
        row = f"{c['cell']:<8}{c['input_size']:>5}{c['hidden_size']:>6}{c['weight_bytes'] // 1024:>7} |"
        for r in runtimes:
            row += median_p99_cells(lat.get(r))
        row += " |"
        ln = lat.get("lnfast", {}).get("median_us")
        for r in peers:
            row += f"{lat[r]['median_us'] / ln:>10.1f}x" if r in lat and ln else f"{'-':>11}"
        fl = lat.get("floor", {}).get("median_us")
        row += f"{ln / fl:>10.2f}" if ln and fl else f"{'-':>10}"
        lines.append(row)
    return "\n".join(lines)


def _call_overhead_line(call: Dict) -> str:
    line = (f"Python call overhead, LN-LSTM H={call['hidden_size']}, step(x, out): "
            f"{call['lnfast_ns_per_step']:.0f} ns per step")
    if "torch_ns_per_step" in call:
        line += (f" (torch eager: {call['torch_ns_per_step'] / 1e3:.1f} us, loops of "
                 f"{call['torch_calls_per_loop']})")
    return line + (f"; median of {call['loops']} loops of {call['calls_per_loop']} calls, "
                   f"loop iteration itself ~{call['empty_loop_ns_per_iteration']:.0f} ns")


def _allocations_line(alloc: Dict) -> str:
    a, b = alloc["out_given"], alloc["out_none"]
    return (f"Allocations over {alloc['steps']} steps, net of an empty loop: out= "
            f"{a['allocated_blocks_delta']} blocks, {a['traced_peak_growth_bytes']} B traced peak; "
            f"out=None (for contrast) {b['allocated_blocks_delta']} blocks, "
            f"{b['traced_peak_growth_bytes']} B traced peak")


def _run_vs_step_lines(rvs: Dict) -> List[str]:
    return [f"run(X) vs step, {r['cell']} I=H={h}, T={r['T']}: run {r['run_us_per_step']:.2f} "
            f"us/step, step-by-step {r['step_us_per_step']:.2f} us/step ({r['step_over_run']:.2f}x)"
            for h, r in rvs.items()]


def _cold_lines(cold: Dict) -> List[str]:
    lines = [f"Cold caches ({cold['evict_mib']} MiB evicted before each step; "
             f"median / lower quartile, us):"]
    for h, r in cold["sizes"].items():
        med, p25 = r["median_us"], r["p25_us"]
        parts = ", ".join(f"{SHORT.get(n, n)} {fmt_us(v)} / {fmt_us(p25[n])}" for n, v in med.items())
        ratios = []
        if med.get("floor"):
            ratios.append(f"ln/floor {med['lnfast'] / med['floor']:.2f} / {p25['lnfast'] / p25['floor']:.2f}")
        if "torch" in med:
            ratios.append(f"torch/ln {med['torch'] / med['lnfast']:.1f}x / {p25['torch'] / p25['lnfast']:.1f}x")
        lines.append(f"  {r['cell']} I=H={h} ({r['weight_bytes'] // 1024} KiB, {r['samples']} samples): "
                     f"{parts}; {'; '.join(ratios)}")
    return lines


def extras_report(extras: Dict) -> str:
    lines = []
    if extras.get("call_overhead"):
        lines.append(_call_overhead_line(extras["call_overhead"]))
    if extras.get("allocations"):
        lines.append(_allocations_line(extras["allocations"]))
    if extras.get("run_vs_step"):
        lines += _run_vs_step_lines(extras["run_vs_step"])
    if extras.get("cold_cache"):
        lines += _cold_lines(extras["cold_cache"])
    return "\n".join(lines)
