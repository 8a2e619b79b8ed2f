// One stream: construction, state, Stream::step and Stream::run.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "cells/cell_steps.hpp"
#include "lnfast/model.hpp"
#include "model/damage_rollback.hpp"
#include "model/step_helpers.hpp"

namespace lnfast {

Stream::Stream(std::shared_ptr<const Model> model)
    : model_(std::move(model)),
      state_(model_->total_state_, 0.0f),
      scratch_(model_->scratch_floats_, 0.0f) {}

void Stream::reset() { std::fill(state_.begin(), state_.end(), 0.0f); }

void Stream::set_state(const float* values, size_t count) {
  if (count != state_.size())
    throw std::invalid_argument("state has " + std::to_string(count) +
                                " values, expected " +
                                std::to_string(state_.size()));
  require_finite(values, count, "state");
  std::copy(values, values + count, state_.begin());
}

void Stream::step(const float* x, float* out) {
  const Model& m = *model_;
  require_finite(x, m.input_size(), "input");
  DamageRollback rollback(m.weight_source());
  rollback.keep(state_);
  const KernelTable& k = *m.kernels_;
  // Scratch: [xw | the layer's step scratch ... | h ping | h pong]; the
  // hidden vector of a lower layer is the next layer's input.
  float* xw = scratch_.data();
  float* ping = scratch_.data() + scratch_.size() - 2 * m.widest_hidden_;
  float* pong = ping + m.widest_hidden_;
  const float* input = x;
  for (int l = 0; l < m.num_layers(); ++l) {
    const PackedLayer& L = *m.packed_[l];
    float* h_out = (l + 1 == m.num_layers()) ? out : (l % 2 ? pong : ping);
    project_inputs(k, L, input, L.input_size, 1, xw, L.rows_padded);
    step_layer(k, L, xw, state_.data() + m.state_offsets_[l], h_out,
               xw + L.rows_padded);
    input = h_out;
  }
  rollback.finish();
}

void Stream::run(const float* X, int T, float* out) {
  const Model& m = *model_;
  if (T < 0) throw std::invalid_argument("negative sequence length");
  require_finite(X, static_cast<size_t>(T) * m.input_size(), "input");
  DamageRollback rollback(m.weight_source());
  rollback.keep(state_);
  const KernelTable& k = *m.kernels_;
  // Layer-major within chunks of steps: a chunk's input projections are one
  // GEMM per layer; chunking bounds the buffer for long sequences.
  constexpr int kChunk = 256;
  int widest_rows = 0;
  for (int l = 0; l < m.num_layers(); ++l)
    widest_rows = std::max(widest_rows, m.packed_[l]->rows_padded);
  const size_t xw_floats = static_cast<size_t>(kChunk) * widest_rows;
  const size_t h_floats = static_cast<size_t>(kChunk) * m.widest_hidden_;
  run_buffer_.resize(xw_floats + 2 * h_floats);
  float* xw_all = run_buffer_.data();
  float* seq[2] = {xw_all + xw_floats, xw_all + xw_floats + h_floats};
  float* step_scratch = scratch_.data();

  for (int t0 = 0; t0 < T; t0 += kChunk) {
    const int len = std::min(kChunk, T - t0);
    const float* input = X + static_cast<size_t>(t0) * m.input_size();
    for (int l = 0; l < m.num_layers(); ++l) {
      const PackedLayer& L = *m.packed_[l];
      const bool top = l + 1 == m.num_layers();
      float* h_seq = top ? out + static_cast<size_t>(t0) * L.output_size
                         : seq[l % 2];
      project_inputs(k, L, input, L.input_size, len, xw_all, L.rows_padded);
      float* state = state_.data() + m.state_offsets_[l];
      for (int t = 0; t < len; ++t)
        step_layer(k, L, xw_all + static_cast<size_t>(t) * L.rows_padded, state,
                   h_seq + static_cast<size_t>(t) * L.output_size, step_scratch);
      input = h_seq;
    }
  }
  rollback.finish();
}

}  // namespace lnfast
