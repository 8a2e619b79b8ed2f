// Every kernel, written once against a SIMD traits type `V`.
//
// Each ISA translation unit defines `V` (register type, width, loads,
// arithmetic) inside an anonymous namespace and then includes this file in
// that same namespace. The kernels are therefore distinct internal symbols
// per unit, compiled with that unit's flags: nothing inline is shared
// between units built with different instruction sets (no ODR hazard).
//
// V must provide: reg, W, zero(), set1(f), load(p), store(p, r),
// load_tail(p, n) (lanes >= n are 0), store_tail(p, r, n), add, sub, mul,
// div, fma(a, b, c) = a*b + c, max, min, reduce_add(r), round_nearest(r),
// pow2i(r) (r holds integers in [-126, 127]), blend_if_abs_below(x, t, a, b)
// (a where |x| < t, else b), load_bf16(p) and load_i8(p) (W stored weights
// widened to floats), load_bf16_pair(p, lo, hi) (2W interleaved bfloat16).

using reg = V::reg;
constexpr int W = V::W;

// Applies f lane-wise to n elements of the inputs, tail included.
template <class F, class... In>
inline void map_lanes(float* out, int n, F f, const In*... in) {
  int i = 0;
  for (; i + W <= n; i += W) V::store(out + i, f(V::load(in + i)...));
  if (i < n) V::store_tail(out + i, f(V::load_tail(in + i, n - i)...), n - i);
}

// ---------------------------------------------------------------- GEMM ---
// Weights come in blocks of up to kBlockPanels panels of W rows, stored
// k-major with the block's panels side by side (see pack_panels): a step
// reads the whole matrix as one sequential stream, and the block's eight
// panels are independent FMA chains, enough to hide the FMA latency. One template serves
// every weight format; a Loader turns W stored weights into W floats.

constexpr int kBlockPanels = 8;

struct LoadF32 {
  using T = float;
  static constexpr bool kScaled = false;
  template <int NP>
  static void panels(const T* wk, reg* out) {
    for (int j = 0; j < NP; ++j) out[j] = V::load(wk + j * W);
  }
};
// bfloat16 panels come in pairs interleaved by 16-bit halves (see
// pack_matrix): one load and two bit operations widen two panels, with no
// shuffles; an odd block's last panel is stored plainly.
struct LoadBF16 {
  using T = unsigned short;
  static constexpr bool kScaled = false;
  template <int NP>
  static void panels(const T* wk, reg* out) {
    for (int j = 0; j + 1 < NP; j += 2) V::load_bf16_pair(wk + j * W, out[j], out[j + 1]);
    if (NP % 2) out[NP - 1] = V::load_bf16(wk + (NP - 1) * W);
  }
};
struct LoadI8 {
  using T = signed char;
  // Sums start from 0 and are scaled per row into y at the end.
  static constexpr bool kScaled = true;
  template <int NP>
  static void panels(const T* wk, reg* out) {
    for (int j = 0; j < NP; ++j) out[j] = V::load_i8(wk + j * W);
  }
};

#include "kernels/slice_prefetch.inl"

// NP panels of a block (whose columns are kstride elements apart) against
// NT inputs: NP*NT independent FMA chains, each weight load serving NT.
template <class L, int NP, int NT>
inline void gemm_block(const typename L::T* w, long kstride, const float* scales,
                       int cols, const float* x, int ldx, float* y, int ldy,
                       bool accumulate, Prefetch ahead = {}) {
  reg acc[NP][NT];
  for (int j = 0; j < NP; ++j)
    for (int t = 0; t < NT; ++t)
      acc[j][t] = (accumulate && !L::kScaled)
                      ? V::load(y + static_cast<long>(t) * ldy + j * W)
                      : V::zero();
  PrefetchCursor prefetch(ahead, cols);
  for (int k = 0; k < cols; ++k) {
    reg wj[NP];
    L::template panels<NP>(w + k * kstride, wj);
    prefetch.step();
    for (int t = 0; t < NT; ++t) {
      const reg xt = V::set1(x[static_cast<long>(t) * ldx + k]);
      for (int j = 0; j < NP; ++j) acc[j][t] = V::fma(wj[j], xt, acc[j][t]);
    }
  }
  for (int j = 0; j < NP; ++j)
    for (int t = 0; t < NT; ++t) {
      float* yt = y + static_cast<long>(t) * ldy + j * W;
      reg out = acc[j][t];
      if (L::kScaled) {
        const reg scale = V::load(scales + j * W);
        out = accumulate ? V::fma(scale, out, V::load(yt)) : V::mul(scale, out);
      }
      V::store(yt, out);
    }
}

