"""Every public class, function, method and property of lnfast has a docstring.

A constructor is documented by its class's docstring (what help() shows
first), so __init__ is not required to have its own.
"""
import inspect

import pytest

import lnfast


def _undocumented():
    missing = []
    for name in lnfast.__all__ + ["inspect"]:
        obj = getattr(lnfast, name)
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if not isinstance(obj, type):
            continue
        for attr in dir(obj):
            if attr.startswith("_"):
                continue
            member = inspect.getattr_static(obj, attr)
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            documented_kinds = (property, type(lnfast.Stream.step), type(lnfast.Stream.run))
            if not (inspect.isfunction(member) or isinstance(member, documented_kinds)
                    or type(member).__name__ == "instancemethod"):
                continue  # plain values: dataclass defaults, enum members, constants
            if not (getattr(member, "__doc__", None) or "").strip():
                missing.append(f"{name}.{attr}")
    return missing


def test_every_public_name_is_documented():
    assert _undocumented() == []


@pytest.mark.parametrize("words", ["float64", "copy", "C-contiguous", "out", "returns",
                                   "TypeError", "ValueError", "RuntimeError"])
def test_help_of_step_says_what_it_takes_costs_and_raises(words):
    assert words in lnfast.Stream.step.__doc__
