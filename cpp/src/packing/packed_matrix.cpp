// Packing into panels for every storage format (see packed_matrix.hpp).
#include "packing/packed_matrix.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/bf16_round.hpp"

namespace lnfast {
namespace {

// Where element (panel j of a block of n, lane, column k) goes, relative to
// the block, for each PanelOrder.
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

// For dot products (vdpbf16ps and BFDOT: G = 2 bfloat16; SDOT and vpdpbusd:
// G = 4 int8): columns Gq..Gq+G-1 of a row share a 32-bit word; a block's
// panels sit side by side per column group.
struct KGroupSlot {
  int group;
  size_t operator()(int n, int j, int lane, int k, int panel) const {
    return ((static_cast<size_t>(k / group) * n + j) * panel + lane) * group + k % group;
  }
};

// Calls f with the slot functor of `layout`, chosen once per matrix.
template <class F>
void with_slot(const PanelLayout& layout, F&& f) {
  switch (layout.order) {
    case PanelOrder::Bf16Pairs: return f(Bf16PairSlot{});
    case PanelOrder::KGroups: return f(KGroupSlot{layout.k_group});
    default: return f(PlainSlot{});
  }
}


template <class T, class Convert, class Slot>
void pack_into(T* out, const float* w, int rows, int cols, std::ptrdiff_t row_stride,
               int padded, int stored_cols, const PanelLayout& layout, Convert convert,
               Slot slot) {
  const int panel = layout.panel_rows;
  const int panels = padded / panel;
  for (int p0 = 0; p0 < panels; p0 += layout.block_panels) {
    const int in_block = std::min(layout.block_panels, panels - p0);
    T* block = out + static_cast<size_t>(p0) * panel * stored_cols;
    for (int j = 0; j < in_block; ++j)
      for (int lane = 0; lane < panel; ++lane) {
        const int r = (p0 + j) * panel + lane;
        if (r >= rows) continue;  // padding rows stay 0
        const float* row = w + static_cast<std::ptrdiff_t>(r) * row_stride;
        for (int k = 0; k < cols; ++k) block[slot(in_block, j, lane, k, panel)] = convert(r, row[k]);
      }
  }
}

}  // namespace

std::shared_ptr<void> zeroed_buffer(size_t bytes) {
  const size_t rounded = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

size_t element_offset(const PanelLayout& layout, int rows, int stored_cols, int r, int k) {
  const int panel = layout.panel_rows;
  const int panels = rows / panel;
  const int p = r / panel, lane = r % panel;
  const int p0 = p / layout.block_panels * layout.block_panels;
  const int n = std::min(layout.block_panels, panels - p0);
  const size_t block = static_cast<size_t>(p0) * panel * stored_cols;
  size_t at = 0;
  with_slot(layout, [&](auto slot) { at = block + slot(n, p - p0, lane, k, panel); });
  return at;
}

PanelLayout panel_layout_for(const KernelTable& kernels, WeightFormat format,
                             bool int8_activations) {
  PanelLayout layout;
  layout.panel_rows = kernels.panel_rows;
  layout.block_panels = kernels.block_panels;
  if (format == WeightFormat::BF16) {
    layout.order = kernels.bf16_pairs_along_k ? PanelOrder::KGroups : PanelOrder::Bf16Pairs;
    layout.k_group = kernels.bf16_pairs_along_k ? 2 : 1;
  } else if (format == WeightFormat::I8) {
    const bool u8_quads = int8_activations && kernels.i8_act8_u8_quads;
    const bool quads = u8_quads || (!int8_activations && kernels.i8_quads_along_k);
    layout.order = quads ? PanelOrder::KGroups : PanelOrder::Plain;
    layout.k_group = quads ? 4 : 1;
    layout.u8_offset = u8_quads;
  }
  return layout;
}

size_t element_bytes(WeightFormat format) {
  return format == WeightFormat::F32 ? 4 : (format == WeightFormat::BF16 ? 2 : 1);
}

size_t PackedMatrix::bytes() const {
  return static_cast<size_t>(rows) * stored_cols * element_bytes(format);
}

float PackedMatrix::stored_value(int r, int k) const {
  const size_t at = element_offset(layout, rows, stored_cols, r, k);
  switch (format) {
    case WeightFormat::BF16: {
      const unsigned int bits = static_cast<unsigned int>(bf16()[at]) << 16;
      float v;
      std::memcpy(&v, &bits, sizeof v);
      return v;
    }
    case WeightFormat::I8: {
      signed char q = i8()[at];
      if (layout.u8_offset) q = static_cast<signed char>(static_cast<unsigned char>(q) ^ 0x80u);
      return static_cast<float>(q) * row_scales[r];
    }
    default: return f32()[at];
  }
}

PackedMatrix allocate_packed(WeightFormat format, bool int8_activations,
                             const PanelLayout& layout, int rows, int cols) {
  PackedMatrix m;
  m.format = format;
  m.int8_activations = format == WeightFormat::I8 && int8_activations;
  m.layout = layout;
  const int panel = layout.panel_rows;
  m.logical_rows = rows;
  m.rows = (rows + panel - 1) / panel * panel;
  m.cols = cols;
  m.stored_cols = (cols + layout.k_group - 1) / layout.k_group * layout.k_group;
  const size_t scale_offset = (m.bytes() + 63) / 64 * 64;
  const size_t scale_bytes = format == WeightFormat::I8 ? sizeof(float) * m.rows : 0;
  std::shared_ptr<void> buffer = zeroed_buffer(scale_offset + scale_bytes);
  char* base = static_cast<char*>(buffer.get());
  m.weights = base;
  if (format == WeightFormat::I8) m.row_scales = reinterpret_cast<const float*>(base + scale_offset);
  m.storage = buffer;
  return m;
}

PackedMatrix pack_matrix(const float* w, int rows, int cols, std::ptrdiff_t row_stride,
                         const KernelTable& kernels, WeightFormat format,
                         bool int8_activations) {
  const bool act8 = format == WeightFormat::I8 && int8_activations;
  PackedMatrix m = allocate_packed(format, act8, panel_layout_for(kernels, format, act8),
                                   rows, cols);
  const PanelLayout& layout = m.layout;
  // The buffer is this function's own until it returns.
  char* base = static_cast<char*>(const_cast<void*>(m.weights));
  const auto pack = [&](auto* out, auto convert) {
    with_slot(layout, [&](auto slot) {
      pack_into(out, w, rows, cols, row_stride, m.rows, m.stored_cols, layout, convert, slot);
    });
  };
  switch (format) {
    case WeightFormat::F32:
      pack(reinterpret_cast<float*>(base), [](int, float v) { return v; });
      break;
    case WeightFormat::BF16:
      pack(reinterpret_cast<unsigned short*>(base), [](int, float v) { return round_to_bf16(v); });
      break;
    case WeightFormat::I8: {
      // Symmetric per-row scale: the largest |w| of a row maps to 127.
      float* scales = const_cast<float*>(m.row_scales);
      std::vector<float> inverse(rows, 0.0f);
      for (int r = 0; r < rows; ++r) {
        const float* row = w + static_cast<std::ptrdiff_t>(r) * row_stride;
        float peak = 0.0f;
        for (int k = 0; k < cols; ++k) peak = std::max(peak, std::fabs(row[k]));
        scales[r] = peak > 0.0f ? peak / 127.0f : 1.0f;
        inverse[r] = peak > 0.0f ? 127.0f / peak : 0.0f;
      }
      // u8 = q + 128 for vpdpbusd; padding stays 0 but meets inputs of 0.
      const unsigned char offset = layout.u8_offset ? 0x80u : 0u;
      pack(reinterpret_cast<signed char*>(base), [&](int r, float v) {
        const float q = std::max(-127.0f, std::min(127.0f, std::nearbyint(v * inverse[r])));
        return static_cast<signed char>(static_cast<unsigned char>(static_cast<signed char>(q)) ^ offset);
      });
      break;
    }
  }
  return m;
}

PackedMatrix pack_matrix(const std::vector<float>& w, int rows, int cols,
                         const KernelTable& kernels, WeightFormat format,
                         bool int8_activations) {
  return pack_matrix(w.data(), rows, cols, cols, kernels, format, int8_activations);
}

std::vector<float> pack_panels(const std::vector<float>& w, int rows, int cols,
                               int panel, int block_panels) {
  PanelLayout layout;
  layout.panel_rows = panel;
  layout.block_panels = block_panels;
  const int padded = (rows + panel - 1) / panel * panel;
  std::vector<float> out(static_cast<size_t>(padded) * cols, 0.0f);
  pack_into(out.data(), w.data(), rows, cols, cols, padded, cols, layout,
            [](int, float v) { return v; }, PlainSlot{});
  return out;
}

}  // namespace lnfast
