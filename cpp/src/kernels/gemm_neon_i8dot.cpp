// int8 weights through SDOT (ARMv8.2 dot product, FEAT_DotProd), for CPUs
// that have it. SDOT multiplies int8 by int8, but lnfast promises float32
// activations with int8 weights (the error is the weights' rounding alone).
// So each activation becomes a 16-bit integer split into two int8 digits
// (see int8_input_digits): two SDOTs per 16 weights, exact integer sums,
// and an activation rounding 256x below the weights' own. That keeps the
// x86 path's tolerances; only the bytes and the instruction count change.
//
// Weights are packed in quads along k (see pack_matrix; i8_quads_along_k).
// Compiled with +dotprod (this file only); installed in isa_detect.cpp only
// when the OS reports the instructions.
#include <arm_neon.h>

#include <type_traits>
#include <vector>

#include "kernels/cache_size.hpp"
#include "kernels/dot_inputs.hpp"
#include "kernels/neon_dot.hpp"

namespace lnfast {
namespace {

struct Digits {
  int8x16_t hi, lo;
};
struct DigitSums {
  int32x4_t hi, lo;
};

struct D {
  static constexpr int W = 4;
  static constexpr int kGroup = 4;
  static constexpr int kXWords = 2;
  // Two accumulators per output: 4 panels x 2 inputs x 2 fill 16 registers.
  static constexpr int kBatchTile = 2;
  using T = signed char;
  using XWord = int;
  using WReg = int8x16_t;
  using XReg = Digits;
  using Acc = DigitSums;
  static WReg load_w(const T* p) { return vld1q_s8(p); }
  static XReg load_x(const XWord* p) {
    return {vreinterpretq_s8_s32(vld1q_dup_s32(p)),
            vreinterpretq_s8_s32(vld1q_dup_s32(p + 1))};
  }
  static void dot(Acc& a, WReg w, XReg x) {
    a.hi = vdotq_s32(a.hi, w, x.hi);
    a.lo = vdotq_s32(a.lo, w, x.lo);
  }
  static Acc start(const float*, bool, int) { return {vdupq_n_s32(0), vdupq_n_s32(0)}; }
  // y (+)= row_scale * (256 hi + lo) / kDigitsFullScale * input_peak, in
  // an order whose intermediates are the size of the float path's.
  static void finish(const Acc& a, const float* row_scales, float input_peak,
                     float* y, bool accumulate) {
    const float32x4_t q = vfmaq_n_f32(vcvtq_f32_s32(a.lo), vcvtq_f32_s32(a.hi), 256.0f);
    const float32x4_t sum = vmulq_n_f32(vmulq_n_f32(q, 1.0f / kDigitsFullScale), input_peak);
    const float32x4_t scale = vld1q_f32(row_scales);
    vst1q_f32(y, accumulate ? vfmaq_f32(vld1q_f32(y), scale, sum) : vmulq_f32(scale, sum));
  }
};

#include "kernels/dot_gemm.inl"

// |weight| <= 127 and |digit| <= 128: an int32 sum stays exact over
// 2^31 / (127 * 128) > 2^17 columns, so wider rows go in slices of k.
constexpr int kExactQuads = 1 << 15;

}  // namespace

void gemm_i8_sdot(const signed char* packed, const float* row_scales, int rows,
                  int cols, const float* x, int ldx, int batch, float* y,
                  int ldy, bool accumulate) {
  const int quads = (cols + 3) / 4;
  thread_local std::vector<int> words;
  thread_local std::vector<float> peaks;
  int8_input_digits(x, ldx, batch, cols, quads, words, peaks);
  const DotInputs inputs{words.data(), 2 * quads, peaks.data(), nullptr};
  for (int q0 = 0; q0 < quads; q0 += kExactQuads)
    dot_gemm(packed, rows, quads, q0, quads - q0 < kExactQuads ? quads - q0 : kExactQuads,
             inputs, batch, row_scales, y, ldy, accumulate || q0 > 0);
}

}  // namespace lnfast
