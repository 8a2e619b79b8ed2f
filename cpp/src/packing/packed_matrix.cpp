// Packing into panels for every storage format (see packed_matrix.hpp).
#include "packing/packed_matrix.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/bf16_round.hpp"

namespace lnfast {
namespace {

// Where element (panel j of a block of n, lane, column k) goes, relative to
// the block: panel-major within each column, the layout every format uses
// except bfloat16's pairs.
struct PlainSlot {
  size_t operator()(int n, int j, int lane, int k, int panel) const {
    return (static_cast<size_t>(k) * n + j) * panel + lane;
  }
};

// bfloat16: panels 2p and 2p+1 share 32-bit words (2p in the low half), so
// a kernel widens both with one load, a shift and a mask; an odd block's
// last panel stays plain.
struct Bf16PairSlot {
  size_t operator()(int n, int j, int lane, int k, int panel) const {
    const size_t column = static_cast<size_t>(k) * n * panel;
    if (j == n - 1 && n % 2) return column + static_cast<size_t>(j) * panel + lane;
    return column + static_cast<size_t>(j / 2) * 2 * panel + 2 * lane + j % 2;
  }
};

// For dot products (vdpbf16ps and BFDOT: G = 2 bfloat16; SDOT: G = 4
// int8): columns Gq..Gq+G-1 of a row share a 32-bit word; a block's panels
// sit side by side per column group.
template <int G>
struct KGroupSlot {
  size_t operator()(int n, int j, int lane, int k, int panel) const {
    return ((static_cast<size_t>(k / G) * n + j) * panel + lane) * G + k % G;
  }
};

template <class T, class Convert, class Slot = PlainSlot>
std::vector<T> pack_panels_as(const std::vector<float>& w, int rows, int cols,
                              int panel, int block_panels, Convert convert,
                              Slot slot = Slot(), int stored_cols = 0) {
  if (stored_cols < cols) stored_cols = cols;
  const int padded = (rows + panel - 1) / panel * panel;
  const int panels = padded / panel;
  std::vector<T> out(static_cast<size_t>(padded) * stored_cols, T(0));
  for (int p0 = 0; p0 < panels; p0 += block_panels) {
    const int in_block = std::min(block_panels, panels - p0);
    T* block = out.data() + static_cast<size_t>(p0) * panel * stored_cols;
    for (int j = 0; j < in_block; ++j)
      for (int lane = 0; lane < panel; ++lane) {
        const int r = (p0 + j) * panel + lane;
        if (r >= rows) continue;  // padding rows stay 0
        for (int k = 0; k < cols; ++k)
          block[slot(in_block, j, lane, k, panel)] =
              convert(r, w[static_cast<size_t>(r) * cols + k]);
      }
  }
  return out;
}

}  // namespace

std::vector<float> pack_panels(const std::vector<float>& w, int rows, int cols,
                               int panel, int block_panels) {
  return pack_panels_as<float>(w, rows, cols, panel, block_panels,
                               [](int, float v) { return v; });
}

const void* PackedMatrix::data() const {
  switch (format) {
    case WeightFormat::BF16: return bf16.data();
    case WeightFormat::I8: return i8.data();
    default: return f32.data();
  }
}

size_t PackedMatrix::bytes() const {
  return f32.size() * sizeof(float) + bf16.size() * sizeof(unsigned short) +
         i8.size() * sizeof(signed char);
}

PackedMatrix pack_matrix(const std::vector<float>& w, int rows, int cols,
                         const KernelTable& kernels, WeightFormat format,
                         bool int8_activations) {
  const int panel = kernels.panel_rows, block = kernels.block_panels;
  PackedMatrix m;
  m.format = format;
  m.int8_activations = format == WeightFormat::I8 && int8_activations;
  m.rows = (rows + panel - 1) / panel * panel;
  m.cols = cols;
  m.stored_cols = cols;
  switch (format) {
    case WeightFormat::F32:
      m.f32 = pack_panels(w, rows, cols, panel, block);
      break;
    case WeightFormat::BF16:
      if (kernels.bf16_pairs_along_k) {
        m.stored_cols = (cols + 1) / 2 * 2;
        m.bf16 = pack_panels_as<unsigned short>(
            w, rows, cols, panel, block, [](int, float v) { return round_to_bf16(v); },
            KGroupSlot<2>(), m.stored_cols);
      } else {
        m.bf16 = pack_panels_as<unsigned short>(
            w, rows, cols, panel, block, [](int, float v) { return round_to_bf16(v); },
            Bf16PairSlot());
      }
      break;
    case WeightFormat::I8: {
      // Symmetric per-row scale: the largest |w| of a row maps to 127.
      m.row_scales.assign(m.rows, 0.0f);
      std::vector<float> inverse(rows, 0.0f);
      for (int r = 0; r < rows; ++r) {
        float peak = 0.0f;
        for (int k = 0; k < cols; ++k)
          peak = std::max(peak, std::fabs(w[static_cast<size_t>(r) * cols + k]));
        m.row_scales[r] = peak > 0.0f ? peak / 127.0f : 1.0f;
        inverse[r] = peak > 0.0f ? 127.0f / peak : 0.0f;
      }
      auto quantize = [&](int r, float v) {
        const float q = std::nearbyint(v * inverse[r]);
        return static_cast<signed char>(std::max(-127.0f, std::min(127.0f, q)));
      };
      if (m.int8_activations && kernels.i8_act8_u8_quads) {
        // u8 = w + 128 for vpdpbusd; padding stays 0 but meets inputs of 0.
        m.stored_cols = (cols + 3) / 4 * 4;
        m.i8 = pack_panels_as<signed char>(
            w, rows, cols, panel, block,
            [&](int r, float v) {
              return static_cast<signed char>(static_cast<unsigned char>(quantize(r, v)) ^ 0x80u);
            },
            KGroupSlot<4>(), m.stored_cols);
      } else if (m.int8_activations) {
        m.i8 = pack_panels_as<signed char>(w, rows, cols, panel, block, quantize);
      } else if (kernels.i8_quads_along_k) {
        m.stored_cols = (cols + 3) / 4 * 4;
        m.i8 = pack_panels_as<signed char>(w, rows, cols, panel, block, quantize,
                                           KGroupSlot<4>(), m.stored_cols);
      } else {
        m.i8 = pack_panels_as<signed char>(w, rows, cols, panel, block, quantize);
      }
      break;
    }
  }
  return m;
}

}  // namespace lnfast