// The register tile of the batched GEMM: kTilePanels panels by
// kTileInputs inputs, as many chains as keep both FMA pipes busy through
// their latency, with the tile's weights and one broadcast input still in
// registers (AVX-512's 32: 4 x 6 + 4 + 1; AVX2's 16: 2 x 6 + 2 + 1). An
// even number of panels, so a tile never splits a bfloat16 pair. On Zen 5
// 4 x 6 ran the fp32 GEMM at B = 16 a few percent faster than 4 x 4 (fewer
// tiles per slice, each weight load serving 6); 2 x 8 was no faster, 8 x 2
// and 8 x 3 slower, and broadcasts as memory operands of the FMAs
// ({1to16}) ran at two thirds of the speed (docs/speed.md).
constexpr int kTilePanels = V::kRegisters >= 32 ? 4 : 2;
constexpr int kTileInputs = 6;

// The last batch % kTileInputs inputs as one narrower tile, not one by one:
// a single input has only NP chains, too few to hide the FMA latency.
template <class L, int NP, int R = kTileInputs - 1>
inline void gemm_tail_tile(int count, const typename L::T* w, long kstride,
                           const float* scales, int cols, const float* x, int ldx,
                           float* y, int ldy, bool accumulate, Prefetch ahead) {
  if constexpr (R >= 1) {
    if (count == R)
      return gemm_block<L, NP, R>(w, kstride, scales, cols, x, ldx, y, ldy, accumulate, ahead);
    gemm_tail_tile<L, NP, R - 1>(count, w, kstride, scales, cols, x, ldx, y, ldy, accumulate,
                                 ahead);
  }
}

// Every input through NP (<= kTilePanels) panels of a block, over `cols`
// columns, the tiles (the narrower last one too) sharing out the prefetch
// `ahead`.
template <class L, int NP>
void gemm_panels(const typename L::T* w, long kstride, const float* scales,
                 int cols, const float* x, int ldx, int batch, float* y,
                 int ldy, bool accumulate, Prefetch ahead) {
  const int tiles = batch / kTileInputs;
  const int parts = tiles + (batch % kTileInputs != 0);
  for (int i = 0; i < tiles; ++i) {
    const long t = static_cast<long>(i) * kTileInputs;
    gemm_block<L, NP, kTileInputs>(w, kstride, scales, cols, x + t * ldx, ldx, y + t * ldy,
                                   ldy, accumulate, ahead.part(i, parts));
  }
  const long t = static_cast<long>(tiles) * kTileInputs;
  if (t < batch)
    gemm_tail_tile<L, NP>(static_cast<int>(batch - t), w, kstride, scales, cols, x + t * ldx,
                          ldx, y + t * ldy, ldy, accumulate, ahead.part(tiles, parts));
}

// Panels [J, N) of a block of N, kTilePanels at a time, over one slice;
// each group takes its share of the prefetch, in the order of the bytes.
template <class L, int N, int J = 0>
inline void gemm_slice_panels(const typename L::T* w, const float* scales, int cols,
                              const float* x, int ldx, int batch, float* y, int ldy,
                              bool accumulate, Prefetch ahead) {
  if constexpr (J < N) {
    constexpr int NP = N - J < kTilePanels ? N - J : kTilePanels;
    const long from = ahead.lines * J / N, to = ahead.lines * (J + NP) / N;
    gemm_panels<L, NP>(w + J * W, static_cast<long>(N) * W, scales ? scales + J * W : nullptr,
                       cols, x, ldx, batch, y + J * W, ldy, accumulate,
                       Prefetch{ahead.first + 64 * from, to - from});
    gemm_slice_panels<L, N, J + NP>(w, scales, cols, x, ldx, batch, y, ldy, accumulate, ahead);
  }
}

