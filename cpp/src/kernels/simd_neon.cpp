// AArch64 Advanced SIMD (NEON): 4 floats per register, 32 registers. NEON
// is part of the AArch64 base architecture, so this file needs no extra
// flags; the ARMv8.2+ dot products live in their own files
// (gemm_neon_i8dot.cpp, gemm_neon_bf16dot.cpp), built with their flags and
// chosen at run time in isa_detect.cpp.
#include <arm_neon.h>

#include <cstring>

#include <vector>

#include "kernels/cache_size.hpp"
#include "kernels/dot_inputs.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/neon_dot.hpp"

namespace lnfast {
namespace {

struct V {
  using reg = float32x4_t;
  static constexpr int kRegisters = 32;
  static constexpr int W = 4;
  static reg zero() { return vdupq_n_f32(0.0f); }
  static reg set1(float f) { return vdupq_n_f32(f); }
  static reg load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, reg r) { vst1q_f32(p, r); }
  // NEON has no masked loads: tails go through a zeroed stack copy, so no
  // byte past p[n - 1] is touched.
  static reg load_tail(const float* p, int n) {
    float lanes[W] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(lanes, p, sizeof(float) * n);
    return vld1q_f32(lanes);
  }
  static void store_tail(float* p, reg r, int n) {
    float lanes[W];
    vst1q_f32(lanes, r);
    std::memcpy(p, lanes, sizeof(float) * n);
  }
  static reg add(reg a, reg b) { return vaddq_f32(a, b); }
  static reg sub(reg a, reg b) { return vsubq_f32(a, b); }
  static reg mul(reg a, reg b) { return vmulq_f32(a, b); }
  static reg div(reg a, reg b) { return vdivq_f32(a, b); }
  static reg fma(reg a, reg b, reg c) { return vfmaq_f32(c, a, b); }
  // The "number" forms: like x86's max/min against a constant (and the
  // scalar path's comparisons), a NaN lane yields the other operand.
  static reg max(reg a, reg b) { return vmaxnmq_f32(a, b); }
  static reg min(reg a, reg b) { return vminnmq_f32(a, b); }
  static float reduce_add(reg a) { return vaddvq_f32(a); }
  static reg blend_if_abs_below(reg x, reg t, reg a, reg b) {
    return vbslq_f32(vcaltq_f32(x, t), a, b);
  }
  static reg load_bf16(const unsigned short* p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
  }
  static reg load_i8(const signed char* p) {
    // Exactly W bytes: the last panel of a matrix ends here.
    int word;
    std::memcpy(&word, p, sizeof word);
    const int16x8_t wide = vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(word)));
    return vcvtq_f32_s32(vmovl_s16(vget_low_s16(wide)));
  }
  static void load_bf16_pair(const unsigned short* p, reg& lo, reg& hi) {
    const uint32x4_t v = vreinterpretq_u32_u16(vld1q_u16(p));
    lo = vreinterpretq_f32_u32(vshlq_n_u32(v, 16));
    hi = vreinterpretq_f32_u32(vandq_u32(v, vdupq_n_u32(0xFFFF0000u)));
  }
  static reg round_nearest(reg a) { return vrndnq_f32(a); }
  static reg pow2i(reg n) {
    const int32x4_t e = vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }
};

#include "kernels/kernels_generic.inl"

constexpr KernelTable kNeon = make_table(Isa::Neon);

KernelTable with_dot_products(bool int8_sdot, bool bf16_bfdot) {
  KernelTable t = kNeon;
  if (int8_sdot) {
    t.gemm_i8 = gemm_i8_sdot;
    t.i8_quads_along_k = true;
  }
  if (bf16_bfdot) {
    t.gemm_bf16 = gemm_bf16_bfdot;
    t.bf16_pairs_along_k = true;
  }
  return t;
}

}  // namespace

const KernelTable& neon_kernels(bool int8_sdot, bool bf16_bfdot) {
  static const KernelTable tables[4] = {
      with_dot_products(false, false), with_dot_products(true, false),
      with_dot_products(false, true), with_dot_products(true, true)};
  return tables[(int8_sdot ? 1 : 0) + (bf16_bfdot ? 2 : 0)];
}

}  // namespace lnfast
