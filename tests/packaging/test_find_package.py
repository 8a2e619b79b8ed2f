"""A C++ service uses the installed core: `cmake --install` to a prefix,
then a separate project finds it with find_package(lnfast), links
lnfast::core and steps a small LN-GRU."""
import pytest

import paths
from cmake_helpers import configure_and_build, needs_cmake, run

CONSUMER_CMAKE = """\
cmake_minimum_required(VERSION 3.18)
project(lnfast_consumer LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(lnfast 0.1 CONFIG REQUIRED)
add_executable(consumer consumer.cpp)
target_link_libraries(consumer PRIVATE lnfast::core)
"""

# Zero weights and biases: every gate is 1/2 and the candidate 0, so each
# step halves h; from h0 = 0 it stays exactly 0, whatever the ISA.
CONSUMER_CPP = """\
#include <cstdio>
#include <memory>
#include <vector>

#include "lnfast/model.hpp"

int main() {
  const int I = 3, H = 4;
  lnfast::LayerSpec spec;
  spec.type = lnfast::CellType::GRU;
  spec.input_size = I;
  spec.hidden_size = H;
  spec.w_ih.assign(3 * H * I, 0.0f);
  spec.w_hh.assign(3 * H * H, 0.0f);
  auto model = std::make_shared<const lnfast::Model>(
      std::vector<lnfast::LayerSpec>{spec}, lnfast::default_isa());
  lnfast::Stream stream(model);
  std::vector<float> x(I, 1.0f), h(H, -1.0f);
  for (int t = 0; t < 5; ++t) stream.step(x.data(), h.data());
  for (float v : h)
    if (v != 0.0f) return 1;
  std::printf("stepped on %s\\n", lnfast::isa_name(model->isa()));
  return 0;
}
"""


@pytest.mark.slow
@needs_cmake
def test_installed_core_is_found_and_links(tmp_path):
    prefix = tmp_path / "prefix"
    configure_and_build(paths.ROOT, tmp_path / "core", f"-DCMAKE_INSTALL_PREFIX={prefix}",
                        targets=["lnfast_core"])
    run(["cmake", "--install", tmp_path / "core"])
    assert (prefix / "include" / "lnfast" / "model.hpp").is_file()

    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "CMakeLists.txt").write_text(CONSUMER_CMAKE)
    (consumer / "consumer.cpp").write_text(CONSUMER_CPP)
    configure_and_build(consumer, tmp_path / "consumer-build", f"-DCMAKE_PREFIX_PATH={prefix}")
    proc = run([tmp_path / "consumer-build" / "consumer"])
    assert proc.stdout.startswith("stepped on ")