// One block of N panels. A single input uses all N panels as independent
// chains (latency, not registers, limits a GEMV). Several inputs walk the
// block in column slices that stay in L1 while every tile of inputs
// passes over them; all of a slice's panels are taken before the next
// slice, so the block is still read front to back, and the slice's tiles
// prefetch the next one (slice_prefetch.inl).
// Partial sums go through y between slices: a float stored and reloaded
// is exact, so each output is still one FMA chain over k in order.
// (Scaled sums cannot be parked in y, so int8 takes the whole width at
// once; its weights are a quarter of the bytes.)
template <class L, int N>
void gemm_block_of(const typename L::T* w, const float* scales, int cols,
                   const float* x, int ldx, int batch, float* y, int ldy,
                   bool accumulate, const typename L::T* end, long slice_bytes) {
  constexpr long kstride = static_cast<long>(N) * W;
  if (batch == 1)
    return gemm_block<L, N, 1>(w, kstride, scales, cols, x, ldx, y, ldy, accumulate);
  const long per_column = kstride * static_cast<long>(sizeof(typename L::T));
  const int slice = L::kScaled || slice_bytes >= per_column * cols
                        ? cols
                        : static_cast<int>(slice_bytes / per_column);
  for (int k0 = 0; k0 < cols; k0 += slice) {
    const int width = cols - k0 < slice ? cols - k0 : slice;
    const typename L::T* wk = w + k0 * kstride;
    const long span = static_cast<long>(sizeof(typename L::T)) * width * kstride;
    gemm_slice_panels<L, N>(wk, scales, width, x + k0, ldx, batch, y, ldy, accumulate || k0 > 0,
                            bytes_after(wk + width * kstride, span, end));
  }
}

template <class L>
void gemm_any(const typename L::T* packed, const float* scales, int rows,
              int cols, const float* x, int ldx, int batch, float* y, int ldy,
              bool accumulate) {
  const int panels = rows / W;
  const typename L::T* end = packed + static_cast<long>(rows) * cols;
  const long slice_bytes = gemm_slice_bytes();
  // Time blocks small enough for their inputs to stay in cache while every
  // weight block passes over them.
  constexpr int kTimeBlock = 64;
  for (int t0 = 0; t0 < batch; t0 += kTimeBlock) {
    const int len = batch - t0 < kTimeBlock ? batch - t0 : kTimeBlock;
    const float* xt = x + static_cast<long>(t0) * ldx;
    float* yt = y + static_cast<long>(t0) * ldy;
    for (int p = 0; p < panels; p += kBlockPanels) {
      const typename L::T* w = packed + static_cast<long>(p) * W * cols;
      const float* sc = scales ? scales + p * W : nullptr;
      float* yb = yt + p * W;
      switch (panels - p < kBlockPanels ? panels - p : kBlockPanels) {
        case 1: gemm_block_of<L, 1>(w, sc, cols, xt, ldx, len, yb, ldy, accumulate, end, slice_bytes); break;
        case 2: gemm_block_of<L, 2>(w, sc, cols, xt, ldx, len, yb, ldy, accumulate, end, slice_bytes); break;
        case 3: gemm_block_of<L, 3>(w, sc, cols, xt, ldx, len, yb, ldy, accumulate, end, slice_bytes); break;
        case 4: gemm_block_of<L, 4>(w, sc, cols, xt, ldx, len, yb, ldy, accumulate, end, slice_bytes); break;
        case 5: gemm_block_of<L, 5>(w, sc, cols, xt, ldx, len, yb, ldy, accumulate, end, slice_bytes); break;
        case 6: gemm_block_of<L, 6>(w, sc, cols, xt, ldx, len, yb, ldy, accumulate, end, slice_bytes); break;
        case 7: gemm_block_of<L, 7>(w, sc, cols, xt, ldx, len, yb, ldy, accumulate, end, slice_bytes); break;
        default: gemm_block_of<L, 8>(w, sc, cols, xt, ldx, len, yb, ldy, accumulate, end, slice_bytes); break;
      }
    }
  }
}

