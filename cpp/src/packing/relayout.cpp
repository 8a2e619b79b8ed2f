// Element-by-element relayout (see relayout.hpp).
#include "packing/relayout.hpp"

#include <cstring>

namespace lnfast {
namespace {

template <class T>
void copy_elements(const PackedMatrix& from, PackedMatrix& to, unsigned char flip) {
  const T* src = static_cast<const T*>(from.weights);
  T* dst = static_cast<T*>(const_cast<void*>(to.weights));
  for (int r = 0; r < from.logical_rows; ++r)
    for (int k = 0; k < from.cols; ++k) {
      T v = src[element_offset(from.layout, from.rows, from.stored_cols, r, k)];
      if constexpr (sizeof(T) == 1) v = static_cast<T>(static_cast<unsigned char>(v) ^ flip);
      dst[element_offset(to.layout, to.rows, to.stored_cols, r, k)] = v;
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
