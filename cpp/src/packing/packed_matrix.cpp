// Packing into panels for every storage format (see packed_matrix.hpp).
#include "packing/packed_matrix.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "kernels/bf16_round.hpp"
#include "packing/panel_buffer.hpp"
#include "lnfast/hash64.hpp"

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
// panels sit side by side per column group. G is a template argument so
// that no element pays for a division.
template <int G>
struct KGroupSlot {
  size_t operator()(int n, int j, int lane, int k, int panel) const {
    return ((static_cast<size_t>(k / G) * n + j) * panel + lane) * G + k % G;
  }
};

// Calls f with the slot functor of `layout`, chosen once per matrix.
template <class F>
void with_slot(const PanelLayout& layout, F&& f) {
  switch (layout.order) {
    case PanelOrder::Bf16Pairs: return f(Bf16PairSlot{});
    case PanelOrder::KGroups:
      if (layout.k_group == 2) return f(KGroupSlot<2>{});
      return f(KGroupSlot<4>{});
    default: return f(PlainSlot{});
  }
}

// Where a row's elements sit: the base of its block of panels and the
// arguments every slot functor takes besides the column.
struct RowPlace {
  size_t block;
  int n, j, lane;
};

RowPlace place_of_row(const PanelLayout& layout, int rows, int stored_cols, int r) {
  const int panel = layout.panel_rows;
  const int panels = rows / panel;
  const int p = r / panel;
  const int p0 = p / layout.block_panels * layout.block_panels;
  return {static_cast<size_t>(p0) * panel * stored_cols,
          std::min(layout.block_panels, panels - p0), p - p0, r % panel};
}

// The element types of each format's stored form, and the bits the
// kernels see (int8 with the u8 offset where vpdpbusd wants it).
template <class T>
struct Elements;
template <>
struct Elements<float> {
  static float to_panel(float v, unsigned char) { return v; }
  static float from_panel(float v, unsigned char) { return v; }
};
template <>
struct Elements<unsigned short> {
  static unsigned short to_panel(unsigned short v, unsigned char) { return v; }
  static unsigned short from_panel(unsigned short v, unsigned char) { return v; }
};
template <>
struct Elements<signed char> {
  static signed char to_panel(signed char q, unsigned char offset) {
    return static_cast<signed char>(static_cast<unsigned char>(q) ^ offset);
  }
  static signed char from_panel(signed char v, unsigned char offset) { return to_panel(v, offset); }
};

// Calls f(T* panels) with the matrix's elements typed by its format.
template <class F>
void with_elements(const PackedMatrix& m, F&& f) {
  switch (m.format) {
    case WeightFormat::BF16: return f(const_cast<unsigned short*>(m.bf16()));
    case WeightFormat::I8: return f(const_cast<signed char*>(m.i8()));
    default: return f(const_cast<float*>(m.f32()));
  }
}

unsigned char u8_offset_of(const PanelLayout& layout) { return layout.u8_offset ? 0x80u : 0u; }

// Four floats to 16-byte aligned `to`, past the caches where the CPU can
// (x86); elsewhere an ordinary store. Streaming stores are weakly ordered:
// finish_streaming_stores fences them before the panels are read.
template <class V>
inline void stream_store(float* to, const V& v) {
#if defined(__x86_64__) || defined(__i386__)
  static_assert(sizeof(V) == sizeof(__m128), "four floats");
  __m128 x;
  std::memcpy(&x, &v, sizeof x);
  _mm_stream_ps(to, x);
#else
  std::memcpy(to, &v, sizeof v);
#endif
}

inline void finish_streaming_stores() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_sfence();
#endif
}

