// bfloat16 weights through AVX512_BF16 dot products (vdpbf16ps), for CPUs
// that have them. Each instruction multiplies 16 pairs of bf16 weights by a
// pair of inputs and adds both products into 16 float sums, so the weights
// are never widened: a step runs at the speed of reading their bytes. The
// price is that the inputs are rounded to bf16 too (relative 2^-8).
//
// Weights are packed in pairs along k (see pack_matrix): in a block of n
// panels, the 32-bit word for panel j, lane l and column pair kp holds
// W[r][2kp] in its low half and W[r][2kp+1] in its high half, at word
// (kp*n + j)*16 + l. Compiled with -mavx512f -mavx512bf16 (this file only);
// chosen in isa_detect.cpp only when CPUID says AVX512_BF16.
#include <immintrin.h>

#include <type_traits>
#include <vector>

#include "kernels/cache_size.hpp"
#include "kernels/dot_inputs.hpp"
#include "kernels/kernel_table.hpp"

namespace lnfast {
namespace {

struct D {
  static constexpr int W = 16;
  static constexpr int kGroup = 2;
  static constexpr int kXWords = 1;
  static constexpr int kBatchTile = 4;
  // Float sums that start from y and are stored as they are.
  static constexpr bool kSumsInY = true;
  using T = unsigned short;
  using XWord = unsigned int;
  using WReg = __m512bh;
  using XReg = __m512bh;
  using Acc = __m512;
  static WReg load_w(const T* p) { return (__m512bh)_mm512_loadu_si512(p); }
  static XReg load_x(const XWord* p) {
    return (__m512bh)_mm512_set1_epi32(static_cast<int>(*p));
  }
  static void dot(Acc& a, WReg w, XReg x) { a = _mm512_dpbf16_ps(a, w, x); }
  static Acc start(const float* y, bool accumulate, int) {
    return accumulate ? _mm512_loadu_ps(y) : _mm512_setzero_ps();
  }
  static void finish(const Acc& a, const float*, float, float* y, bool) {
    _mm512_storeu_ps(y, a);
  }
};

#include "kernels/dot_gemm.inl"

// bf16_input_pairs 16 inputs at a time, with round_to_bf16's integer
// rounding (not vcvtne2ps2bf16, which flushes subnormal inputs to 0): a
// batched step pairs every GEMM input, and the scalar loop took ~5% of
// step_many at H = 256. The pairs are the bf16 values in input order.
void bf16_input_pairs_avx512(const float* x, int ldx, int batch, int cols, int pairs,
                             std::vector<unsigned int>& out) {
  out.resize(static_cast<size_t>(batch) * pairs);
  const __m512i half = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1);
  auto mask = [](int left) {
    return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
  };
  for (int t = 0; t < batch; ++t) {
    const float* xt = x + static_cast<long>(t) * ldx;
    unsigned short* row = reinterpret_cast<unsigned short*>(out.data() + static_cast<size_t>(t) * pairs);
    for (int k = 0; k < 2 * pairs; k += 16) {
      const __m512i bits = _mm512_castps_si512(_mm512_maskz_loadu_ps(mask(cols - k), xt + k));
      const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), one);
      const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(half, odd)), 16);
      _mm512_mask_cvtepi32_storeu_epi16(row + k, mask(2 * pairs - k), rounded);
    }
  }
}

}  // namespace

const KernelTable& avx512_bf16dot_kernels() {
  static const KernelTable table = [] {
    KernelTable t = avx512_kernels();
    t.gemm_bf16 = bf16_pairs_dot_gemm<unsigned int, bf16_input_pairs_avx512>;
    t.bf16_pairs_along_k = true;
    t.bf16_dot_peak = dot_peak<>;
    return t;
  }();
  return table;
}

}  // namespace lnfast
