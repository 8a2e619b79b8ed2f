"""Picking the one network to load, or saying clearly why there is not one."""
from __future__ import annotations

from typing import Optional

from .between_layers import norm_between_layers
from .candidate import Candidate, candidate_table
from .find import LAYOUT_ALIASES, LAYOUT_NAMES, Findings
from .tensor_set import TensorSet

NAMES_SHOWN = 20


def normalize_prefix(prefix: Optional[str]) -> Optional[str]:
    """"model.rnn" and "model.rnn." both mean the module at model.rnn."""
    if prefix is None:
        return None
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, got {type(prefix).__name__}")
    stripped = prefix.strip(".")
    return stripped + "." if stripped else ""


def layout_names(layout: Optional[str]) -> Optional[tuple]:
    if layout is None:
        return None
    if layout in LAYOUT_NAMES:
        return (layout,)
    if layout in LAYOUT_ALIASES:
        return LAYOUT_ALIASES[layout]
    raise ValueError(f"unknown layout {layout!r}; known layouts: {', '.join(LAYOUT_NAMES)} "
                     f"(or {', '.join(LAYOUT_ALIASES)}), or an lnfast.Mapping for your own")


def _under(candidate: Candidate, prefix: str) -> bool:
    return candidate.prefix.startswith(prefix)


def choose(findings: Findings, tensors: TensorSet, layout: Optional[str] = None,
           prefix: Optional[str] = None) -> Candidate:
    names = layout_names(layout)
    prefix = normalize_prefix(prefix)
    found = findings.candidates
    if names is not None:
        found = [c for c in found if c.layout in names]
    if prefix is not None:
        wanted = [c for c in found if _under(c, prefix)]
        if not wanted:
            # A single layer of a stack, named by its own prefix.
            members = [m for c in found for m in c.members]
            wanted = [m for m in members if _under(m, prefix)]
        found = wanted
    between = norm_between_layers(tensors, found) if prefix is None else None
    if between:
        raise tensors.error(between)
    if len(found) == 1:
        return found[0]
    if not found:
        raise _nothing_found(findings, tensors, layout, prefix)
    example = f"prefix={found[0].prefix.rstrip('.')!r}"
    layouts = sorted({c.layout for c in found})
    if len(layouts) > 1:
        example += f" or layout={layouts[0]!r}"
    raise tensors.error(
        f"found {len(found)} recurrent networks; choose one with prefix= (its module prefix "
        f"below) or layout= (its layout):\n{candidate_table(found)}\n"
        f"for example lnfast.load(path, {example})")


def _nothing_found(findings: Findings, tensors: TensorSet, layout, prefix) -> Exception:
    if findings.candidates:
        asked = " and ".join(part for part in (
            f"layout={layout!r}" if layout is not None else "",
            f"prefix={prefix.rstrip('.')!r}" if prefix is not None else "") if part)
        return tensors.error(
            f"no recurrent network matches {asked}; the networks found are:\n"
            f"{candidate_table(findings.candidates)}")
    names = tensors.names()
    lines = [f"no recurrent network in a known layout ({', '.join(LAYOUT_NAMES)}) among its "
             f"{len(names)} tensors:", tensors.listing(names, NAMES_SHOWN)]
    if findings.near_misses:
        lines.append("close, but not a known layout:")
        lines += [f"  {miss}" for miss in findings.near_misses[:5]]
    lines.append("for your own module, say which tensor is which with "
                 "layout=lnfast.Mapping(...) (see help(lnfast.Mapping))")
    return tensors.error("\n".join(lines))

