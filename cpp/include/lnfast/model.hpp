// A stack of recurrent layers with weights packed once, and the per-stream
// state that steps through it. A Model is immutable after construction, so
// any number of Streams on any threads may share it.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "lnfast/isa.hpp"
#include "lnfast/spec.hpp"

namespace lnfast {

struct KernelTable;
struct PackedLayer;
struct LayerMatrices;

// Where the packed weights of a model live when they are not its own
// buffers: a mapping of a model file (lnfast/model_file.hpp), whose bytes
// can go bad under the model when the file is truncated while mapped.
// Streams ask it before and after each step; a damaged source fails the
// step with its own error and the streams keep their state from before it.
class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool damaged() const = 0;
  // Throws the source's error (naming the file and what happened) when damaged().
  virtual void check_intact() const = 0;
};

class Model {
 public:
  // Validates every spec (throws std::invalid_argument naming the problem)
  // and packs the weights for the kernels of `isa`, stored as `weights`;
  // the specs' matrices are freed once packed, so the model holds its
  // weights once (docs/speed.md#loading). int8_activations (int8 weights
  // only, else std::invalid_argument) rounds each GEMM's input vector to
  // int8 too, for integer dot products.
  Model(std::vector<LayerSpec> layers, Isa isa,
        WeightFormat weights = WeightFormat::F32, bool int8_activations = false);
  // The same from specs whose matrices are empty and matrices the caller
  // lends for the duration of the call (one LayerViews per layer): they
  // are packed straight from its memory, in parallel, and not kept.
  Model(std::vector<LayerSpec> structure, const std::vector<LayerViews>& views, Isa isa,
        WeightFormat weights = WeightFormat::F32, bool int8_activations = false);
  // A model around weights packed already (a model file's panels): the specs
  // give the structure only (their w_ih, w_hh, w_hr are empty), `matrices`
  // the packed weights of each layer, in `weights` format. A matrix whose
  // panel layout is not the one the kernels of `isa` read is relaid once
  // (packing/relayout.hpp: the same stored values, so the same bits out);
  // one that matches is used in place, kept alive by its storage.
  // `fingerprint` is the one the model had when it was packed; `source`
  // (may be null) reports damage to the weights' bytes. Throws
  // std::invalid_argument when a spec or a matrix does not fit.
  Model(std::vector<LayerSpec> structure, std::vector<LayerMatrices> matrices, Isa isa,
        WeightFormat weights, bool int8_activations, std::uint64_t fingerprint,
        std::shared_ptr<const WeightSource> source);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  int input_size() const;
  int hidden_size() const;  // of the top layer
  int num_layers() const;
  Isa isa() const { return isa_; }
  WeightFormat weight_format() const { return weights_; }
  bool int8_activations() const { return int8_activations_; }
  // Layer k's structure: norms, biases and options, its matrices empty.
  const LayerSpec& layer(int k) const;
  // Layer k with w_ih, w_hh and w_hr filled from the panels: the values the
  // kernels multiply by (bfloat16 widened, int8 q * scale). A new copy.
  LayerSpec unpacked_layer(int k) const;
  // Layer k's matrix `which` (0 w_ih, 1 w_hh, 2 w_hr) in its stored form,
  // as MatrixView::stored takes it back: its (rows, cols), (0, 0) for an
  // absent w_hr; then rows x cols elements of the weight format (float32,
  // bfloat16 bits, int8 q) row-major and, for int8, rows row scales.
  std::pair<int, int> matrix_shape(int k, int which) const;
  void read_stored_matrix(int k, int which, void* elements, float* row_scales) const;
  // Floats of recurrent state of layer k (H, or 2H for an LSTM), and where
  // they start in a stream's flat state vector.
  int state_size(int k) const;
  int state_offset(int k) const;
  int total_state_size() const { return total_state_; }
  long long weight_count() const { return weight_count_; }
  // Bytes the packed weights occupy (padding rows and int8 row scales
  // included): all the memory the model's weights take.
  long long weight_bytes() const;
  // The same on every ISA and in every process: see lnfast/fingerprint.hpp.
  std::uint64_t fingerprint() const { return fingerprint_; }
  // One pass over every packed weight with full-width loads: the floor a
  // step's GEMV cannot beat. Returns their sum so the reads stay.
  float read_weights_once() const;
  // Layer k as the cells read it (cells/packed_layer.hpp), for code inside
  // the core that saves or inspects the packed weights.
  const PackedLayer& packed_layer(int k) const { return *packed_.at(k); }
  // Null for a model that packed its own weights.
  const WeightSource* weight_source() const { return source_.get(); }

 private:
  friend class Stream;
  // Validates and packs lent views (both public constructors end here).
  void build(const std::vector<LayerViews>& views);
  // State offsets, weight count and scratch sizes, from packed_.
  void index_layers();
  std::vector<LayerSpec> specs_;
  std::vector<std::unique_ptr<PackedLayer>> packed_;
  std::vector<int> state_offsets_;
  int total_state_ = 0;
  long long weight_count_ = 0;
  std::uint64_t fingerprint_ = 0;
  size_t scratch_floats_ = 0;
  size_t widest_hidden_ = 0;
  Isa isa_;
  WeightFormat weights_;
  bool int8_activations_;
  const KernelTable* kernels_;
  std::shared_ptr<const WeightSource> source_;
};

class Stream {
 public:
  explicit Stream(std::shared_ptr<const Model> model);

  // One step of every layer. x has input_size floats, out receives the top
  // layer's hidden_size floats. Throws std::invalid_argument (state
  // untouched) when x holds NaN or Inf.
  void step(const float* x, float* out);
  // T steps; X is [T, input_size] row-major, out [T, hidden_size]. The
  // input projections of all T steps are one matrix-matrix product.
  void run(const float* X, int T, float* out);
  void reset();
  // B streams of `model` advanced together: X is [B, input_size], out
  // [B, hidden_size]. Each layer reads its weights once for all B (one GEMM
  // per projection) and every stream gets the bits B separate steps would
  // give. Throws std::invalid_argument (no state touched) when check_batch
  // does or X is not finite.
  static void step_many(const Model& model, Stream* const* streams, int B,
                        const float* X, float* out);
  // Throws std::invalid_argument naming the first stream that belongs to
  // another model or appears twice. step_many calls it first; a caller that
  // must lock each stream before stepping calls it before locking.
  static void check_batch(const Model& model, const Stream* const* streams,
                          int B);

  const std::shared_ptr<const Model>& model() const { return model_; }
  const std::vector<float>& state() const { return state_; }
  // Throws std::invalid_argument (state untouched) on a wrong size or a
  // non-finite value.
  void set_state(const float* values, size_t count);

 private:
  std::shared_ptr<const Model> model_;
  std::vector<float> state_;
  std::vector<float> scratch_;
  std::vector<float> run_buffer_;
};

}  // namespace lnfast