// out[k * column_stride + lane] = rows[lane][k] for lane < count, k < cols
// (with the int8 offset applied). Plain panels are this transpose; done in
// tiles of 4 lanes by 4 columns through 16-byte vectors (GCC and Clang
// vector extensions: SSE2 or NEON, whatever the kernels' ISA), four
// loads, eight shuffles and four stores per 16 elements, where element by
// element each one cost a reload of its row pointer (a third of a load's
// time went there).
template <class T>
void transpose_rows(const T* const* rows, int count, int cols, T* out, size_t column_stride,
                    unsigned char offset) {
  int lane0 = 0;
  if constexpr (std::is_same<T, float>::value) {
    typedef float v4 __attribute__((vector_size(16), aligned(4)));
    const int groups = count / 4;
    const bool streaming = reinterpret_cast<std::uintptr_t>(out) % 16 == 0 && column_stride % 4 == 0;
    // Columns outermost: the panel's lanes of four columns are written
    // whole (four full cache lines at 16 lanes) before the next four.
    int k = 0;
    for (; k + 4 <= cols; k += 4) {
      for (int g = 0; g < groups; ++g) {
        const float* const* r = rows + 4 * g;
        v4 a, b, c, d;
        std::memcpy(&a, r[0] + k, sizeof a);
        std::memcpy(&b, r[1] + k, sizeof b);
        std::memcpy(&c, r[2] + k, sizeof c);
        std::memcpy(&d, r[3] + k, sizeof d);
        const v4 ab_lo = __builtin_shufflevector(a, b, 0, 4, 1, 5);
        const v4 ab_hi = __builtin_shufflevector(a, b, 2, 6, 3, 7);
        const v4 cd_lo = __builtin_shufflevector(c, d, 0, 4, 1, 5);
        const v4 cd_hi = __builtin_shufflevector(c, d, 2, 6, 3, 7);
        const v4 col[4] = {__builtin_shufflevector(ab_lo, cd_lo, 0, 1, 4, 5),
                           __builtin_shufflevector(ab_lo, cd_lo, 2, 3, 6, 7),
                           __builtin_shufflevector(ab_hi, cd_hi, 0, 1, 4, 5),
                           __builtin_shufflevector(ab_hi, cd_hi, 2, 3, 6, 7)};
        float* to = out + static_cast<size_t>(k) * column_stride + 4 * g;
        // Streaming stores: a load writes more panel bytes than any cache
        // holds and the GEMMs read them later; an ordinary store would
        // first read every line it fills (docs/speed.md#loading).
        for (int q = 0; q < 4; ++q) {
          if (streaming)
            stream_store(to + q * column_stride, col[q]);
          else
            std::memcpy(to + q * column_stride, &col[q], sizeof col[q]);
        }
      }
    }
    finish_streaming_stores();
    for (; k < cols; ++k)
      for (int lane = 0; lane < 4 * groups; ++lane)
        out[static_cast<size_t>(k) * column_stride + lane] = rows[lane][k];
    lane0 = 4 * groups;
  }
  // The lanes left (all of them for bfloat16 and int8, whose plain panels
  // cost a conversion besides): column tiles, each row's part read in order.
  constexpr int kTile = 16;
  for (int k0 = 0; k0 < cols; k0 += kTile) {
    const int width = std::min(kTile, cols - k0);
    T* tile = out + static_cast<size_t>(k0) * column_stride;
    for (int lane = lane0; lane < count; ++lane) {
      const T* in = rows[lane] + k0;
      for (int kk = 0; kk < width; ++kk)
        tile[kk * column_stride + lane] = Elements<T>::to_panel(in[kk], offset);
    }
  }
}

