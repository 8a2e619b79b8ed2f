// The run-time choice of instruction set. On x86 a CPUID feature bit is not
// enough: the OS must also save the wider registers on a context switch,
// which XGETBV reports (an OS without it would corrupt them silently). On
// AArch64 the OS's own capability bits (getauxval on Linux, sysctl on
// macOS) say what user code may run, and the kernel saves what it reports.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels/kernel_table.hpp"

#if LNFAST_X86_KERNELS
#include <cpuid.h>
#endif
#if LNFAST_ARM_KERNELS && defined(__APPLE__)
#include <sys/sysctl.h>
#elif LNFAST_ARM_KERNELS && defined(__linux__)
#include <sys/auxv.h>
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
  bool avx512_vnni = false;
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
  f.avx512_vnni = f.avx512f && (c & (1u << 11));
  if (f.avx512f && __get_cpuid_count(7, 1, &a, &b, &c, &d))
    f.avx512_bf16 = a & (1u << 5);
  return f;
}

#elif LNFAST_ARM_KERNELS
struct CpuFeatures {
  bool neon = false;
  bool dotprod = false;  // SDOT/UDOT (FEAT_DotProd)
  bool bf16 = false;     // BFDOT/BFMMLA (FEAT_BF16)
};

#if defined(__APPLE__)
bool sysctl_flag(const char* name) {
  int value = 0;
  size_t size = sizeof value;
  return sysctlbyname(name, &value, &size, nullptr, 0) == 0 && value != 0;
}

CpuFeatures detect() {
  CpuFeatures f;
  f.neon = true;  // every Apple arm64 CPU
  f.dotprod = sysctl_flag("hw.optional.arm.FEAT_DotProd");
  f.bf16 = sysctl_flag("hw.optional.arm.FEAT_BF16");
  return f;
}
#elif defined(__linux__)
// From the kernel's asm/hwcap.h, spelled out for older C libraries.
constexpr unsigned long kHwcapAsimd = 1ul << 1;
constexpr unsigned long kHwcapAsimdDp = 1ul << 20;
constexpr unsigned long kHwcap2Bf16 = 1ul << 14;

CpuFeatures detect() {
  CpuFeatures f;
  const unsigned long hwcap = getauxval(AT_HWCAP);
  const unsigned long hwcap2 = getauxval(AT_HWCAP2);
  f.neon = hwcap & kHwcapAsimd;
  f.dotprod = f.neon && (hwcap & kHwcapAsimdDp);
  f.bf16 = f.neon && (hwcap2 & kHwcap2Bf16);
  return f;
}
#else
// Advanced SIMD is part of the AArch64 base; without a way to ask the OS,
// the optional dot products stay off.
CpuFeatures detect() {
  CpuFeatures f;
  f.neon = true;
  return f;
}
#endif
#endif

#if LNFAST_X86_KERNELS || LNFAST_ARM_KERNELS
const CpuFeatures& features() {
  static const CpuFeatures f = detect();
  return f;
}
#endif

// Every instruction set and its name, lowest first within each family.
struct IsaName {
  Isa isa;
  const char* name;
};
constexpr IsaName kIsas[] = {{Isa::Scalar, "scalar"},
                             {Isa::Avx2, "avx2"},
                             {Isa::Avx512, "avx512"},
                             {Isa::Neon, "neon"}};

// A dot-product path is on unless its variable is "0" (for comparisons
// and to rule it out when a result looks wrong).
bool dot_path_allowed(const char* variable) {
  const char* value = std::getenv(variable);
  return value == nullptr || std::string(value) != "0";
}

}  // namespace

const char* isa_name(Isa isa) {
  for (const IsaName& entry : kIsas)
    if (entry.isa == isa) return entry.name;
  return "unknown";
}

Isa parse_isa(const std::string& name) {
  std::string expected;
  for (const IsaName& entry : kIsas) {
    if (name == entry.name) return entry.isa;
    expected += (expected.empty() ? "" : ", ") + std::string(entry.name);
  }
  throw std::invalid_argument("unknown instruction set '" + name +
                              "': expected one of " + expected);
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
#if LNFAST_X86_KERNELS
    case Isa::Avx2: return features().avx2_fma;
    case Isa::Avx512: return features().avx512f;
#endif
#if LNFAST_ARM_KERNELS
    case Isa::Neon: return features().neon;
#endif
    default: return false;
  }
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (const IsaName& entry : kIsas)
    if (isa_supported(entry.isa)) out.push_back(entry.isa);
  return out;
}

Isa default_isa() {
  const Isa best = supported_isas().back();
  const char* forced = std::getenv("LNFAST_ISA");
  if (forced == nullptr || *forced == '\0') return best;
  Isa wanted;
  try {
    wanted = parse_isa(forced);
  } catch (const std::invalid_argument& e) {
    // The caller never named an ISA: point at the environment variable.
    throw std::invalid_argument("LNFAST_ISA='" + std::string(forced) +
                                "' is not an instruction set (" + e.what() +
                                "); unset it or set one of those");
  }
  return isa_supported(wanted) ? wanted : best;
}

const KernelTable& kernels_for(Isa isa) {
  if (!isa_supported(isa))
    throw std::invalid_argument(std::string("instruction set ") +
                                isa_name(isa) + " is not supported here");
  switch (isa) {
#if LNFAST_X86_KERNELS
    case Isa::Avx512: {
      // LNFAST_BF16_DOT=0 keeps bf16 weights on the widening path,
      // LNFAST_I8_DOT=0 int8 activations.
      const bool bf16 = features().avx512_bf16 && dot_path_allowed("LNFAST_BF16_DOT");
      const bool vnni = features().avx512_vnni && dot_path_allowed("LNFAST_I8_DOT");
      static const KernelTable with_vnni[2] = {with_avx512_vnni(avx512_kernels()),
                                               with_avx512_vnni(avx512_bf16dot_kernels())};
      if (vnni) return with_vnni[bf16 ? 1 : 0];
      return bf16 ? avx512_bf16dot_kernels() : avx512_kernels();
    }
    case Isa::Avx2: return avx2_kernels();
#endif
#if LNFAST_ARM_KERNELS
    case Isa::Neon:
      // LNFAST_I8_DOT=0 / LNFAST_BF16_DOT=0 keep the widening paths.
      return neon_kernels(features().dotprod && dot_path_allowed("LNFAST_I8_DOT"),
                          features().bf16 && dot_path_allowed("LNFAST_BF16_DOT"));
#endif
    default: return scalar_kernels();
  }
}

}  // namespace lnfast
