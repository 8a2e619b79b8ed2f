// B streams of one model in one pass over the weights (Stream::step_many).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "cells/cell_steps.hpp"
#include "lnfast/model.hpp"
#include "model/damage_rollback.hpp"
#include "model/step_helpers.hpp"
#include "parallel/split_gemm.hpp"

namespace lnfast {

void Stream::check_batch(const Model& model, const Stream* const* streams,
                         int B) {
  for (int b = 0; b < B; ++b)
    if (streams[b]->model_.get() != &model)
      throw std::invalid_argument(
          "streams[" + std::to_string(b) +
          "] belongs to another model; step_many needs streams of this model");
  // Duplicates by sorting a reused copy: a std::set cost B node allocations
  // per call, ~1% of step_many at H = 256. Only a batch that has one is
  // searched again, for the index the message names.
  thread_local std::vector<const Stream*> sorted;
  sorted.assign(streams, streams + std::max(B, 0));
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()) return;
  std::set<const Stream*> seen;
  for (int b = 0; b < B; ++b)
    if (!seen.insert(streams[b]).second)
      throw std::invalid_argument("stream " + std::to_string(b) +
                                  " appears twice in one step_many call");
}

void Stream::step_many(const Model& m, Stream* const* streams, int B,
                       const float* X, float* out) {
  check_batch(m, streams, B);
  if (B <= 0) return;
  require_finite(X, static_cast<size_t>(B) * m.input_size(), "input");
  DamageRollback rollback(m.weight_source());
  for (int b = 0; b < B; ++b) rollback.keep(streams[b]->state_);
  const KernelTable& k = *m.kernels_;

  // Per stream a slice of S floats: [xw | step scratch]; the recurrent GEMM
  // then writes every stream's target at one stride S.
  size_t S = 0;
  for (const auto& L : m.packed_)
    S = std::max(S, static_cast<size_t>(L->rows_padded) + layer_scratch_floats(*L));
  // An odd number of cache lines apart, so the streams' rows of one GEMM
  // tile fall in different L1 sets: at H = 1024 the natural stride is 21
  // pages, every stream's outputs landed in the same few sets, and the
  // fp32 GEMM at B = 16 ran 5-10 points further from the FMA peak.
  constexpr size_t kLineFloats = 64 / sizeof(float);
  S = (S + kLineFloats - 1) / kLineFloats * kLineFloats;
  if ((S / kLineFloats) % 2 == 0) S += kLineFloats;
  thread_local std::vector<float> work;
  const size_t hidden_floats = static_cast<size_t>(B) * m.widest_hidden_;
  // Slices start on a cache line. A vector's floats are only 16-byte
  // aligned, and a slice starting mid-line splits every 64-byte load and
  // store of the GEMM's outputs and the cells' passes over two lines:
  // where the heap happened to put `work` (it moved with the size of the
  // environment) made step_many up to 5 points faster or slower, and
  // aligned it gained 3-5 points at B = 64.
  work.resize(S * B + 3 * hidden_floats + kLineFloats);
  const size_t misaligned = reinterpret_cast<uintptr_t>(work.data()) / sizeof(float) % kLineFloats;
  float* slices = work.data() + (kLineFloats - misaligned) % kLineFloats;
  float* h_gather = slices + S * B;
  float* layer_out[2] = {h_gather + hidden_floats, h_gather + 2 * hidden_floats};

  const float* input = X;
  for (int l = 0; l < m.num_layers(); ++l) {
    const PackedLayer& L = *m.packed_[l];
    const int H = L.output_size, P = L.rows_padded;
    const bool top = l + 1 == m.num_layers();
    float* h_out = top ? out : layer_out[l % 2];
    project_inputs(k, L, input, L.input_size, B, slices, static_cast<int>(S));
    RecurrentTarget target{};
    for (int b = 0; b < B; ++b) {
      float* slice = slices + S * b;
      target = begin_step(k, L, slice, slice + P);
      const float* h = streams[b]->state_.data() + m.state_offsets_[l];
      std::memcpy(h_gather + static_cast<size_t>(b) * H, h, sizeof(float) * H);
    }
    // Every slice's target sits at the same offset, so target of the last
    // stream minus its slice start locates them all.
    float* first_target = target.y - S * (B - 1);
    split_gemm(k, L.w_hh, h_gather, H, B, first_target, static_cast<int>(S),
               target.accumulate);
    for (int b = 0; b < B; ++b) {
      float* slice = slices + S * b;
      finish_step(k, L, slice, streams[b]->state_.data() + m.state_offsets_[l],
                  h_out + static_cast<size_t>(b) * H, slice + P);
    }
    input = h_out;
  }
  rollback.finish();
}

}  // namespace lnfast