// Rows r0 .. r0 + count - 1 (one panel, count <= panel_rows) from their
// stored form into the panels, column by column: each column's lanes land
// side by side, so the writes stream instead of striding a row apart.
template <class T>
void scatter_panel(const PackedMatrix& m, T* panels, int r0, int count, const T* const* rows) {
  const RowPlace at = place_of_row(m.layout, m.rows, m.stored_cols, r0);
  const unsigned char offset = u8_offset_of(m.layout);
  const int panel = m.layout.panel_rows;
  T* block = panels + at.block;
  if (m.layout.order == PanelOrder::Plain) {
    // A column's lanes sit side by side, columns n panels apart: the
    // panel is the transpose of its rows (see transpose_rows).
    transpose_rows(rows, count, m.cols, block + static_cast<size_t>(at.j) * panel,
                   static_cast<size_t>(at.n) * panel, offset);
    return;
  }
  with_slot(m.layout, [&](auto slot) {
    for (int k = 0; k < m.cols; ++k)
      for (int lane = 0; lane < count; ++lane)
        block[slot(at.n, at.j, lane, k, panel)] = Elements<T>::to_panel(rows[lane][k], offset);
  });
}

template <class T>
void gather_row(const PackedMatrix& m, const T* panels, int r, T* row) {
  const RowPlace at = place_of_row(m.layout, m.rows, m.stored_cols, r);
  const unsigned char offset = u8_offset_of(m.layout);
  const T* block = panels + at.block;
  with_slot(m.layout, [&](auto slot) {
    for (int k = 0; k < m.cols; ++k)
      row[k] = Elements<T>::from_panel(block[slot(at.n, at.j, at.lane, k, m.layout.panel_rows)],
                                       offset);
  });
}

// The words stored_values_hash hashes, filled row by row.
class StoredHash {
 public:
  StoredHash(const PackedMatrix& m) {
    words_.reserve(static_cast<size_t>(m.logical_rows) + 4);
    words_.push_back(static_cast<std::uint64_t>(m.logical_rows));
    words_.push_back(static_cast<std::uint64_t>(m.cols));
    words_.push_back(static_cast<std::uint64_t>(m.format));
  }
  // The rows of a panel, in order, two at a time where it can.
  template <class T>
  void rows(const T* const* elements, int count, int cols) {
    const size_t bytes = sizeof(T) * static_cast<size_t>(cols);
    int r = 0;
    for (; r + 2 <= count; r += 2) {
      std::uint64_t pair[2];
      hash64_pair(elements[r], elements[r + 1], bytes, pair);
      words_.push_back(pair[0]);
      words_.push_back(pair[1]);
    }
    for (; r < count; ++r) words_.push_back(hash64(elements[r], bytes));
  }
  std::uint64_t finish(const PackedMatrix& m) {
    if (m.format == WeightFormat::I8)
      words_.push_back(hash64(m.row_scales, sizeof(float) * static_cast<size_t>(m.logical_rows)));
    return hash64_words(words_.data(), words_.size());
  }

 private:
  std::vector<std::uint64_t> words_;
};

// "holds a non-finite value (nan) at flat index 9": validate_spec's words.
std::string nonfinite(float v, long long flat) {
  std::ostringstream s;
  s << "holds a non-finite value (" << v << ") at flat index " << flat;
  return s.str();
}

// The first non-finite of n floats, or -1.
int first_nonfinite(const float* v, int n) {
  // One branch per row: a bitwise test the compiler vectorises, then the
  // slow search only for a row that failed it.
  unsigned int all_ones = 0;
  for (int k = 0; k < n; ++k) {
    unsigned int bits;
    std::memcpy(&bits, v + k, sizeof bits);
    all_ones |= static_cast<unsigned int>((bits & 0x7F800000u) == 0x7F800000u);
  }
  if (!all_ones) return -1;
  for (int k = 0; k < n; ++k)
    if (!std::isfinite(v[k])) return k;
  return -1;
}

// max |v[k]| of n finite floats. Eight running maxima, not one: a single
// chain of maxss waits out its latency per element (a third of an int8
// load's time), and max is exact in any order, so the vectorised form
// gives the same value.
float largest_magnitude(const float* v, int n) {
  constexpr int kChains = 8;
  float peaks[kChains] = {};
  int k = 0;
  for (; k + kChains <= n; k += kChains)
    for (int j = 0; j < kChains; ++j) peaks[j] = std::max(peaks[j], std::fabs(v[k + j]));
  for (; k < n; ++k) peaks[0] = std::max(peaks[0], std::fabs(v[k]));
  float peak = 0.0f;
  for (float p : peaks) peak = std::max(peak, p);
  return peak;
}

