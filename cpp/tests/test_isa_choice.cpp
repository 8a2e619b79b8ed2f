// The run-time choice: LNFAST_ISA forces each supported set, an unknown
// name is a clear error, a set this CPU lacks is refused where asked for
// explicitly and falls back to the best where only the environment names
// it, and the dot-product switches switch. LNFAST_TEST_EXPECT_PATH (set
// by tools/test-aarch64 per emulated CPU) names the path that must be
// chosen, so a detection that misses a feature fails.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "cell_variants.hpp"
#include "check.hpp"
#include "kernel_paths.hpp"
#include "lnfast/model.hpp"

namespace lnfast_test {
namespace {

using lnfast::Isa;

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

void test_isa_choice() {
  const Isa best = [] {
    ScopedEnv clear("LNFAST_ISA", nullptr);
    return lnfast::default_isa();
  }();
  const std::string chosen = path_name(lnfast::kernels_for(best));
  std::printf("selected: %s (supported:", chosen.c_str());
  for (Isa isa : lnfast::supported_isas()) std::printf(" %s", lnfast::isa_name(isa));
  std::printf(")\n");
  if (const char* expected = std::getenv("LNFAST_TEST_EXPECT_PATH"))
    check(chosen == expected, "the chosen path is " + std::string(expected) + ", not " + chosen);

  check(lnfast::supported_isas().front() == Isa::Scalar, "scalar is always supported, lowest");
  std::mt19937 rng(1);
  const std::vector<lnfast::LayerSpec> layers = {make_layer("gru_per_gate", 5, 7, rng)};
  for (Isa isa : lnfast::supported_isas()) {
    ScopedEnv forced("LNFAST_ISA", lnfast::isa_name(isa));
    const lnfast::Model model(layers, lnfast::default_isa());
    check(lnfast::default_isa() == isa && model.isa() == isa,
          std::string("LNFAST_ISA=") + lnfast::isa_name(isa) + " runs " + lnfast::isa_name(isa));
  }
  {
    ScopedEnv forced("LNFAST_ISA", "sse9");
    // The message names the variable first, then what parse_isa says.
    const std::string message = error_of([] { lnfast::default_isa(); });
    check(message.find("LNFAST_ISA='sse9' is not an instruction set") == 0 &&
              message.find("unknown instruction set 'sse9'") != std::string::npos,
          "LNFAST_ISA=sse9 is a clear error naming the variable");
  }
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (lnfast::isa_supported(isa)) continue;
    const std::string name = lnfast::isa_name(isa);
    check(error_of([&] { lnfast::kernels_for(isa); }).find("not supported here") != std::string::npos,
          name + " is refused: this CPU lacks it");
    check(!error_of([&] { lnfast::Model(layers, isa); }).empty(), "a Model on " + name + " is refused");
    ScopedEnv forced("LNFAST_ISA", name.c_str());
    check(lnfast::default_isa() == best, "LNFAST_ISA=" + name + " falls back to the best set");
  }
  // The switches turn each dot-product path off (tests use them to reach
  // the widening paths on CPUs that would never choose those).
  const lnfast::KernelTable& k = lnfast::kernels_for(best);
  if (k.i8_quads_along_k) {
    ScopedEnv off("LNFAST_I8_DOT", "0");
    check(!lnfast::kernels_for(best).i8_quads_along_k, "LNFAST_I8_DOT=0 turns SDOT off");
  }
  if (k.i8_act8_u8_quads) {
    ScopedEnv off("LNFAST_I8_DOT", "0");
    check(!lnfast::kernels_for(best).i8_act8_u8_quads, "LNFAST_I8_DOT=0 turns vpdpbusd off");
  }
  if (k.bf16_pairs_along_k) {
    ScopedEnv off("LNFAST_BF16_DOT", "0");
    check(!lnfast::kernels_for(best).bf16_pairs_along_k, "LNFAST_BF16_DOT=0 turns bf16 dots off");
  }
  std::printf("kernel paths under test:");
  for (const KernelPath& p : kernel_paths()) std::printf(" %s", p.name.c_str());
  std::printf("\n");
}

}  // namespace lnfast_test
