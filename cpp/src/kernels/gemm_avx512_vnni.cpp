// int8 weights by int8 activations through AVX512_VNNI (vpdpbusd), for
// CPUs that have it. One instruction multiplies 64 weight bytes by a
// broadcast quad of input bytes and adds each four products into 16 int32
// sums: no widening, so a step runs at the speed of reading a quarter of
// fp32's bytes. The price is that the activations are rounded to int8 too
// (see int8_input_quads), which is what the mode asks for.
//
// vpdpbusd multiplies unsigned by signed bytes, so the weights are stored
// as u8 = w + 128 (pack_matrix; i8_act8_u8_quads) and the inputs stay s8;
// each sum starts from -128 * sum_k q[k] (one int per input), which takes
// the +128 back out exactly. Quads along k as for SDOT. Compiled with
// -mavx512f -mavx512vnni (this file only); installed in isa_detect.cpp only
// when CPUID says AVX512_VNNI.
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
  static constexpr int kGroup = 4;
  static constexpr int kXWords = 1;
  static constexpr int kBatchTile = 4;
  using T = signed char;
  using XWord = int;
  using WReg = __m512i;
  using XReg = __m512i;
  using Acc = __m512i;
  static WReg load_w(const T* p) { return _mm512_loadu_si512(p); }
  static XReg load_x(const XWord* p) { return _mm512_set1_epi32(*p); }
  // In asm with the sum tied in place: GCC 12 compiles the intrinsic in a
  // 4 x 4 tile with a register copy per product and two spilled sums,
  // which held step_many's GEMM to ~70% of vpdpbusd's peak (85% this way).
  static void dot(Acc& a, WReg w, XReg x) {
    asm("vpdpbusd %[x], %[w], %[a]" : [a] "+v"(a) : [w] "v"(w), [x] "v"(x));
  }
  static Acc start(const float*, bool, int input_offset) {
    return _mm512_set1_epi32(input_offset);
  }
  // y (+)= row_scale * (sum / 127 * input_peak): the order of the
  // widening path's rounded inputs, q / 127 * peak.
  static void finish(const Acc& a, const float* row_scales, float input_peak,
                     float* y, bool accumulate) {
    const __m512 sum = _mm512_mul_ps(
        _mm512_mul_ps(_mm512_cvtepi32_ps(a), _mm512_set1_ps(1.0f / kInt8FullScale)),
        _mm512_set1_ps(input_peak));
    const __m512 scale = _mm512_loadu_ps(row_scales);
    _mm512_storeu_ps(y, accumulate ? _mm512_fmadd_ps(scale, sum, _mm512_loadu_ps(y))
                                   : _mm512_mul_ps(scale, sum));
  }
};

#include "kernels/dot_gemm.inl"

// int8_input_quads for one slice of k, 16 inputs per instruction: a step
// quantizes every GEMM input, and at H = 256 the int8 bytes take only ~5 us
// to read. Rows that are not finite or have a tiny peak go to the scalar
// code, which defines q.
void quantize_inputs(const float* x, int ldx, int batch, int cols, int quads,
                     std::vector<int>& words, std::vector<float>& peaks,
                     std::vector<int>& offsets) {
  words.resize(static_cast<size_t>(batch) * quads);
  peaks.resize(batch);
  offsets.resize(batch);
  const __m512 largest = _mm512_set1_ps(3.4028235e38f);
  for (int t = 0; t < batch; ++t) {
    const float* xt = x + static_cast<long>(t) * ldx;
    signed char* q = reinterpret_cast<signed char*>(words.data() + static_cast<size_t>(t) * quads);
    __m512 peak = _mm512_setzero_ps();
    __mmask16 bad = 0;
    for (int k = 0; k < cols; k += 16) {
      const __mmask16 m = cols - k >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (cols - k)) - 1);
      const __m512 a = _mm512_abs_ps(_mm512_maskz_loadu_ps(m, xt + k));
      bad |= static_cast<__mmask16>(~_mm512_cmp_ps_mask(a, largest, _CMP_LE_OQ));
      peak = _mm512_max_ps(peak, a);
    }
    const float p = _mm512_reduce_max_ps(peak);
    if (bad || !(p >= kInt8FloatPeak)) {
      std::fill(q, q + 4L * quads, static_cast<signed char>(0));
      peaks[t] = int8_quantize_row(xt, cols, q);
      int sum = 0;
      for (int k = 0; k < cols; ++k) sum += q[k];
      offsets[t] = -128 * sum;  // |sum| <= 127 * cols: no overflow below kExactQuads
      continue;
    }
    const __m512 inverse = _mm512_set1_ps(kInt8FullScale / p);
    __m512i sum = _mm512_setzero_si512();
    for (int k = 0; k < 4 * quads; k += 16) {
      const int left = cols - k;
      const __mmask16 m = left >= 16 ? 0xFFFF
                          : left > 0 ? static_cast<__mmask16>((1u << left) - 1) : 0;
      // cvtps rounds to nearest even (the default MXCSR), as nearbyintf.
      const __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, xt + k), inverse));
      sum = _mm512_add_epi32(sum, v);
      const __mmask16 stored = 4 * quads - k >= 16 ? 0xFFFF
                               : static_cast<__mmask16>((1u << (4 * quads - k)) - 1);
      _mm512_mask_cvtepi32_storeu_epi8(q + k, stored, v);
    }
    peaks[t] = p;
    offsets[t] = -128 * _mm512_reduce_add_epi32(sum);
  }
}

// |w| <= 127 and |q| <= 127: a slice's true sum fits int32 over
// 2^31 / 127^2 > 2^17 columns (the wrapped intermediates do not matter).
constexpr int kExactQuads = 1 << 15;

void gemm_i8_act8_vnni(const signed char* packed, const float* row_scales, int rows,
                       int cols, const float* x, int ldx, int batch, float* y,
                       int ldy, bool accumulate) {
  const int quads = (cols + 3) / 4;
  thread_local std::vector<int> words, offsets;
  thread_local std::vector<float> peaks;
  if (quads <= kExactQuads)
    quantize_inputs(x, ldx, batch, cols, quads, words, peaks, offsets);
  else
    int8_input_quads(x, ldx, batch, cols, quads, kExactQuads, words, peaks, offsets);
  for (int q0 = 0, s = 0; q0 < quads; q0 += kExactQuads, ++s) {
    const DotInputs inputs{words.data(), quads, peaks.data(),
                           offsets.data() + static_cast<long>(s) * batch};
    dot_gemm(packed, rows, quads, q0, quads - q0 < kExactQuads ? quads - q0 : kExactQuads,
             inputs, batch, row_scales, y, ldy, accumulate || q0 > 0);
  }
}

}  // namespace

KernelTable with_avx512_vnni(const KernelTable& base) {
  KernelTable t = base;
  t.gemm_i8_act8 = gemm_i8_act8_vnni;
  t.i8_act8_u8_quads = true;
  t.i8_dot_peak = dot_peak<>;
  return t;
}

}  // namespace lnfast