// std::nearbyint in the default rounding mode, for |v| < 2^22, without the
// libm call that -march=x86-64 compiles nearbyint to: adding 1.5 * 2^23
// leaves no fraction bits, so the FPU rounds half to even right there. The
// core builds without -ffast-math and evaluates float in float
// (FLT_EVAL_METHOD 0), so the two roundings happen as written.
static_assert(FLT_EVAL_METHOD == 0, "round_half_even needs float arithmetic in float");
inline float round_half_even(float v) {
  constexpr float kShift = 12582912.0f;
  return (v + kShift) - kShift;
}

float widen_bf16(unsigned short b) {
  const unsigned int bits = static_cast<unsigned int>(b) << 16;
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// Fills each stored row of the source into the panels: `convert(r, src,
// buffer)` returns the row's stored elements (src itself or buffer) or
// null, having written the problem where its caller reads it.
template <class T, class Convert>
void pack_rows(PackedMatrix& m, const MatrixView& source, StoredHash& hash, Convert convert) {
  T* panels = reinterpret_cast<T*>(const_cast<void*>(m.weights));
  const int panel = m.layout.panel_rows;
  std::vector<T> buffer(static_cast<size_t>(panel) * m.cols);
  std::vector<const T*> rows(static_cast<size_t>(panel));
  const char* base = static_cast<const char*>(source.data);
  const size_t source_bytes = source.stored ? sizeof(T) : sizeof(float);
  for (int r0 = 0; r0 < m.logical_rows; r0 += panel) {
    const int count = std::min(panel, m.logical_rows - r0);
    for (int lane = 0; lane < count; ++lane) {
      const int r = r0 + lane;
      const void* src = base + static_cast<std::ptrdiff_t>(r) * source.row_stride *
                                   static_cast<std::ptrdiff_t>(source_bytes);
      rows[lane] = convert(r, src, buffer.data() + static_cast<size_t>(lane) * m.cols);
      if (!rows[lane]) return;
    }
    hash.rows(rows.data(), count, m.cols);
    scatter_panel(m, panels, r0, count, rows.data());
  }
}

}  // namespace

