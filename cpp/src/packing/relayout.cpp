// Element-by-element relayout (see relayout.hpp).
#include "packing/relayout.hpp"

#include <cstring>

namespace lnfast {

PackedMatrix relayout(const PackedMatrix& source, const KernelTable& kernels) {
  const PanelLayout layout =
      panel_layout_for(kernels, source.format, source.int8_activations);
  PackedMatrix out = allocate_packed(source.format, source.int8_activations, layout,
                                     source.logical_rows, source.cols);
  copy_stored_elements(source, out);
  if (source.format == WeightFormat::I8)
    std::memcpy(const_cast<float*>(out.row_scales), source.row_scales,
                sizeof(float) * source.logical_rows);
  return out;
}

}  // namespace lnfast
