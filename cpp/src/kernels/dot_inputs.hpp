// Inputs rearranged for the dot-product GEMMs, which multiply groups of
// weights along k by the same group of inputs: bf16 pairs (AVX512_BF16
// vdpbf16ps, ARM BFDOT) and int8 quads (ARM SDOT). Built with no ISA flags,
// one definition shared by every kernel file that needs it.
#pragma once

#include <vector>

namespace lnfast {

// Each of `batch` rows of x (ldx apart, `cols` used) as `pairs` 32-bit
// words of two bf16 (column 2kp in the low half); an odd last column is
// paired with 0. out gets batch * pairs words.
void bf16_input_pairs(const float* x, int ldx, int batch, int cols, int pairs,
                      std::vector<unsigned int>& out);

// int8 dot products with float32 accuracy on the activations: each row of
// x is scaled to 16-bit integers q = round(x * kDigitsFullScale / max|x|),
// |q| <= kDigitsFullScale, and q is split into two int8 digits, q = 256 hi
// + lo (hi in [-127, 127], lo in [-128, 127]). For input t,
// words[t * 2 * quads + 2 * kq] holds the hi digits of columns 4kq..4kq+3
// and the next word their lo digits (missing columns 0); peaks[t] =
// max|x|, so x ~ q * peaks[t] / kDigitsFullScale. Applying the peak last
// (never a scale peak / kDigitsFullScale, which is subnormal for inputs
// below ~1e-34) keeps every intermediate as large as the float path's.
// The rounding error is at most max|x| / 65024 per element, 256x below
// what int8 weights already cost (max|w| / 254). A row that is not finite
// gets peak NaN, so its outputs are NaN, as the float path would give.
constexpr float kDigitsFullScale = 32512.0f;  // 127 * 256: hi fits an int8
void int8_input_digits(const float* x, int ldx, int batch, int cols, int quads,
                       std::vector<int>& words, std::vector<float>& peaks);

// int8 activations (the int8-activations mode): each row of x gets one
// int8 per element, q = round(x * kInt8FullScale / max|x|), and its peak
// max|x| (NaN when the row is not finite, 0 for a zero row), so x ~ q *
// peak / kInt8FullScale. The rounding error is at most max|x| / 254.
// For peaks >= kInt8FloatPeak q is nearbyintf(x * (kInt8FullScale / peak))
// in float (a vector quantizer may take over those rows and must round
// the same); below it, in double, where the factor would overflow a float.
constexpr float kInt8FullScale = 127.0f;
constexpr float kInt8FloatPeak = 1e-30f;
float int8_quantize_row(const float* x, int cols, signed char* q);

// For vpdpbusd (u8 weights w + 128 by s8 inputs): words[t * quads + kq]
// holds q of columns 4kq..4kq+3 (missing columns 0), peaks[t] as above,
// and offsets[s * batch + t] = -128 * (sum of q over slice s, quads
// [s * slice_quads, (s + 1) * slice_quads)), the starting value of that
// slice's sum that takes the weights' +128 back out (int32 arithmetic
// wraps, so only each slice's final sum must fit).
void int8_input_quads(const float* x, int ldx, int batch, int cols, int quads,
                      int slice_quads, std::vector<int>& words,
                      std::vector<float>& peaks, std::vector<int>& offsets);

// The same inputs as floats on their grid, q * peak / kInt8FullScale
// (batch rows of `cols`), for the paths without integer dot products.
void int8_inputs_rounded(const float* x, int ldx, int batch, int cols,
                         std::vector<float>& out);

}  // namespace lnfast
