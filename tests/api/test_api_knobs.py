"""set_num_threads is capped at the CPUs this process may use; a bad
LNFAST_ISA names the variable."""
import os
import subprocess
import sys

import pytest

import lnfast


def test_more_threads_than_cpus_is_refused_naming_the_limit():
    limit = lnfast.available_cpus()
    assert limit >= 1
    if hasattr(os, "sched_getaffinity"):
        assert limit == len(os.sched_getaffinity(0))
    before = lnfast.get_num_threads()
    with pytest.raises(ValueError) as info:
        lnfast.set_num_threads(10000)
    assert f"at most {limit} threads" in str(info.value)
    assert lnfast.get_num_threads() == before
    lnfast.set_num_threads(limit)  # the limit itself is allowed
    try:
        assert lnfast.get_num_threads() == limit
    finally:
        lnfast.set_num_threads(before)


def test_bogus_isa_environment_variable_is_named():
    env = dict(os.environ, LNFAST_ISA="bogus")
    proc = subprocess.run([sys.executable, "-c", "import lnfast; lnfast.isa()"],
                          env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ValueError: LNFAST_ISA='bogus' is not an instruction set")
    for name in lnfast.supported_isas():
        assert name in last
