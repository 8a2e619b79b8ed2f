// The GEMM skeleton of the dot-product paths, written once against a traits
// type `D`: weights packed in groups of D::kGroup columns along k (one
// group of a row is one 32-bit word; see pack_matrix), inputs prepared as
// matching words (dot_inputs.hpp), and one instruction that multiplies a
// panel's groups by a broadcast input group and adds into D::W sums.
//
// Included inside an anonymous namespace of a file compiled with the
// instructions' flags, like kernels_generic.inl. D must provide:
//   W, kGroup, kXWords (input words per group), kBatchTile (inputs per
//   pass when several, so accumulators stay in registers), T (stored
//   weight), XWord, WReg, XReg, Acc,
//   load_w(const T*) -> WReg, load_x(const XWord*) -> XReg (broadcast),
//   dot(Acc&, WReg, XReg),
//   start(const float* y, bool accumulate, int input_offset) -> Acc
//          (input_offset is DotInputs::offsets[t], 0 when null),
//   finish(const Acc&, const float* row_scales, float input_scale,
//          float* y, bool accumulate); input_scale is DotInputs::scales[t]
//          (1 when null);
// and may provide kSumsInY (see SumsInY). The including file includes
// <type_traits> and <vector>.

constexpr int kDotBlockPanels = 8;

struct DotInputs {
  const typename D::XWord* words;
  int words_per_input;
  const float* scales;  // per input (int8: each input's peak), or null
  const int* offsets;   // per input, the sum's starting value, or null
};

#include "kernels/slice_prefetch.inl"

// Whether D's partial sums can be parked in y between slices of k and
// picked up again (D::kSumsInY: float sums that start from y and are
// stored as they are); integer sums, dequantized once at the end, cannot.
template <class X, class = void>
struct SumsInY : std::false_type {};
template <class X>
struct SumsInY<X, std::void_t<decltype(X::kSumsInY)>> : std::bool_constant<X::kSumsInY> {};

template <int NP, int NT>
void dot_block(const typename D::T* w, long group_stride, int groups,
               DotInputs x, const float* row_scales, float* y, int ldy,
               bool accumulate, Prefetch ahead = {}) {
  typename D::Acc acc[NP][NT];
  for (int j = 0; j < NP; ++j)
    for (int t = 0; t < NT; ++t)
      acc[j][t] = D::start(y + static_cast<long>(t) * ldy + j * D::W, accumulate,
                           x.offsets ? x.offsets[t] : 0);
  PrefetchCursor prefetch(ahead, groups);
  for (int g = 0; g < groups; ++g) {
    const typename D::T* wg = w + g * group_stride;
    typename D::WReg wj[NP];
    for (int j = 0; j < NP; ++j) wj[j] = D::load_w(wg + j * D::W * D::kGroup);
    prefetch.step();
    // Unrolled for certain, and each sum updated through a local, so that
    // GCC keeps every sum in a register (it kept the array in memory
    // around an asm dot, and copied registers around an intrinsic one).
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const typename D::XReg xt =
          D::load_x(x.words + static_cast<long>(t) * x.words_per_input + g * D::kXWords);
#pragma GCC unroll 8
      for (int j = 0; j < NP; ++j) {
        typename D::Acc a = acc[j][t];
        D::dot(a, wj[j], xt);
        acc[j][t] = a;
      }
    }
  }
  for (int j = 0; j < NP; ++j)
    for (int t = 0; t < NT; ++t)
      D::finish(acc[j][t], row_scales ? row_scales + j * D::W : nullptr,
                x.scales ? x.scales[t] : 1.0f,
                y + static_cast<long>(t) * ldy + j * D::W, accumulate);
}

// Inputs from t0 on.
DotInputs inputs_from(const DotInputs& x, long t0) {
  return DotInputs{x.words + t0 * x.words_per_input, x.words_per_input,
                   x.scales ? x.scales + t0 : nullptr, x.offsets ? x.offsets + t0 : nullptr};
}

