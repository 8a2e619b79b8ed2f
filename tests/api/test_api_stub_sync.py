"""python/lnfast/_core.pyi names exactly the compiled module's public names."""
import ast

import lnfast._core as core
from paths import ROOT

STUB = ROOT / "python" / "lnfast" / "_core.pyi"


def _public(names):
    return {n for n in names if not n.startswith("_")}


def _stub_tree():
    """{name: None for module-level values, or the set of member names for classes}."""
    tree = ast.parse(STUB.read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
            bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
            found[node.name] = (members, bases)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = None
    return found


def _class_members(stub, name):
    members, bases = stub[name]
    members = set(members)
    for base in bases:  # stub-only helper bases such as _Enum
        members |= _class_members(stub, base)
    return members


def test_every_public_name_has_a_stub_and_every_stub_a_name():
    stub = _stub_tree()
    assert _public(stub) == _public(dir(core))


def test_every_public_member_of_each_class_has_a_stub_and_back():
    stub = _stub_tree()
    for name in _public(dir(core)):
        value = getattr(core, name)
        if not isinstance(value, type):
            assert stub[name] is None, name
            continue
        compiled = _public(vars(value))
        # pybind11 enums list their values in vars(); the stub declares them
        # as ClassVars, so they are members on both sides.
        assert _public(_class_members(stub, name)) == compiled, name
