"""The C++ core, its example and its tests build with -Wall -Wextra and no
warning: -Werror turns any into a failure."""
import pytest

import paths
from cmake_helpers import configure_and_build, needs_cmake


@pytest.mark.slow
@needs_cmake
def test_core_example_and_tests_build_warning_free(tmp_path):
    configure_and_build(paths.ROOT, tmp_path / "build", "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror",
                        "-DLNFAST_BUILD_EXAMPLES=ON", "-DLNFAST_BUILD_TESTS=ON",
                        targets=["lnfast_core", "lnfast_stream_example", "lnfast_core_tests"])
