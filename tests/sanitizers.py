"""What tests need to know when tools/test-sanitizers runs them."""
import os

import pytest

# Exported by tools/test-sanitizers, which preloads ASan into every Python.
UNDER_ASAN = bool(os.environ.get("LNFAST_UNDER_ASAN"))


def skip_address_limit_under_asan() -> None:
    """For tests whose child process sets RLIMIT_AS: ASan reserves terabytes
    of address space for its shadow memory at start-up, so under it such a
    child dies before it runs (docs/README.md, "Testing")."""
    if UNDER_ASAN:
        pytest.skip("sets RLIMIT_AS, which AddressSanitizer's shadow memory cannot live under")
