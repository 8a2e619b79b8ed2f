// The run-time choice of instruction set. A CPUID feature bit is not enough:
// the OS must also save the wider registers on a context switch, which
// XGETBV reports (an OS without it would corrupt them silently).
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels/kernel_table.hpp"

#if LNFAST_X86_KERNELS
#include <cpuid.h>
#endif

namespace lnfast {
namespace {

#if LNFAST_X86_KERNELS
unsigned long long xgetbv0() {
  unsigned int eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

struct CpuFeatures {
  bool avx2_fma = false;
  bool avx512f = false;
  bool avx512_bf16 = false;
};

CpuFeatures detect() {
  CpuFeatures f;
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  const bool fma = c & (1u << 12);
  const bool avx = c & (1u << 28);
  if (!osxsave || !avx) return f;
  const unsigned long long xcr0 = xgetbv0();
  const bool ymm_saved = (xcr0 & 0x6) == 0x6;           // SSE + AVX state
  const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;         // + opmask, ZMM
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  const bool avx2 = b & (1u << 5);
  const bool avx512f = b & (1u << 16);
  f.avx2_fma = ymm_saved && avx2 && fma;
  f.avx512f = f.avx2_fma && zmm_saved && avx512f;
  if (f.avx512f && __get_cpuid_count(7, 1, &a, &b, &c, &d))
    f.avx512_bf16 = a & (1u << 5);
  return f;
}

const CpuFeatures& features() {
  static const CpuFeatures f = detect();
  return f;
}
#endif

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "unknown";
}

Isa parse_isa(const std::string& name) {
  if (name == "scalar") return Isa::Scalar;
  if (name == "avx2") return Isa::Avx2;
  if (name == "avx512") return Isa::Avx512;
  throw std::invalid_argument("unknown instruction set '" + name +
                              "': expected scalar, avx2 or avx512");
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
#if LNFAST_X86_KERNELS
    case Isa::Avx2: return features().avx2_fma;
    case Isa::Avx512: return features().avx512f;
#else
    default: return false;
#endif
  }
  return false;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    if (isa_supported(isa)) out.push_back(isa);
  return out;
}

Isa default_isa() {
  Isa best = supported_isas().back();
  const char* forced = std::getenv("LNFAST_ISA");
  if (forced == nullptr || *forced == '\0') return best;
  Isa wanted = parse_isa(forced);
  return static_cast<int>(wanted) < static_cast<int>(best) ? wanted : best;
}

const KernelTable& kernels_for(Isa isa) {
  if (!isa_supported(isa))
    throw std::invalid_argument(std::string("instruction set ") +
                                isa_name(isa) + " is not supported here");
  switch (isa) {
#if LNFAST_X86_KERNELS
    case Isa::Avx512: {
      // LNFAST_BF16_DOT=0 keeps bf16 weights on the widening path.
      const char* dot = std::getenv("LNFAST_BF16_DOT");
      const bool allowed = dot == nullptr || std::string(dot) != "0";
      return features().avx512_bf16 && allowed ? avx512_bf16dot_kernels()
                                               : avx512_kernels();
    }
    case Isa::Avx2: return avx2_kernels();
#endif
    default: return scalar_kernels();
  }
}

}  // namespace lnfast