size_t element_offset(const PanelLayout& layout, int rows, int stored_cols, int r, int k) {
  const RowPlace at = place_of_row(layout, rows, stored_cols, r);
  size_t offset = 0;
  with_slot(layout, [&](auto slot) {
    offset = at.block + slot(at.n, at.j, at.lane, k, layout.panel_rows);
  });
  return offset;
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
    case WeightFormat::BF16: return widen_bf16(bf16()[at]);
    case WeightFormat::I8: {
      return static_cast<float>(Elements<signed char>::from_panel(i8()[at], u8_offset_of(layout))) *
             row_scales[r];
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
  const size_t weight_bytes = m.bytes();
  const size_t scale_offset = (weight_bytes + 63) / 64 * 64;
  const size_t scale_bytes = format == WeightFormat::I8 ? sizeof(float) * m.rows : 0;
  PanelMemory buffer = panel_memory(scale_offset + scale_bytes, weight_bytes);
  char* base = static_cast<char*>(buffer.memory.get());
  // The packers write every element of a logical row; padding rows and
  // columns, and padding rows' scales, must read 0.
  const bool padded = m.rows != m.logical_rows || m.stored_cols != m.cols;
  if (!buffer.zeroed && padded) std::memset(base, 0, weight_bytes);
  if (!buffer.zeroed) std::memset(base + scale_offset, 0, scale_bytes);
  m.weights = base;
  if (format == WeightFormat::I8) m.row_scales = reinterpret_cast<const float*>(base + scale_offset);
  m.storage = buffer.memory;
  return m;
}

PackedMatrix pack_view(const MatrixView& source, const KernelTable& kernels,
                       WeightFormat format, bool int8_activations, PackReport* report) {
  const bool act8 = format == WeightFormat::I8 && int8_activations;
  PackedMatrix m = allocate_packed(format, act8, panel_layout_for(kernels, format, act8),
                                   source.rows, source.cols);
  const int cols = source.cols;
  // The buffer is this function's own until it returns.
  float* scales = const_cast<float*>(m.row_scales);
  const auto flat = [cols](int r, int k) { return static_cast<long long>(r) * cols + k; };
  // Row r of float32 values, or null with `problem` set when it holds a NaN or Inf.
  std::string problem;
  const auto finite_row = [&](const void* src, int r) -> const float* {
    const float* row = static_cast<const float*>(src);
    const int bad = first_nonfinite(row, cols);
    if (bad < 0) return row;
    problem = nonfinite(row[bad], flat(r, bad));
    return nullptr;
  };

  StoredHash hash(m);
  const bool stored = source.stored;
  switch (format) {
    case WeightFormat::F32:
      pack_rows<float>(m, source, hash, [&](int r, const void* src, float*) {
        return finite_row(src, r);
      });
      break;
    case WeightFormat::BF16:
      pack_rows<unsigned short>(m, source, hash,
                                [&](int r, const void* src, unsigned short* out) -> const unsigned short* {
        if (stored) {
          const unsigned short* row = static_cast<const unsigned short*>(src);
          for (int k = 0; k < cols; ++k)
            if ((row[k] & 0x7F80u) == 0x7F80u) {
              problem = nonfinite(widen_bf16(row[k]), flat(r, k));
              return nullptr;
            }
          return row;
        }
        const float* row = finite_row(src, r);
        if (!row) return nullptr;
        for (int k = 0; k < cols; ++k) out[k] = round_to_bf16(row[k]);
        return out;
      });
      break;
    case WeightFormat::I8:
      pack_rows<signed char>(m, source, hash,
                             [&](int r, const void* src, signed char* out) -> const signed char* {
        if (stored) {
          const signed char* row = static_cast<const signed char*>(src);
          const float scale = source.row_scales[r];
          if (!(std::isfinite(scale) && scale > 0.0f)) {
            std::ostringstream s;
            s << "has row scale " << scale << " at row " << r << ", not a positive finite number";
            problem = s.str();
            return nullptr;
          }
          for (int k = 0; k < cols; ++k)
            if (row[k] == -128) {
              problem = "holds q = -128 at flat index " + std::to_string(flat(r, k)) +
                        ", outside the int8 range [-127, 127] lnfast stores";
              return nullptr;
            }
          scales[r] = scale;
          return row;
        }
        // Symmetric per-row scale: the largest |w| of a row maps to 127.
        const float* row = finite_row(src, r);
        if (!row) return nullptr;
        const float peak = largest_magnitude(row, cols);
        scales[r] = peak > 0.0f ? peak / 127.0f : 1.0f;
        const float inverse = peak > 0.0f ? 127.0f / peak : 0.0f;
        for (int k = 0; k < cols; ++k)
          out[k] = static_cast<signed char>(
              std::max(-127.0f, std::min(127.0f, round_half_even(row[k] * inverse))));
        return out;
      });
      break;
  }
  if (problem.empty()) {
    const std::uint64_t h = hash.finish(m);
    if (report) report->stored_hash = h;
  } else if (report) {
    report->problem = problem;
  } else {
    throw std::invalid_argument("matrix " + problem);
  }
  return m;
}

PackedMatrix pack_matrix(const float* w, int rows, int cols, std::ptrdiff_t row_stride,
                         const KernelTable& kernels, WeightFormat format,
                         bool int8_activations) {
  MatrixView view;
  view.data = w;
  view.rows = rows;
  view.cols = cols;
  view.row_stride = row_stride;
  return pack_view(view, kernels, format, int8_activations);
}

PackedMatrix pack_matrix(const std::vector<float>& w, int rows, int cols,
                         const KernelTable& kernels, WeightFormat format,
                         bool int8_activations) {
  return pack_matrix(w.data(), rows, cols, cols, kernels, format, int8_activations);
}

std::uint64_t stored_values_hash(const PackedMatrix& m) {
  StoredHash hash(m);
  with_elements(m, [&](auto* panels) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(panels)>>;
    std::vector<T> row(static_cast<size_t>(m.cols));
    for (int r = 0; r < m.logical_rows; ++r) {
      gather_row(m, panels, r, row.data());
      const T* one = row.data();
      hash.rows(&one, 1, m.cols);
    }
  });
  return hash.finish(m);
}