void gemm(const float* packed, int rows, int cols, const float* x, int ldx,
          int batch, float* y, int ldy, bool accumulate) {
  gemm_any<LoadF32>(packed, nullptr, rows, cols, x, ldx, batch, y, ldy, accumulate);
}

void gemm_bf16(const unsigned short* packed, int rows, int cols, const float* x,
               int ldx, int batch, float* y, int ldy, bool accumulate) {
  gemm_any<LoadBF16>(packed, nullptr, rows, cols, x, ldx, batch, y, ldy, accumulate);
}

void gemm_i8(const signed char* packed, const float* row_scales, int rows,
             int cols, const float* x, int ldx, int batch, float* y, int ldy,
             bool accumulate) {
  gemm_any<LoadI8>(packed, row_scales, rows, cols, x, ldx, batch, y, ldy, accumulate);
}

// int8 activations without integer dot products: the same quantized inputs
// (each on its int8 grid, as floats), through the widening int8 GEMM.
void gemm_i8_act8(const signed char* packed, const float* row_scales, int rows,
                  int cols, const float* x, int ldx, int batch, float* y,
                  int ldy, bool accumulate) {
  thread_local std::vector<float> rounded;
  int8_inputs_rounded(x, ldx, batch, cols, rounded);
  gemm_i8(packed, row_scales, rows, cols, rounded.data(), cols, batch, y, ldy, accumulate);
}

// ------------------------------------------------------------- moments ---

struct Moments {
  float count, mean, m2;
};

// Chan, Golub, LeVeque: merge two partial (count, mean, M2).
inline Moments chan_merge(Moments a, Moments b) {
  if (a.count == 0) return b;
  if (b.count == 0) return a;
  const float n = a.count + b.count;
  const float delta = b.mean - a.mean;
  const float nb_over_n = b.count / n;
  return {n, a.mean + delta * nb_over_n,
          a.m2 + b.m2 + delta * delta * a.count * nb_over_n};
}

// Merges W lanes that each saw `count` values. Chan's pairwise merge of
// equal counts, applied over a whole tree, sums to this closed form: the
// mean of the lane means, and M2 = sum M2_l + count * sum (mean_l - mean)^2.
// It costs three horizontal sums instead of W - 1 scalar merges, which
// matters at the few hundred units a gate vector has.
inline Moments merge_equal_lanes(reg means, reg m2s, int count) {
  if (count == 0) return {0, 0, 0};
  const float mean = V::reduce_add(means) / static_cast<float>(W);
  const reg d = V::sub(means, V::set1(mean));
  const float m2 = V::reduce_add(m2s) +
                   static_cast<float>(count) * V::reduce_add(V::mul(d, d));
  return {static_cast<float>(count) * W, mean, m2};
}

void moments(const float* x, int n, float* mean_out, float* var_out) {
  if (n <= 0) {
    *mean_out = *var_out = 0.0f;
    return;
  }
  // Shifting by one sample first makes the values small, so the running
  // means carry full float32 precision even under a large common offset;
  // the shift changes no variance.
  const float shift = x[0];
  const reg vshift = V::set1(shift);
  // Two register sets of per-lane Welford accumulators, so consecutive
  // blocks do not wait on each other's mean update.
  reg mean0 = V::zero(), m2_0 = V::zero();
  reg mean1 = V::zero(), m2_1 = V::zero();
  int count0 = 0, count1 = 0;
  int i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    ++count0;
    ++count1;
    const reg inv = V::set1(1.0f / static_cast<float>(count0));
    const reg x0 = V::sub(V::load(x + i), vshift);
    const reg x1 = V::sub(V::load(x + i + W), vshift);
    const reg d0 = V::sub(x0, mean0), d1 = V::sub(x1, mean1);
    mean0 = V::fma(d0, inv, mean0);
    mean1 = V::fma(d1, inv, mean1);
    m2_0 = V::fma(d0, V::sub(x0, mean0), m2_0);
    m2_1 = V::fma(d1, V::sub(x1, mean1), m2_1);
  }
  if (i + W <= n) {
    ++count0;
    const reg inv = V::set1(1.0f / static_cast<float>(count0));
    const reg x0 = V::sub(V::load(x + i), vshift);
    const reg d0 = V::sub(x0, mean0);
    mean0 = V::fma(d0, inv, mean0);
    m2_0 = V::fma(d0, V::sub(x0, mean0), m2_0);
    i += W;
  }
  // The tail (< W elements) gets its own scalar Welford accumulator.
  Moments tail{0, 0, 0};
  for (; i < n; ++i) {
    const float xi = x[i] - shift;
    tail.count += 1;
    const float d = xi - tail.mean;
    tail.mean += d / tail.count;
    tail.m2 += d * (xi - tail.mean);
  }
  const Moments set0 = merge_equal_lanes(mean0, m2_0, count0);
  const Moments set1 = merge_equal_lanes(mean1, m2_1, count1);
  const Moments all = chan_merge(chan_merge(set0, set1), tail);
  *mean_out = shift + all.mean;
  *var_out = all.m2 / all.count;
}

