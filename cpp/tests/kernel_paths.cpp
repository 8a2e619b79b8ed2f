#include "kernel_paths.hpp"

#include <cstdlib>

namespace lnfast_test {

using lnfast::Isa;
using lnfast::KernelTable;

std::string path_name(const KernelTable& k) {
  std::string name = lnfast::isa_name(k.isa);
  if (k.i8_quads_along_k) name += "+" + dot_name(k.isa, lnfast::WeightFormat::I8);
  if (k.bf16_pairs_along_k) name += "+" + dot_name(k.isa, lnfast::WeightFormat::BF16);
  if (k.i8_act8_u8_quads) name += "+vpdpbusd";
  return name;
}

std::string dot_name(Isa isa, lnfast::WeightFormat format) {
  if (format == lnfast::WeightFormat::I8) return "sdot";
  return isa == Isa::Neon ? "bfdot" : "vdpbf16ps";
}

std::vector<KernelPath> kernel_paths() {
  std::vector<const KernelTable*> tables;
  for (Isa isa : lnfast::supported_isas()) {
    const KernelTable& best = lnfast::kernels_for(isa);
    switch (isa) {
#if LNFAST_X86_KERNELS
      case Isa::Avx512:
        tables.push_back(&lnfast::avx512_kernels());
        // The best table carries every dot product this CPU has (vdpbf16ps,
        // vpdpbusd); the plain one tests the widening paths on it.
        if (best.bf16_pairs_along_k || best.i8_act8_u8_quads) tables.push_back(&best);
        break;
#endif
#if LNFAST_ARM_KERNELS
      case Isa::Neon:
        for (bool sdot : {false, true})
          for (bool bfdot : {false, true})
            if ((!sdot || best.i8_quads_along_k) && (!bfdot || best.bf16_pairs_along_k))
              tables.push_back(&lnfast::neon_kernels(sdot, bfdot));
        break;
#endif
      default:
        tables.push_back(&best);
    }
  }
  std::vector<KernelPath> out;
  for (const KernelTable* k : tables) out.push_back({path_name(*k), k});
  return out;
}

ScopedEnv::ScopedEnv(const char* name, const char* value) : name_(name) {
  const char* old = std::getenv(name);
  had_old_ = old != nullptr;
  if (had_old_) old_ = old;
  if (value)
    setenv(name, value, 1);
  else
    unsetenv(name);
}

ScopedEnv::~ScopedEnv() {
  if (had_old_)
    setenv(name_.c_str(), old_.c_str(), 1);
  else
    unsetenv(name_.c_str());
}

}  // namespace lnfast_test
