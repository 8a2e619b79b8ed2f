#include "lnfast/model.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "cells/packed_layer.hpp"
#include "lnfast/fingerprint.hpp"
#include "model/validate_spec.hpp"
#include "parallel/task_list.hpp"

namespace lnfast {
namespace {

constexpr const char* kMatrixNames[] = {"w_ih", "w_hh", "w_hr"};

const MatrixView& view_of(const LayerViews& m, int which) {
  return which == 0 ? m.w_ih : (which == 1 ? m.w_hh : m.w_hr);
}

const PackedMatrix& packed_matrix_of(const PackedLayer& L, int which) {
  if (which < 0 || which > 2) throw std::out_of_range("matrix index must be 0, 1 or 2");
  return which == 0 ? L.w_ih : (which == 1 ? L.w_hh : L.w_hr);
}

std::string layer_name(size_t k) { return "layer " + std::to_string(k); }

}  // namespace

Model::Model(std::vector<LayerSpec> layers, Isa isa, WeightFormat weights,
             bool int8_activations)
    : specs_(std::move(layers)),
      isa_(isa),
      weights_(weights),
      int8_activations_(int8_activations),
      kernels_(&kernels_for(isa)) {
  std::vector<LayerViews> views;
  for (size_t k = 0; k < specs_.size(); ++k) views.push_back(matrix_views(specs_[k], layer_name(k)));
  build(views);
  // Packed now: the float32 copies would only double the memory.
  for (LayerSpec& s : specs_) {
    std::vector<float>().swap(s.w_ih);
    std::vector<float>().swap(s.w_hh);
    std::vector<float>().swap(s.w_hr);
  }
}

Model::Model(std::vector<LayerSpec> structure, const std::vector<LayerViews>& views, Isa isa,
             WeightFormat weights, bool int8_activations)
    : specs_(std::move(structure)),
      isa_(isa),
      weights_(weights),
      int8_activations_(int8_activations),
      kernels_(&kernels_for(isa)) {
  if (views.size() != specs_.size())
    throw std::invalid_argument("a model needs one set of matrices per layer: got " +
                                std::to_string(views.size()) + " for " +
                                std::to_string(specs_.size()) + " layers");
  for (size_t k = 0; k < specs_.size(); ++k)
    if (!specs_[k].w_ih.empty() || !specs_[k].w_hh.empty() || !specs_[k].w_hr.empty())
      throw std::invalid_argument(layer_name(k) +
                                  ": give its matrices in the spec or lent beside it, not both");
  build(views);
}

void Model::build(const std::vector<LayerViews>& views) {
  validate_storage(weights_, int8_activations_);
  validate_stack(specs_, validate_layer_structure);
  for (size_t k = 0; k < specs_.size(); ++k) {
    validate_layer_views(specs_[k], views[k], layer_name(k));
    for (int which = 0; which < 3; ++which) {
      const MatrixView& m = view_of(views[k], which);
      if (m.stored && m.data && weights_ == WeightFormat::I8 && !m.row_scales)
        throw std::invalid_argument(layer_name(k) + ": stored int8 " + kMatrixNames[which] +
                                    " comes without its row scales");
    }
  }

  // Every matrix of every layer is one task: the reading, converting,
  // checking and hashing of a load, spread over the CPUs.
  const int count = static_cast<int>(3 * specs_.size());
  std::vector<PackedMatrix> packed(count);
  std::vector<PackReport> reports(count);
  run_task_list(count, [&](int t) {
    const MatrixView& m = view_of(views[t / 3], t % 3);
    if (m.data) packed[t] = pack_view(m, *kernels_, weights_, int8_activations_, &reports[t]);
  }, load_threads());
  for (int t = 0; t < count; ++t)
    if (!reports[t].problem.empty())
      throw std::invalid_argument(layer_name(t / 3) + ": " + kMatrixNames[t % 3] + " " +
                                  reports[t].problem);

  std::vector<StoredHashes> hashes;
  for (size_t k = 0; k < specs_.size(); ++k) {
    hashes.push_back({reports[3 * k].stored_hash, reports[3 * k + 1].stored_hash,
                      reports[3 * k + 2].stored_hash});
    packed_.push_back(std::make_unique<PackedLayer>(
        assemble_layer(specs_[k], std::move(packed[3 * k]), std::move(packed[3 * k + 1]),
                       std::move(packed[3 * k + 2]))));
  }
  fingerprint_ = model_fingerprint(specs_, hashes, weights_, int8_activations_);
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

long long Model::weight_bytes() const {
  long long total = 0;
  for (const auto& L : packed_)
    for (const PackedMatrix* w : {&L->w_ih, &L->w_hh, &L->w_hr})
      total += static_cast<long long>(w->bytes()) +
               (w->row_scales ? static_cast<long long>(sizeof(float)) * w->rows : 0);
  return total;
}

const LayerSpec& Model::layer(int k) const { return specs_.at(k); }

LayerSpec Model::unpacked_layer(int k) const {
  LayerSpec s = specs_.at(k);
  const PackedLayer& L = *packed_.at(k);
  const auto unpack = [](const PackedMatrix& m, std::vector<float>& out) {
    out.resize(static_cast<size_t>(m.logical_rows) * m.cols);
    if (!out.empty()) unpack_values(m, out.data());
  };
  unpack(L.w_ih, s.w_ih);
  unpack(L.w_hh, s.w_hh);
  unpack(L.w_hr, s.w_hr);
  return s;
}

std::pair<int, int> Model::matrix_shape(int k, int which) const {
  const PackedMatrix& m = packed_matrix_of(*packed_.at(k), which);
  return {m.logical_rows, m.cols};
}

void Model::read_stored_matrix(int k, int which, void* elements, float* row_scales) const {
  const PackedMatrix& m = packed_matrix_of(*packed_.at(k), which);
  if (m.logical_rows > 0) read_stored(m, elements, row_scales);
}

int Model::state_offset(int k) const { return state_offsets_.at(k); }
int Model::state_size(int k) const {
  return state_floats(specs_.at(k));
}

}  // namespace lnfast