// The last batch % kBatchTile inputs as one narrower tile, not one by one.
template <int NP, int R = D::kBatchTile - 1>
void dot_tail_tile(int count, const typename D::T* w, long stride, int groups, DotInputs x,
                   const float* row_scales, float* y, int ldy, bool accumulate) {
  if constexpr (R >= 1) {
    if (count == R)
      return dot_block<NP, R>(w, stride, groups, x, row_scales, y, ldy, accumulate);
    dot_tail_tile<NP, R - 1>(count, w, stride, groups, x, row_scales, y, ldy, accumulate);
  }
}

// Every input through NP panels, the full tiles sharing out the prefetch.
template <int NP>
void dot_panels(const typename D::T* w, long stride, int groups, DotInputs x, int batch,
                const float* row_scales, float* y, int ldy, bool accumulate, Prefetch ahead) {
  constexpr int NT = D::kBatchTile;
  const int tiles = batch / NT;
  for (int i = 0; i < tiles; ++i) {
    const long t = static_cast<long>(i) * NT;
    dot_block<NP, NT>(w, stride, groups, inputs_from(x, t), row_scales, y + t * ldy, ldy,
                      accumulate, ahead.part(i, tiles));
  }
  const long t = static_cast<long>(tiles) * NT;
  if (t < batch)
    dot_tail_tile<NP>(static_cast<int>(batch - t), w, stride, groups, inputs_from(x, t),
                      row_scales, y + t * ldy, ldy, accumulate);
}

// Panels [J, N) of a block of N, four at a time (an even count: bf16
// pairs stay whole), each group with its share of the prefetch.
template <int N, int J = 0>
void dot_slice_panels(const typename D::T* w, int groups, DotInputs x, int batch,
                      const float* row_scales, float* y, int ldy, bool accumulate,
                      Prefetch ahead) {
  if constexpr (J < N) {
    constexpr int NP = N - J < 4 ? N - J : 4;
    const long from = ahead.lines * J / N, to = ahead.lines * (J + NP) / N;
    dot_panels<NP>(w + J * D::W * D::kGroup, static_cast<long>(N) * D::W * D::kGroup, groups,
                   x, batch, row_scales ? row_scales + J * D::W : nullptr, y + J * D::W, ldy,
                   accumulate, Prefetch{ahead.first + 64 * from, to - from});
    dot_slice_panels<N, J + NP>(w, groups, x, batch, row_scales, y, ldy, accumulate, ahead);
  }
}

// One block of N panels: every panel at once for a single input (latency
// bound, so N independent chains). Several inputs go as in the float
// GEMM (kernels_generic.inl): in slices of k that stay in L1 while every
// tile passes over them, front to back, the next slice prefetched, when
// the sums can wait in y; otherwise the whole width at once, prefetching
// the next block.
template <int N>
void dot_block_of(const typename D::T* w, int groups, DotInputs x, int batch,
                  const float* row_scales, float* y, int ldy, bool accumulate,
                  const typename D::T* end) {
  constexpr long stride = static_cast<long>(N) * D::W * D::kGroup;
  if (batch == 1)
    return dot_block<N, 1>(w, stride, groups, x, row_scales, y, ldy, accumulate);
  constexpr long kGroupBytes = stride * static_cast<long>(sizeof(typename D::T));
  constexpr bool kSliced = SumsInY<D>::value;
  const int slice = !kSliced || gemm_slice_bytes() >= kGroupBytes * groups
                        ? groups
                        : static_cast<int>(gemm_slice_bytes() / kGroupBytes);
  for (int g0 = 0; g0 < groups; g0 += slice) {
    const int width = groups - g0 < slice ? groups - g0 : slice;
    DotInputs xs = x;
    xs.words += static_cast<long>(g0) * D::kXWords;
    const typename D::T* wg = w + g0 * stride;
    dot_slice_panels<N>(wg, width, xs, batch, row_scales, y, ldy, accumulate || g0 > 0,
                        kSliced ? bytes_after(wg + width * stride, kGroupBytes * width, end) : Prefetch{});
  }
}

