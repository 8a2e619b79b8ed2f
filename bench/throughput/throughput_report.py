"""The printed throughput section: one table per job (formats, peers against
bf16, step_many, threads)."""
from __future__ import annotations

from typing import Dict, List

from harness.console import median_p99_cells
from throughput.throughput_formats import FORMATS, floor_name


def formats_table(cases: List[Dict]) -> str:
    head = (f"{'cell':<8}{'H':>6} {'format':<7}{'KiB':>7} |{'step median':>12}{'p99':>5} |"
            f"{'floor median':>13}{'p99':>4} |{'/floor':>7}{'fp32/fmt':>9} |"
            f"{'max|dh| @1000':>14}{'any step':>10}{'one step':>10}")
    lines = [head, "-" * len(head)]
    for c in cases:
        lat, acc = c["latency"], c["accuracy"]
        for k, fmt in enumerate(FORMATS):
            lead = f"{c['cell']:<8}{c['hidden_size']:>6}" if k == 0 else f"{'':<14}"
            row = f"{lead} {fmt:<7}{c['weight_bytes'][fmt] >> 10:>7} |"
            row += median_p99_cells(lat.get(fmt)) + " |" + median_p99_cells(lat.get(floor_name(fmt))) + " |"
            over = c["ratios"].get(f"{fmt}/floor")
            row += f"{over:>7.2f}" if over else f"{'-':>7}"
            speed = 1.0 if fmt == "fp32" else c["ratios"].get(f"fp32/{fmt}")
            row += f"{speed:>8.2f}x |" if speed else f"{'-':>9} |"
            a = acc.get(fmt if fmt != "fp32" else "fp32_other_isa")
            if a:
                row += f"{a['max_abs_err_final']:>14.1e}{a['max_abs_err_any_step']:>10.1e}"
                row += (f"{a['max_abs_err_one_step']:>10.1e}" if fmt != "fp32"
                        else f"  (fp32 on {a['isa']} vs {a['vs_isa']})")
            else:
                row += f"{'(reference)':>14}"
            lines.append(row)
    return "\n".join(lines)


def _ratio_cells(ratios: Dict, keys) -> str:
    return "".join(f"{ratios[k]:>{w - 1}.2f}x" if k in ratios else f"{'-':>{w}}" for k, w in keys)


SHORT_PEER = {"onnxruntime": "ort", "torch": "torch", "openvino_f32": "ov32", "openvino_bf16": "ovbf16"}


def peers_table(cases: List[Dict]) -> str:
    """The peers against lnfast in each format; empty when no case had peers."""
    with_peers = [c for c in cases if c["peers"]]
    if not with_peers:
        return ""
    peers = [p for p in SHORT_PEER if any(p in c["latency"] for c in with_peers)]
    head = f"{'cell':<8}{'H':>6} |" + "".join(f"{SHORT_PEER[p] + ' us':>17}" for p in peers) + " |"
    ratio_keys = [(f"{p}/{f}", f"{SHORT_PEER[p]}/{f}") for p in peers
                  for f in ("fp32", "bf16", "int8", "int8a8")]
    head += "".join(f"{label:>{max(9, len(label) + 1)}}" for _, label in ratio_keys)
    sub = f"{'':<14} |" + f"{'median':>9}{'p99':>8}" * len(peers) + " |"
    lines = [head, sub, "-" * len(head)]
    for c in with_peers:
        lat, r = c["latency"], c["ratios"]
        row = f"{c['cell']:<8}{c['hidden_size']:>6} |" + "".join(median_p99_cells(lat.get(p)) for p in peers)
        row += " |" + _ratio_cells(r, [(key, max(9, len(label) + 1)) for key, label in ratio_keys])
        lines.append(row)
    return "\n".join(lines)


def step_many_table(cases: List[Dict]) -> str:
    """fp32 step_many against B single steps (the reduced modes have no singles column)."""
    head = (f"{'cell':<8}{'H':>6}{'B':>4} |{'step_many tick us':>17}{'singles tick us':>17} |"
            f"{'step_many/s':>12}{'singles/s':>11}{'ratio':>8} |{'GFLOP/s':>8}{'1 step/floor':>13}")
    sub = f"{'':<18} |" + f"{'median':>9}{'p99':>8}" * 2 + " |"
    lines = [head, sub, "-" * len(head)]
    for c in cases:
        if "singles" not in c["latency"]:
            continue
        lat, sps = c["latency"], c["steps_per_s"]
        lines.append(f"{c['cell']:<8}{c['hidden_size']:>6}{c['batch']:>4} |"
                     + median_p99_cells(lat["step_many"]) + median_p99_cells(lat["singles"]) + " |"
                     + f"{sps['step_many']:>12.0f}{sps['singles']:>11.0f}{c['ratio']:>7.2f}x |"
                     + f"{c['step_many_gflops']:>8.1f}{c['single_over_floor']:>13.2f}")
    return "\n".join(lines)


