// AVX-512F: 16 floats per register, tails through lane masks. Compiled with
// -mavx512f -mfma (this file only); reached only after the run-time check
// in isa_detect.cpp.
#include <immintrin.h>

#include <vector>

#include "kernels/cache_size.hpp"
#include "kernels/dot_inputs.hpp"
#include "kernels/kernel_table.hpp"

namespace lnfast {
namespace {

struct V {
  using reg = __m512;
  static constexpr int kRegisters = 32;
  static constexpr int W = 16;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg set1(float f) { return _mm512_set1_ps(f); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, reg r) { _mm512_storeu_ps(p, r); }
  static __mmask16 tail_mask(int n) {
    return static_cast<__mmask16>((1u << n) - 1u);
  }
  static reg load_tail(const float* p, int n) {
    return _mm512_maskz_loadu_ps(tail_mask(n), p);
  }
  static void store_tail(float* p, reg r, int n) {
    _mm512_mask_storeu_ps(p, tail_mask(n), r);
  }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  static reg div(reg a, reg b) { return _mm512_div_ps(a, b); }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  static reg min(reg a, reg b) { return _mm512_min_ps(a, b); }
  static float reduce_add(reg a) { return _mm512_reduce_add_ps(a); }
  static reg blend_if_abs_below(reg x, reg t, reg a, reg b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(_mm512_abs_ps(x), t, _CMP_LT_OQ), b, a);
  }
  static reg load_bf16(const unsigned short* p) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static reg load_i8(const signed char* p) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q));
  }
  static void load_bf16_pair(const unsigned short* p, reg& lo, reg& hi) {
    const __m512i v = _mm512_loadu_si512(p);
    lo = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
    hi = _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(-65536)));
  }
  static reg round_nearest(reg a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  static reg pow2i(reg n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n),
                                       _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
};

#include "kernels/kernels_generic.inl"

}  // namespace

const KernelTable& avx512_kernels() {
  static constexpr KernelTable table = make_table(Isa::Avx512);
  return table;
}

}  // namespace lnfast
