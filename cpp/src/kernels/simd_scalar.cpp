// The portable path: one float per "register". Built with no ISA flags and
// no FP contraction, so it is plain IEEE arithmetic on any CPU.
#include <cmath>
#include <cstring>

#include <vector>

#include "kernels/cache_size.hpp"
#include "kernels/dot_inputs.hpp"
#include "kernels/kernel_table.hpp"

namespace lnfast {
namespace {

struct V {
  using reg = float;
  static constexpr int kRegisters = 32;
  static constexpr int W = 1;
  static reg zero() { return 0.0f; }
  static reg set1(float f) { return f; }
  static reg load(const float* p) { return *p; }
  static void store(float* p, reg r) { *p = r; }
  static reg load_tail(const float* p, int) { return *p; }
  static void store_tail(float* p, reg r, int) { *p = r; }
  static reg add(reg a, reg b) { return a + b; }
  static reg sub(reg a, reg b) { return a - b; }
  static reg mul(reg a, reg b) { return a * b; }
  static reg div(reg a, reg b) { return a / b; }
  static reg fma(reg a, reg b, reg c) { return a * b + c; }
  static reg max(reg a, reg b) { return a > b ? a : b; }
  static reg min(reg a, reg b) { return a < b ? a : b; }
  static float reduce_add(reg a) { return a; }
  static reg blend_if_abs_below(reg x, reg t, reg a, reg b) {
    return std::fabs(x) < t ? a : b;
  }
  static reg load_bf16(const unsigned short* p) {
    const unsigned int bits = static_cast<unsigned int>(*p) << 16;
    float out;
    std::memcpy(&out, &bits, sizeof out);
    return out;
  }
  static reg load_i8(const signed char* p) { return static_cast<float>(*p); }
  static void load_bf16_pair(const unsigned short* p, reg& lo, reg& hi) {
    lo = load_bf16(p);
    hi = load_bf16(p + 1);
  }
  static reg round_nearest(reg a) { return std::nearbyint(a); }
  static reg pow2i(reg n) {
    const int bits = (static_cast<int>(n) + 127) << 23;
    float out;
    std::memcpy(&out, &bits, sizeof out);
    return out;
  }
};

#include "kernels/kernels_generic.inl"

}  // namespace

const KernelTable& scalar_kernels() {
  static constexpr KernelTable table = make_table(Isa::Scalar);
  return table;
}

}  // namespace lnfast
