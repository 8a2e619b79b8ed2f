// Every kernel table this CPU can run: each supported instruction set, and
// on sets with dot-product GEMMs each combination of them on and off, so
// the widening paths are tested on machines that would never choose them.
#pragma once

#include <string>
#include <vector>

#include "kernels/kernel_table.hpp"
#include "lnfast/spec.hpp"

namespace lnfast_test {

struct KernelPath {
  std::string name;  // e.g. "neon", "neon+sdot+bfdot", "avx512+vdpbf16ps"
  const lnfast::KernelTable* kernels;
};

// The table's name: its instruction set and the dot products it uses.
std::string path_name(const lnfast::KernelTable& k);
// The name of the dot-product instruction for a reduced weight format.
std::string dot_name(lnfast::Isa isa, lnfast::WeightFormat format);
std::vector<KernelPath> kernel_paths();

// Sets (or with value null, clears) an environment variable for the
// duration of a scope, restoring the previous value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_, old_;
  bool had_old_;
};

}  // namespace lnfast_test