// Groups [first, first + count) of a matrix packed with `stored` groups per
// row (a wide matrix can be taken in slices of k this way).
void dot_gemm(const typename D::T* packed, int rows, int stored, int first,
              int count, DotInputs x, int batch, const float* row_scales,
              float* y, int ldy, bool accumulate) {
  const int panels = rows / D::W;
  const typename D::T* end = packed + static_cast<long>(rows) * stored * D::kGroup;
  x.words += static_cast<long>(first) * D::kXWords;
  for (int p = 0; p < panels; p += kDotBlockPanels) {
    const int in_block = panels - p < kDotBlockPanels ? panels - p : kDotBlockPanels;
    const typename D::T* w = packed +
        (static_cast<long>(p) * stored + static_cast<long>(first) * in_block) * D::W * D::kGroup;
    const float* s = row_scales ? row_scales + p * D::W : nullptr;
    float* yb = y + p * D::W;
    switch (in_block) {
      case 1: dot_block_of<1>(w, count, x, batch, s, yb, ldy, accumulate, end); break;
      case 2: dot_block_of<2>(w, count, x, batch, s, yb, ldy, accumulate, end); break;
      case 3: dot_block_of<3>(w, count, x, batch, s, yb, ldy, accumulate, end); break;
      case 4: dot_block_of<4>(w, count, x, batch, s, yb, ldy, accumulate, end); break;
      case 5: dot_block_of<5>(w, count, x, batch, s, yb, ldy, accumulate, end); break;
      case 6: dot_block_of<6>(w, count, x, batch, s, yb, ldy, accumulate, end); break;
      case 7: dot_block_of<7>(w, count, x, batch, s, yb, ldy, accumulate, end); break;
      default: dot_block_of<8>(w, count, x, batch, s, yb, ldy, accumulate, end); break;
    }
  }
}

// The dot-product instruction's peak (KernelTable::bf16_dot_peak and
// i8_dot_peak): kChains independent sums on registers alone. A template
// only so that a unit that does not install it compiles no copy.
template <int kChains = 12>
double dot_peak(long iterations) {
  // Not const, so that no compiler can fold the products.
  alignas(64) static typename D::T weights[D::W * D::kGroup] = {};
  const typename D::XWord words[D::kXWords] = {};
  const typename D::WReg w = D::load_w(weights);
  const typename D::XReg x = D::load_x(words);
  typename D::Acc acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = D::start(nullptr, false, j);
  for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; ++j) {
      typename D::Acc a = acc[j];
      D::dot(a, w, x);
      acc[j] = a;
    }
  }
  alignas(64) float sums[D::W] = {}, ones[D::W];
  for (float& v : ones) v = 1.0f;
  for (int j = 0; j < kChains; ++j) D::finish(acc[j], ones, 1.0f, sums, true);
  volatile float sink = 0.0f;  // the sums are not dead code
  for (float v : sums) sink = sink + v;
  return 2.0 * D::W * D::kGroup * kChains * static_cast<double>(iterations);
}

// The whole bf16 GEMM for a D over bf16 pairs (vdpbf16ps, BFDOT): the
// inputs rounded and paired (by `Pairs`, which must round as
// bf16_input_pairs does), then dot_gemm. A template (over the input word)
// so that the int8 unit, whose D stores int8, never compiles it.
template <class Words = unsigned int,
          void (*Pairs)(const float*, int, int, int, int, std::vector<Words>&) = bf16_input_pairs>
void bf16_pairs_dot_gemm(const typename D::T* packed, int rows, int cols, const float* x,
                         int ldx, int batch, float* y, int ldy, bool accumulate) {
  const int pairs = (cols + 1) / 2;
  thread_local std::vector<Words> words;
  Pairs(x, ldx, batch, cols, pairs, words);
  dot_gemm(packed, rows, pairs, 0, pairs, DotInputs{words.data(), pairs, nullptr, nullptr}, batch,
           nullptr, y, ldy, accumulate);
}
