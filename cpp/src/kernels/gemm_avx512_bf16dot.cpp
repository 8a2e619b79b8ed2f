// bfloat16 weights through AVX512_BF16 dot products (vdpbf16ps), for CPUs
// that have them. Each instruction multiplies 16 pairs of bf16 weights by a
// pair of inputs and adds both products into 16 float sums, so the weights
// are never widened: a step runs at the speed of reading their bytes. The
// price is that the inputs are rounded to bf16 too (relative 2^-9).
//
// Weights are packed in pairs along k (see pack_matrix): in a block of n
// panels, the 32-bit word for panel j, lane l and column pair kp holds
// W[r][2kp] in its low half and W[r][2kp+1] in its high half, at word
// (kp*n + j)*16 + l. Compiled with -mavx512f -mavx512bf16 (this file only);
// chosen in isa_detect.cpp only when CPUID says AVX512_BF16.
#include <immintrin.h>

#include <vector>

#include "kernels/dot_inputs.hpp"
#include "kernels/kernel_table.hpp"

namespace lnfast {
namespace {

constexpr int W = 16;
constexpr int kBlockPanels = 8;

template <int NP, int NT>
void dot_block(const unsigned short* w, long pair_stride, int pairs,
               const unsigned int* xp, int ldxp, float* y, int ldy,
               bool accumulate) {
  __m512 acc[NP][NT];
  for (int j = 0; j < NP; ++j)
    for (int t = 0; t < NT; ++t)
      acc[j][t] = accumulate ? _mm512_loadu_ps(y + static_cast<long>(t) * ldy + j * W)
                             : _mm512_setzero_ps();
  for (int kp = 0; kp < pairs; ++kp) {
    const unsigned short* wk = w + kp * pair_stride;
    __m512bh wj[NP];
    for (int j = 0; j < NP; ++j)
      wj[j] = (__m512bh)_mm512_loadu_si512(wk + j * 2 * W);
    for (int t = 0; t < NT; ++t) {
      const __m512bh xt = (__m512bh)_mm512_set1_epi32(
          static_cast<int>(xp[static_cast<long>(t) * ldxp + kp]));
      for (int j = 0; j < NP; ++j) acc[j][t] = _mm512_dpbf16_ps(acc[j][t], wj[j], xt);
    }
  }
  for (int j = 0; j < NP; ++j)
    for (int t = 0; t < NT; ++t)
      _mm512_storeu_ps(y + static_cast<long>(t) * ldy + j * W, acc[j][t]);
}

// `count` (1-4) panels against NT inputs.
template <int NT>
void dot_panels(int count, const unsigned short* w, long stride, int pairs,
                const unsigned int* xp, float* y, int ldy, bool accumulate) {
  switch (count) {
    case 1: return dot_block<1, NT>(w, stride, pairs, xp, pairs, y, ldy, accumulate);
    case 2: return dot_block<2, NT>(w, stride, pairs, xp, pairs, y, ldy, accumulate);
    case 3: return dot_block<3, NT>(w, stride, pairs, xp, pairs, y, ldy, accumulate);
    default: return dot_block<4, NT>(w, stride, pairs, xp, pairs, y, ldy, accumulate);
  }
}

// One block of N panels: every panel at once for a single input, at most
// four at a time (with four inputs each) for several.
template <int N>
void dot_block_of(const unsigned short* w, int pairs, const unsigned int* xp,
                  int batch, float* y, int ldy, bool accumulate) {
  constexpr long stride = static_cast<long>(N) * 2 * W;
  if (batch == 1) return dot_block<N, 1>(w, stride, pairs, xp, pairs, y, ldy, accumulate);
  for (int j0 = 0; j0 < N; j0 += 4) {
    const int count = N - j0 < 4 ? N - j0 : 4;
    const unsigned short* wj = w + j0 * 2 * W;
    int t = 0;
    for (; t + 4 <= batch; t += 4)
      dot_panels<4>(count, wj, stride, pairs, xp + static_cast<long>(t) * pairs,
                    y + j0 * W + static_cast<long>(t) * ldy, ldy, accumulate);
    for (; t < batch; ++t)
      dot_panels<1>(count, wj, stride, pairs, xp + static_cast<long>(t) * pairs,
                    y + j0 * W + static_cast<long>(t) * ldy, ldy, accumulate);
  }
}

void gemm_bf16_dot(const unsigned short* packed, int rows, int cols,
                   const float* x, int ldx, int batch, float* y, int ldy,
                   bool accumulate) {
  const int pairs = (cols + 1) / 2;
  thread_local std::vector<unsigned int> xp;
  bf16_input_pairs(x, ldx, batch, cols, pairs, xp);
  const int panels = rows / W;
  for (int p = 0; p < panels; p += kBlockPanels) {
    const unsigned short* w = packed + static_cast<long>(p) * W * 2 * pairs;
    float* yb = y + p * W;
    switch (panels - p < kBlockPanels ? panels - p : kBlockPanels) {
      case 1: dot_block_of<1>(w, pairs, xp.data(), batch, yb, ldy, accumulate); break;
      case 2: dot_block_of<2>(w, pairs, xp.data(), batch, yb, ldy, accumulate); break;
      case 3: dot_block_of<3>(w, pairs, xp.data(), batch, yb, ldy, accumulate); break;
      case 4: dot_block_of<4>(w, pairs, xp.data(), batch, yb, ldy, accumulate); break;
      case 5: dot_block_of<5>(w, pairs, xp.data(), batch, yb, ldy, accumulate); break;
      case 6: dot_block_of<6>(w, pairs, xp.data(), batch, yb, ldy, accumulate); break;
      case 7: dot_block_of<7>(w, pairs, xp.data(), batch, yb, ldy, accumulate); break;
      default: dot_block_of<8>(w, pairs, xp.data(), batch, yb, ldy, accumulate); break;
    }
  }
}

}  // namespace

const KernelTable& avx512_bf16dot_kernels() {
  static const KernelTable table = [] {
    KernelTable t = avx512_kernels();
    t.gemm_bf16 = gemm_bf16_dot;
    t.bf16_pairs_along_k = true;
    return t;
  }();
  return table;
}

}  // namespace lnfast