def step_many_peak_table(cases: List[Dict]) -> str:
    """Every mode's step_many against the peak of the instruction its GEMM runs on."""
    head = (f"{'cell':<8}{'mode':<7}{'H':>6}{'B':>4} |{'tick median':>12}{'p99':>8} |"
            f"{'GOP/s':>7} |{'peak of':>8}{'GOP/s':>7} |{'of peak':>8}")
    lines = [head, "-" * len(head)]
    for c in cases:
        lines.append(f"{c['cell']:<8}{c['mode']:<7}{c['hidden_size']:>6}{c['batch']:>4} |"
                     + median_p99_cells(c["latency"]["step_many"]) + " |"
                     + f"{c['step_many_gflops']:>7.0f} |{c['peak']:>8}{c['peak_gops']:>7.0f} |"
                     + f"{c['fraction_of_peak']:>7.0%}")
    return "\n".join(lines)


def threads_table(cases: List[Dict]) -> str:
    head = (f"{'cell':<8}{'H':>6}{'KiB':>7} |{'1 thread us':>17}{'2 threads us':>17} |"
            f"{'1/2':>7} |{'cores got':>10}{'':>6} | identical")
    sub = f"{'':<21} |" + f"{'median':>9}{'p99':>8}" * 2 + f" |{'':>7} |{'1 thr':>10}{'2 thr':>6} |"
    lines = [head, sub, "-" * len(head)]
    for c in cases:
        lat, cores = c["latency"], c["cores_used"]
        lines.append(f"{c['cell']:<8}{c['hidden_size']:>6}{c['weight_bytes'] >> 10:>7} |"
                     + median_p99_cells(lat["1_thread"]) + median_p99_cells(lat["2_threads"]) + " |"
                     + f"{c['ratio']:>6.2f}x |{cores['1_thread']:>10.2f}{cores['2_threads']:>6.2f} | "
                     + f"{'yes' if c['identical'] else 'NO'}"
                     + f" ({c['check_steps']} steps)")
    return "\n".join(lines)


def throughput_report(results: Dict) -> str:
    sections = []  # (title, table)
    if results.get("formats"):
        sections.append((
            "Weight formats, one thread, batch 1: per-step latency (us), each format against its own\n"
            "floor. max|dh| = max abs error of h vs the fp32 model on the same 1,000 random inputs\n"
            "from zero state: at step 1,000, at any step, and for one step taken from fp32's state.\n"
            "fp32 row: the fp32 model on another ISA (only the summation order differs); where that\n"
            "diverges too, the net is chaotic and only the one-step error is the format's own.",
            formats_table(results["formats"])))
        peers = peers_table(results["formats"])
        if peers:
            sections.append(("Peers (ONNX Runtime, PyTorch eager, OpenVINO f32/bf16) against lnfast's "
                             "formats (ratios of medians, peer / lnfast)", peers))
    if results.get("step_many"):
        sections.append(("step_many (fp32) vs B separate stream.step(x, out) calls; a tick advances all "
                         "B streams one step", step_many_table(results["step_many"])))
        sections.append(("step_many against the compute peak, both measured in the same run: "
                         "GOP/s = 2 ops per weight per stream per tick;\n"
                         "peak = a register-only loop of the instruction the mode's GEMM runs on "
                         "(fp32: FMA, bf16: vdpbf16ps, int8: vpdpbusd)",
                         step_many_peak_table(results["step_many"])))
    if results.get("threads"):
        sections.append(("Intra-step threads: stream.step(x, out) with set_num_threads(1) vs (2), "
                         "outputs checked bit-identical first;\n"
                         "cores got = process CPU time / wall time over the timed bursts",
                         threads_table(results["threads"])))
    return "\n\n".join(f"{title}\n{table}" for title, table in sections)
