#include "lnfast/model.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "cells/packed_layer.hpp"
#include "lnfast/fingerprint.hpp"
#include "model/validate_spec.hpp"

namespace lnfast {

Model::Model(std::vector<LayerSpec> layers, Isa isa, WeightFormat weights,
             bool int8_activations)
    : specs_(std::move(layers)),
      isa_(isa),
      weights_(weights),
      int8_activations_(int8_activations),
      kernels_(&kernels_for(isa)) {
  validate_storage(weights, int8_activations);
  validate_stack(specs_, validate_layer_spec);
  fingerprint_ = model_fingerprint(specs_, weights_);
  for (const LayerSpec& spec : specs_)
    packed_.push_back(
        std::make_unique<PackedLayer>(pack_layer(spec, *kernels_, weights_, int8_activations_)));
  index_layers();
}

void Model::index_layers() {
  int offset = 0;
  for (size_t l = 0; l < specs_.size(); ++l) {
    const LayerSpec& spec = specs_[l];
    const PackedLayer& L = *packed_[l];
    state_offsets_.push_back(offset);
    offset += state_floats(spec);
    for (const PackedMatrix* w : {&L.w_ih, &L.w_hh, &L.w_hr})
      weight_count_ += static_cast<long long>(w->logical_rows) * w->cols;
    // Scratch: this layer's step, its input projection, and the hidden
    // vector handed to the next layer.
    scratch_floats_ = std::max(scratch_floats_,
                               layer_scratch_floats(L) + L.rows_padded);
    widest_hidden_ = std::max(widest_hidden_, static_cast<size_t>(output_size(spec)));
  }
  scratch_floats_ += 2 * widest_hidden_;
  total_state_ = offset;
}

Model::~Model() = default;

int Model::input_size() const { return specs_.front().input_size; }
int Model::hidden_size() const { return output_size(specs_.back()); }
int Model::num_layers() const { return static_cast<int>(specs_.size()); }
float Model::read_weights_once() const {
  float total = 0.0f;
  for (const auto& L : packed_)
    for (const PackedMatrix* w : {&L->w_ih, &L->w_hh, &L->w_hr})
      total += kernels_->stream_read(static_cast<const float*>(w->data()),
                                     static_cast<long>(w->bytes() / sizeof(float)));
  return total;
}

const LayerSpec& Model::layer(int k) const { return specs_.at(k); }
int Model::state_offset(int k) const { return state_offsets_.at(k); }
int Model::state_size(int k) const {
  return state_floats(specs_.at(k));
}

}  // namespace lnfast
