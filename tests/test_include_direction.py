"""The C++ include graph points one way: no folder includes a folder above it.

The order is the one CMakeLists.txt states, bottom first. Public headers
(cpp/include/lnfast/) sit on the floor of what they declare.
"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CPP = ROOT / "cpp"
FLOORS = ["kernels", "packing", "parallel", "cells", "model", "model_file", "services", "testing", "bindings"]
PUBLIC_HEADER_FLOORS = {
    "lnfast/isa.hpp": "kernels",
    "lnfast/spec.hpp": "kernels",  # plain data, no code: usable from every floor
    "lnfast/threads.hpp": "parallel",
    "lnfast/model.hpp": "model",
    "lnfast/hash64.hpp": "packing",
    "lnfast/memory.hpp": "packing",
    "lnfast/fingerprint.hpp": "model",
    "lnfast/state_blob.hpp": "model",
    "lnfast/model_file.hpp": "model_file",
    "lnfast/batcher.hpp": "services",
}
QUOTED_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
PYTHON_INCLUDE = re.compile(r'^\s*#\s*include\s+[<"](pybind11/|Python\.h)', re.MULTILINE)


def floor_of_include(name: str, includer_floor: str) -> str:
    if "/" not in name:  # a file of the includer's own folder
        return includer_floor
    if name.startswith("lnfast/"):
        assert name in PUBLIC_HEADER_FLOORS, f"public header {name} has no floor in this test"
        return PUBLIC_HEADER_FLOORS[name]
    top = name.split("/", 1)[0]
    assert top in FLOORS, f"include {name!r} names no known folder"
    return top


def floor_of_file(path: Path) -> str:
    rel = path.relative_to(CPP)
    if rel.parts[0] in ("bindings", "tests"):  # the C++ tests sit on top, like the bindings
        return "bindings"
    if rel.parts[0] == "include":
        return floor_of_include("/".join(rel.parts[1:]), "")
    assert rel.parts[0] == "src" and rel.parts[1] in FLOORS, f"{rel} is in no known folder"
    return rel.parts[1]


def cpp_files():
    return sorted(p for p in CPP.rglob("*") if p.suffix in {".hpp", ".cpp", ".inl", ".h"})


def test_the_order_is_the_one_cmakelists_states():
    assert " <- ".join(FLOORS) in (ROOT / "CMakeLists.txt").read_text()


def test_there_are_files_to_check():
    floors = {floor_of_file(p) for p in cpp_files()}
    assert floors == set(FLOORS)


@pytest.mark.parametrize("path", cpp_files(), ids=lambda p: str(p.relative_to(CPP)))
def test_no_include_points_up(path):
    floor = floor_of_file(path)
    own = FLOORS.index(floor)
    upward = [name for name in QUOTED_INCLUDE.findall(path.read_text())
              if FLOORS.index(floor_of_include(name, floor)) > own]
    assert not upward, f"{path.relative_to(CPP)} ({FLOORS[own]}) includes {upward} from above"


@pytest.mark.parametrize("path", [p for p in cpp_files() if floor_of_file(p) != "bindings"],
                         ids=lambda p: str(p.relative_to(CPP)))
def test_the_core_includes_no_python(path):
    assert not PYTHON_INCLUDE.search(path.read_text())


def test_the_example_uses_the_public_api_only():
    for path in (ROOT / "examples" / "cpp").glob("*.cpp"):
        for name in QUOTED_INCLUDE.findall(path.read_text()):
            assert name in PUBLIC_HEADER_FLOORS, f"{path.name} includes internal {name}"
