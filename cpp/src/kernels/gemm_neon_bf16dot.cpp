// bfloat16 weights through BFDOT (ARMv8.6 / FEAT_BF16), for CPUs that have
// it. Each instruction multiplies 4 rows' pairs of bf16 weights by one pair
// of inputs and adds both products into 4 float sums, so the weights are
// never widened. As with AVX512_BF16's vdpbf16ps, the inputs are rounded
// to bf16 too (relative 2^-8), the same promise and the same tolerances.
//
// Weights are packed in pairs along k (see pack_matrix; bf16_pairs_along_k).
// Compiled with +bf16 (this file only); installed in isa_detect.cpp only
// when the OS reports the instructions.
#include <arm_neon.h>

#include <type_traits>
#include <vector>

#include "kernels/cache_size.hpp"
#include "kernels/dot_inputs.hpp"
#include "kernels/neon_dot.hpp"

namespace lnfast {
namespace {

struct D {
  static constexpr int W = 4;
  static constexpr int kGroup = 2;
  static constexpr int kXWords = 1;
  static constexpr int kBatchTile = 4;
  // Float sums that start from y and are stored as they are.
  static constexpr bool kSumsInY = true;
  using T = unsigned short;
  using XWord = unsigned int;
  using WReg = bfloat16x8_t;
  using XReg = bfloat16x8_t;
  using Acc = float32x4_t;
  static WReg load_w(const T* p) { return vreinterpretq_bf16_u16(vld1q_u16(p)); }
  static XReg load_x(const XWord* p) { return vreinterpretq_bf16_u32(vld1q_dup_u32(p)); }
  static void dot(Acc& a, WReg w, XReg x) { a = vbfdotq_f32(a, w, x); }
  static Acc start(const float* y, bool accumulate, int) {
    return accumulate ? vld1q_f32(y) : vdupq_n_f32(0.0f);
  }
  static void finish(const Acc& a, const float*, float, float* y, bool) { vst1q_f32(y, a); }
};

#include "kernels/dot_gemm.inl"

}  // namespace

void gemm_bf16_bfdot(const unsigned short* packed, int rows, int cols,
                     const float* x, int ldx, int batch, float* y, int ldy,
                     bool accumulate) {
  bf16_pairs_dot_gemm(packed, rows, cols, x, ldx, batch, y, ldy, accumulate);
}

}  // namespace lnfast
