// Moving a packed matrix into the panel layout other kernels read, without
// passing through float: the stored elements (and int8 scales) are copied,
// so the new matrix multiplies by exactly the same values.
#pragma once

#include "packing/packed_matrix.hpp"

namespace lnfast {

// `source` as `kernels` read it. The elements keep their format; int8 keeps
// its scales and changes only the u8 offset a layout asks for. Padding is
// zero, as pack_matrix leaves it, so results are bit-identical to packing
// the same values directly.
PackedMatrix relayout(const PackedMatrix& source, const KernelTable& kernels);

}  // namespace lnfast