void normalize(const float* x, int n, float mean, float rstd,
               const float* gamma, const float* beta, float* out,
               bool accumulate) {
  const reg vmean = V::set1(mean), vrstd = V::set1(rstd);
  auto affine = [&](reg xv, reg g, reg b) {
    return V::fma(V::mul(V::sub(xv, vmean), vrstd), g, b);
  };
  if (accumulate)
    map_lanes(out, n, [&](reg xv, reg g, reg b, reg o) {
      return V::add(o, affine(xv, g, b));
    }, x, gamma, beta, static_cast<const float*>(out));
  else
    map_lanes(out, n, affine, x, gamma, beta);
}

// --------------------------------------------------------- elementwise ---

void add(const float* a, const float* b, float* out, int n) {
  map_lanes(out, n, [](reg x, reg y) { return V::add(x, y); }, a, b);
}

void mul_add(const float* a, const float* b, const float* c, float* out,
             int n) {
  map_lanes(out, n, [](reg x, reg y, reg z) { return V::fma(y, z, x); }, a, b,
            c);
}

void lerp(const float* t, const float* a, const float* b, float* out, int n) {
  map_lanes(out, n,
            [](reg tv, reg x, reg y) { return V::fma(tv, V::sub(y, x), x); },
            t, a, b);
}

void lerp_scalar(float t, const float* a, const float* b, float* out, int n) {
  const reg tv = V::set1(t);
  map_lanes(out, n, [&](reg x, reg y) { return V::fma(tv, V::sub(y, x), x); },
            a, b);
}

// ---------------------------------------------------------- activations ---
// exp by range reduction x = n ln2 + r, |r| <= ln2/2, and a degree-6
// polynomial for e^r (the classic Cephes expf coefficients). Relative error
// about 2 ulp on the clamped range; see tests/test_kernels.py for the
// measured bounds of sigmoid and tanh built on it.

inline reg exp_v(reg x) {
  // Clamped so 2^n stays a normal float; beyond it sigmoid/tanh saturate.
  x = V::min(V::max(x, V::set1(-87.0f)), V::set1(88.0f));
  const reg n = V::round_nearest(V::mul(x, V::set1(1.44269504088896341f)));
  reg r = V::fma(n, V::set1(-0.693359375f), x);
  r = V::fma(n, V::set1(2.12194440e-4f), r);
  reg p = V::set1(1.9875691500e-4f);
  p = V::fma(p, r, V::set1(1.3981999507e-3f));
  p = V::fma(p, r, V::set1(8.3334519073e-3f));
  p = V::fma(p, r, V::set1(4.1665795894e-2f));
  p = V::fma(p, r, V::set1(1.6666665459e-1f));
  p = V::fma(p, r, V::set1(5.0000001201e-1f));
  p = V::fma(p, V::mul(r, r), V::add(r, V::set1(1.0f)));
  return V::mul(p, V::pow2i(n));
}

inline reg sigmoid_v(reg x) {
  const reg one = V::set1(1.0f);
  return V::div(one, V::add(one, exp_v(V::sub(V::zero(), x))));
}

