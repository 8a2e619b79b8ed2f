"""`from lnfast import *` gives the public API and shadows no standard module."""
import inspect as stdlib_inspect

import lnfast


def test_star_import_keeps_stdlib_inspect_and_exports_thread_knobs():
    names = {}
    exec("from lnfast import *", names)
    assert "inspect" not in names
    assert names["set_num_threads"] is lnfast.set_num_threads
    assert names["get_num_threads"] is lnfast.get_num_threads
    assert callable(lnfast.inspect) and lnfast.inspect is not stdlib_inspect


def test_every_exported_name_exists():
    for name in lnfast.__all__:
        assert hasattr(lnfast, name), name