void read_stored(const PackedMatrix& m, void* elements, float* row_scales) {
  with_elements(m, [&](auto* panels) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(panels)>>;
    T* out = static_cast<T*>(elements);
    for (int r = 0; r < m.logical_rows; ++r)
      gather_row(m, panels, r, out + static_cast<size_t>(r) * m.cols);
  });
  if (m.format == WeightFormat::I8)
    std::copy(m.row_scales, m.row_scales + m.logical_rows, row_scales);
}

void copy_stored_elements(const PackedMatrix& from, PackedMatrix& to) {
  with_elements(from, [&](auto* source) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(source)>>;
    T* target = static_cast<T*>(const_cast<void*>(to.weights));
    const int panel = to.layout.panel_rows;
    std::vector<T> buffer(static_cast<size_t>(panel) * from.cols);
    std::vector<const T*> rows(static_cast<size_t>(panel));
    for (int r0 = 0; r0 < from.logical_rows; r0 += panel) {
      const int count = std::min(panel, from.logical_rows - r0);
      for (int lane = 0; lane < count; ++lane) {
        T* row = buffer.data() + static_cast<size_t>(lane) * from.cols;
        gather_row(from, source, r0 + lane, row);
        rows[lane] = row;
      }
      scatter_panel(to, target, r0, count, rows.data());
    }
  });
}

void unpack_values(const PackedMatrix& m, float* out) {
  with_elements(m, [&](auto* panels) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(panels)>>;
    std::vector<T> row(static_cast<size_t>(m.cols));
    for (int r = 0; r < m.logical_rows; ++r) {
      gather_row(m, panels, r, row.data());
      float* dst = out + static_cast<size_t>(r) * m.cols;
      for (int k = 0; k < m.cols; ++k) {
        if constexpr (std::is_same_v<T, unsigned short>) dst[k] = widen_bf16(row[k]);
        else if constexpr (std::is_same_v<T, signed char>) dst[k] = static_cast<float>(row[k]) * m.row_scales[r];
        else dst[k] = row[k];
      }
    }
  });
}

std::vector<float> pack_panels(const std::vector<float>& w, int rows, int cols,
                               int panel, int block_panels) {
  PackedMatrix m;
  m.layout.panel_rows = panel;
  m.layout.block_panels = block_panels;
  m.logical_rows = rows;
  m.rows = (rows + panel - 1) / panel * panel;
  m.cols = m.stored_cols = cols;
  std::vector<float> out(static_cast<size_t>(m.rows) * cols, 0.0f);
  for (int r0 = 0; r0 < rows; r0 += panel) {
    const int count = std::min(panel, rows - r0);
    std::vector<const float*> lanes;
    for (int lane = 0; lane < count; ++lane) lanes.push_back(w.data() + static_cast<size_t>(r0 + lane) * cols);
    scatter_panel(m, out.data(), r0, count, lanes.data());
  }
  return out;
}

}  // namespace lnfast