// tanh(x) = 2 sigmoid(2x) - 1 has an absolute error of ~1e-7, which is a
// large relative error for tiny x; a layer norm downstream rescales tiny
// values back to unit spread and would magnify it. Below |x| = 0.4 the odd
// Taylor series through x^11 is used instead (truncation error < 1e-7
// relative there).
inline reg tanh_v(reg x) {
  const reg two = V::set1(2.0f);
  const reg wide = V::fma(two, sigmoid_v(V::mul(two, x)), V::set1(-1.0f));
  const reg x2 = V::mul(x, x);
  reg p = V::set1(-1382.0f / 155925.0f);
  p = V::fma(p, x2, V::set1(62.0f / 2835.0f));
  p = V::fma(p, x2, V::set1(-17.0f / 315.0f));
  p = V::fma(p, x2, V::set1(2.0f / 15.0f));
  p = V::fma(p, x2, V::set1(-1.0f / 3.0f));
  const reg small = V::fma(V::mul(p, x2), x, x);
  return V::blend_if_abs_below(x, V::set1(0.4f), small, wide);
}

void sigmoid(const float* x, float* out, int n) {
  map_lanes(out, n, [](reg v) { return sigmoid_v(v); }, x);
}

void tanh_kernel(const float* x, float* out, int n) {
  map_lanes(out, n, [](reg v) { return tanh_v(v); }, x);
}

void relu(const float* x, float* out, int n) {
  map_lanes(out, n, [](reg v) { return V::max(v, V::zero()); }, x);
}

void lstm_cell(const float* i, const float* f, const float* g, float* c,
               float forget_bias, int n) {
  const reg fb = V::set1(forget_bias);
  map_lanes(c, n, [&](reg iv, reg fv, reg gv, reg cv) {
    return V::fma(sigmoid_v(V::add(fv, fb)), cv,
                  V::mul(sigmoid_v(iv), tanh_v(gv)));
  }, i, f, g, static_cast<const float*>(c));
}

void lstm_hidden(const float* o, const float* c, float* h, int n) {
  map_lanes(h, n, [](reg ov, reg cv) { return V::mul(sigmoid_v(ov), tanh_v(cv)); },
            o, c);
}

float stream_read(const float* p, long n) {
  reg a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
  long i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    a0 = V::add(a0, V::load(p + i));
    a1 = V::add(a1, V::load(p + i + W));
    a2 = V::add(a2, V::load(p + i + 2 * W));
    a3 = V::add(a3, V::load(p + i + 3 * W));
  }
  alignas(64) float lanes[W];
  V::store(lanes, V::add(V::add(a0, a1), V::add(a2, a3)));
  float total = 0.0f;
  for (int l = 0; l < W; ++l) total += lanes[l];
  for (; i < n; ++i) total += p[i];
  return total;
}

// Twelve chains: more than latency x pipes on the cores this runs on
// (Zen 5: 4 cycles x 2), and with the two constants within AVX2's 16
// registers.
constexpr int kPeakChains = 12;

double fma_peak(long iterations) {
  // Read at run time: with known constants GCC folds the scalar loop away
  // (a * m + c converges in float, so it computes the end result).
  static volatile float start = 1.0f, scale = 0.9999999f, shift = 1e-7f;
  reg a[kPeakChains];
  for (int j = 0; j < kPeakChains; ++j) a[j] = V::set1(start + 0.001f * static_cast<float>(j));
  const reg m = V::set1(scale), c = V::set1(shift);
  for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kPeakChains; ++j) {
      const reg r = V::fma(a[j], m, c);
      a[j] = r;
    }
  }
  reg sum = a[0];
  for (int j = 1; j < kPeakChains; ++j) sum = V::add(sum, a[j]);
  volatile float sink = V::reduce_add(sum);  // the chains are not dead code
  (void)sink;
  return 2.0 * W * kPeakChains * static_cast<double>(iterations);
}

constexpr KernelTable make_table(Isa isa) {
  return KernelTable{isa,     W,           kBlockPanels, gemm, gemm_bf16, gemm_i8, gemm_i8_act8, moments,
                     normalize, add,       mul_add,     lerp,
                     lerp_scalar, sigmoid, tanh_kernel, relu,
                     lstm_cell, lstm_hidden, stream_read, fma_peak, nullptr, nullptr,
                     false, false, false};
}
