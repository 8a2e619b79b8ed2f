// Element-by-element relayout (see relayout.hpp).
#include "packing/relayout.hpp"

#include <cstring>
#include <vector>

namespace lnfast {
namespace {

// Where (r, k) sits, fast: in every PanelOrder an element's offset is the
// offset of its row's column 0 plus a shift that depends only on k and on
// how many panels share the row's block, which is the same for every block
// but the last. So two tables of shifts serve the whole matrix.
class Offsets {
 public:
  explicit Offsets(const PackedMatrix& m) : m_(m) {
    const int block_rows = m.layout.panel_rows * m.layout.block_panels;
    last_block_ = (m.rows - 1) / block_rows * block_rows;
    full_ = shifts(0);
    last_ = shifts(last_block_);
  }
  // The offsets of row r's columns 0..cols-1 into `out`.
  void row(int r, std::vector<size_t>& out) const {
    const size_t base = element_offset(m_.layout, m_.rows, m_.stored_cols, r, 0);
    const std::vector<size_t>& shift = r >= last_block_ ? last_ : full_;
    for (int k = 0; k < m_.cols; ++k) out[k] = base + shift[k];
  }

 private:
  std::vector<size_t> shifts(int first_row) const {
    std::vector<size_t> out(m_.cols);
    const size_t zero = element_offset(m_.layout, m_.rows, m_.stored_cols, first_row, 0);
    for (int k = 0; k < m_.cols; ++k)
      out[k] = element_offset(m_.layout, m_.rows, m_.stored_cols, first_row, k) - zero;
    return out;
  }
  const PackedMatrix& m_;
  int last_block_;
  std::vector<size_t> full_, last_;
};

template <class T>
void copy_elements(const PackedMatrix& from, PackedMatrix& to, unsigned char flip) {
  const T* src = static_cast<const T*>(from.weights);
  T* dst = static_cast<T*>(const_cast<void*>(to.weights));
  const Offsets from_at(from), to_at(to);
  std::vector<size_t> a(from.cols), b(from.cols);
  for (int r = 0; r < from.logical_rows; ++r) {
    from_at.row(r, a);
    to_at.row(r, b);
    for (int k = 0; k < from.cols; ++k) {
      T v = src[a[k]];
      if constexpr (sizeof(T) == 1) v = static_cast<T>(static_cast<unsigned char>(v) ^ flip);
      dst[b[k]] = v;
    }
  }
}

}  // namespace

PackedMatrix relayout(const PackedMatrix& source, const KernelTable& kernels) {
  const PanelLayout layout =
      panel_layout_for(kernels, source.format, source.int8_activations);
  PackedMatrix out = allocate_packed(source.format, source.int8_activations, layout,
                                     source.logical_rows, source.cols);
  switch (source.format) {
    case WeightFormat::F32: copy_elements<float>(source, out, 0); break;
    case WeightFormat::BF16: copy_elements<unsigned short>(source, out, 0); break;
    case WeightFormat::I8: {
      const unsigned char flip = source.layout.u8_offset != layout.u8_offset ? 0x80u : 0u;
      copy_elements<signed char>(source, out, flip);
      std::memcpy(const_cast<float*>(out.row_scales), source.row_scales,
                  sizeof(float) * source.logical_rows);
      break;
    }
  }
  return out;
}

}  // namespace lnfast
