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
//          (1 when null).

constexpr int kDotBlockPanels = 8;

struct DotInputs {
  const typename D::XWord* words;
  int words_per_input;
  const float* scales;  // per input (int8: each input's peak), or null
  const int* offsets;   // per input, the sum's starting value, or null
};

template <int NP, int NT>
void dot_block(const typename D::T* w, long group_stride, int groups,
               DotInputs x, const float* row_scales, float* y, int ldy,
               bool accumulate) {
  typename D::Acc acc[NP][NT];
  for (int j = 0; j < NP; ++j)
    for (int t = 0; t < NT; ++t)
      acc[j][t] = D::start(y + static_cast<long>(t) * ldy + j * D::W, accumulate,
                           x.offsets ? x.offsets[t] : 0);
  for (int g = 0; g < groups; ++g) {
    const typename D::T* wg = w + g * group_stride;
    typename D::WReg wj[NP];
    for (int j = 0; j < NP; ++j) wj[j] = D::load_w(wg + j * D::W * D::kGroup);
    for (int t = 0; t < NT; ++t) {
      const typename D::XReg xt =
          D::load_x(x.words + static_cast<long>(t) * x.words_per_input + g * D::kXWords);
      for (int j = 0; j < NP; ++j) D::dot(acc[j][t], wj[j], xt);
    }
  }
  for (int j = 0; j < NP; ++j)
    for (int t = 0; t < NT; ++t)
      D::finish(acc[j][t], row_scales ? row_scales + j * D::W : nullptr,
                x.scales ? x.scales[t] : 1.0f,
                y + static_cast<long>(t) * ldy + j * D::W, accumulate);
}

// `count` (1-4) panels against NT inputs.
template <int NT>
void dot_panels(int count, const typename D::T* w, long stride, int groups,
                DotInputs x, const float* row_scales, float* y, int ldy,
                bool accumulate) {
  switch (count) {
    case 1: return dot_block<1, NT>(w, stride, groups, x, row_scales, y, ldy, accumulate);
    case 2: return dot_block<2, NT>(w, stride, groups, x, row_scales, y, ldy, accumulate);
    case 3: return dot_block<3, NT>(w, stride, groups, x, row_scales, y, ldy, accumulate);
    default: return dot_block<4, NT>(w, stride, groups, x, row_scales, y, ldy, accumulate);
  }
}

// One block of N panels: every panel at once for a single input (latency
// bound, so N independent chains), at most four at a time for several.
template <int N>
void dot_block_of(const typename D::T* w, int groups, DotInputs x, int batch,
                  const float* row_scales, float* y, int ldy, bool accumulate) {
  constexpr long stride = static_cast<long>(N) * D::W * D::kGroup;
  if (batch == 1)
    return dot_block<N, 1>(w, stride, groups, x, row_scales, y, ldy, accumulate);
  constexpr int NT = D::kBatchTile;
  for (int j0 = 0; j0 < N; j0 += 4) {
    const int count = N - j0 < 4 ? N - j0 : 4;
    const typename D::T* wj = w + j0 * D::W * D::kGroup;
    const float* sj = row_scales ? row_scales + j0 * D::W : nullptr;
    int t = 0;
    auto inputs_from = [&](int t0) {
      return DotInputs{x.words + static_cast<long>(t0) * x.words_per_input,
                       x.words_per_input, x.scales ? x.scales + t0 : nullptr,
                       x.offsets ? x.offsets + t0 : nullptr};
    };
    for (; t + NT <= batch; t += NT)
      dot_panels<NT>(count, wj, stride, groups, inputs_from(t), sj,
                     y + j0 * D::W + static_cast<long>(t) * ldy, ldy, accumulate);
    for (; t < batch; ++t)
      dot_panels<1>(count, wj, stride, groups, inputs_from(t), sj,
                    y + j0 * D::W + static_cast<long>(t) * ldy, ldy, accumulate);
  }
}

// Groups [first, first + count) of a matrix packed with `stored` groups per
// row (a wide matrix can be taken in slices of k this way).
void dot_gemm(const typename D::T* packed, int rows, int stored, int first,
              int count, DotInputs x, int batch, const float* row_scales,
              float* y, int ldy, bool accumulate) {
  const int panels = rows / D::W;
  x.words += static_cast<long>(first) * D::kXWords;
  for (int p = 0; p < panels; p += kDotBlockPanels) {
    const int in_block = panels - p < kDotBlockPanels ? panels - p : kDotBlockPanels;
    const typename D::T* w = packed +
        (static_cast<long>(p) * stored + static_cast<long>(first) * in_block) * D::W * D::kGroup;
    const float* s = row_scales ? row_scales + p * D::W : nullptr;
    float* yb = y + p * D::W;
    switch (in_block) {
      case 1: dot_block_of<1>(w, count, x, batch, s, yb, ldy, accumulate); break;
      case 2: dot_block_of<2>(w, count, x, batch, s, yb, ldy, accumulate); break;
      case 3: dot_block_of<3>(w, count, x, batch, s, yb, ldy, accumulate); break;
      case 4: dot_block_of<4>(w, count, x, batch, s, yb, ldy, accumulate); break;
      case 5: dot_block_of<5>(w, count, x, batch, s, yb, ldy, accumulate); break;
      case 6: dot_block_of<6>(w, count, x, batch, s, yb, ldy, accumulate); break;
      case 7: dot_block_of<7>(w, count, x, batch, s, yb, ldy, accumulate); break;
      default: dot_block_of<8>(w, count, x, batch, s, yb, ldy, accumulate); break;
    }
  }
}

// The whole bf16 GEMM for a D over bf16 pairs (vdpbf16ps, BFDOT): the
// inputs rounded and paired, then dot_gemm. A template (over the input
// word) so that the int8 unit, whose D stores int8, never compiles it.
template <class Words = unsigned int>
void bf16_pairs_dot_gemm(const typename D::T* packed, int rows, int cols, const float* x,
                         int ldx, int batch, float* y, int ldy, bool accumulate) {
  const int pairs = (cols + 1) / 2;
  thread_local std::vector<Words> words;
  bf16_input_pairs(x, ldx, batch, cols, pairs, words);
  dot_gemm(packed, rows, pairs, 0, pairs, DotInputs{words.data(), pairs, nullptr, nullptr}, batch,
           nullptr, y, ldy, accumulate);
}
