// Weight matrices laid out as the GEMM kernels read them, in each storage
// format. Sits just above kernels/: it needs their panel geometry, and
// everything that multiplies by a weight matrix (parallel/, cells/) needs it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/kernel_table.hpp"
#include "lnfast/spec.hpp"

namespace lnfast {

// Where element (r, k) of a packed matrix sits, told without naming an ISA,
// so that a saved model can record it and a reader check it against its own
// kernels. Rows come in panels of `panel_rows` (one SIMD register of
// outputs), panels in blocks of `block_panels` stored k-major with the
// block's panels side by side; `order` says how elements share a word.
enum class PanelOrder : std::uint8_t {
  Plain = 0,      // W[(p0 + j)*panel + lane][k] at block + (k*n + j)*panel + lane
  Bf16Pairs = 1,  // panels 2p, 2p+1 share 32-bit words (2p low); an odd last panel plain
  KGroups = 2,    // k_group consecutive columns of a row share a 32-bit word
};

struct PanelLayout {
  int panel_rows = 1;
  int block_panels = 1;
  PanelOrder order = PanelOrder::Plain;
  int k_group = 1;         // 2 (bf16 pairs along k) or 4 (int8 quads), else 1
  bool u8_offset = false;  // int8 stored as u8 = q + 128 (vpdpbusd)

  bool operator==(const PanelLayout& o) const {
    return panel_rows == o.panel_rows && block_panels == o.block_panels &&
           order == o.order && k_group == o.k_group && u8_offset == o.u8_offset;
  }
  bool operator!=(const PanelLayout& o) const { return !(*this == o); }
};

// The layout `kernels` read for matrices stored as `format`.
PanelLayout panel_layout_for(const KernelTable& kernels, WeightFormat format,
                             bool int8_activations);

// A weight matrix in GEMM panels. The bytes are not owned by the struct
// itself but by `storage`, which keeps them alive: a buffer the packer
// allocated, or a mapping of a saved model file, so a model can step
// straight from memory it did not copy.
struct PackedMatrix {
  WeightFormat format = WeightFormat::F32;
  PanelLayout layout;
  int logical_rows = 0;  // the matrix's rows
  int rows = 0;          // padded to whole panels
  int cols = 0;
  int stored_cols = 0;  // cols, or rounded up to whole groups along k
  // int8 only: multiplied by int8-rounded activations (gemm_i8_act8).
  bool int8_activations = false;

  const void* weights = nullptr;       // rows * stored_cols elements
  const float* row_scales = nullptr;   // int8 only, one per padded row
  std::shared_ptr<const void> storage;

  const float* f32() const { return static_cast<const float*>(weights); }
  const unsigned short* bf16() const { return static_cast<const unsigned short*>(weights); }
  const signed char* i8() const { return static_cast<const signed char*>(weights); }
  const void* data() const { return weights; }
  // Bytes of the weight elements (not the scales).
  size_t bytes() const;
  // The value the kernels multiply by for W[r][k] (r < logical_rows): the
  // float, the widened bfloat16, or q * scale. Unpacking reads these.
  float stored_value(int r, int k) const;
};

// Bytes per stored element of a format.
size_t element_bytes(WeightFormat format);

// Where element (r, k) of a matrix of `rows` padded rows sits in its
// weights, in elements.
size_t element_offset(const PanelLayout& layout, int rows, int stored_cols, int r, int k);

// A zeroed (rows x cols) matrix of `format` in `layout`: rows padded to
// whole panels, columns to whole k groups, int8 scales after the elements
// (zero, as padding rows keep them), in huge pages where it pays
// (packing/panel_buffer.hpp). What pack_view and relayout fill.
PackedMatrix allocate_packed(WeightFormat format, bool int8_activations,
                             const PanelLayout& layout, int rows, int cols);

// What packing learns in its one pass over the source, besides the panels.
struct PackReport {
  std::uint64_t stored_hash = 0;  // stored_values_hash of the result
  // Empty, or why the source was refused, to follow the matrix's name:
  // "holds a non-finite value (nan) at flat index 9". Packing stops there.
  std::string problem;
};

// Packs `source` (values, or stored elements: see MatrixView) into panels
// of the given format, for int8 with int8_activations in the layout
// gemm_i8_act8 reads. Reads each source element once, checks it is finite
// and hashes the stored rows as it goes. Without a report a refused source
// throws std::invalid_argument.
PackedMatrix pack_view(const MatrixView& source, const KernelTable& kernels,
                       WeightFormat format, bool int8_activations = false,
                       PackReport* report = nullptr);
// A (rows x cols) matrix of float32 values whose row r starts at
// w + r * row_stride.
PackedMatrix pack_matrix(const float* w, int rows, int cols, std::ptrdiff_t row_stride,
                         const KernelTable& kernels, WeightFormat format,
                         bool int8_activations = false);
// A dense row-major matrix.
PackedMatrix pack_matrix(const std::vector<float>& w, int rows, int cols,
                         const KernelTable& kernels, WeightFormat format,
                         bool int8_activations = false);

// The matrix's identity for the fingerprint, from what it stores and
// independent of the layout (docs/numerics.md#fingerprint): hash64 of the
// words (rows, cols, format, hash64 of each row's stored elements in order,
// for int8 hash64 of the row scales). bfloat16 rows hash their bits, int8
// rows their q (never the u8 offset).
std::uint64_t stored_values_hash(const PackedMatrix& m);

// The stored elements row-major (logical_rows x cols elements of
// element_bytes(format)) and, for int8, the logical_rows row scales (else
// row_scales is not written): what MatrixView::stored takes back.
void read_stored(const PackedMatrix& m, void* elements, float* row_scales);

// Every stored_value row-major into out (logical_rows x cols floats).
void unpack_values(const PackedMatrix& m, float* out);

// Every stored element of `from` into `to`, a matrix of the same format and
// sizes in any panel layout, a panel of rows at a time through their stored
// form (the u8 offset of either layout undone and redone): what relayout
// copies. Scales are not touched.
void copy_stored_elements(const PackedMatrix& from, PackedMatrix& to);

// fp32 panels of a dense row-major matrix as pack_matrix lays them
// (PanelOrder::Plain), for probes that call a GEMM kernel directly.
std::vector<float> pack_panels(const std::vector<float>& w, int rows, int cols,
                               int panel, int block_panels);

}  // namespace lnfast
