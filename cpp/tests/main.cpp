// The C++ core's own tests: every kernel of every path this CPU has against
// a plain reference on odd sizes, every cell variant against float64 over
// 1,000 steps, the run-time choice of instruction set, and the batcher. Ends with one
// "N passed, M failed" line; the exit status is 0 only when none failed.
#include <chrono>
#include <cstdio>

#include "check.hpp"

int main() {
  using namespace lnfast_test;
  struct Suite {
    const char* name;
    void (*run)();
  };
  for (Suite s : {Suite{"run-time choice", test_isa_choice},
                  Suite{"elementwise kernels", test_elementwise_kernels},
                  Suite{"GEMMs", test_gemm_kernels}, Suite{"cells", test_cells},
                  Suite{"model files", test_model_files},
                  Suite{"batcher", test_batcher}, Suite{"hash64", test_hash64}}) {
    const auto t0 = std::chrono::steady_clock::now();
    s.run();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    std::printf("-- %s: %.1f s\n", s.name, took.count());
  }
  print_worst_errors();
  std::printf("%d passed, %d failed\n", passed_count(), failed_count());
  return failed_count() == 0 ? 0 : 1;
}
