// Reading and appending little-endian numbers, whatever the host's order.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace lnfast {
namespace model_file {

inline std::uint64_t load_le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint32_t load_u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(load_le(p, 4));
}
inline std::uint64_t load_u64(const unsigned char* p) { return load_le(p, 8); }
inline float load_f32(const unsigned char* p) {
  const std::uint32_t bits = load_u32(p);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline void store_le(unsigned char* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i, v >>= 8) p[i] = static_cast<unsigned char>(v);
}

// Appends to a growing byte buffer.
class ByteWriter {
 public:
  void u16(std::uint16_t v) { append(v, 2); }
  void u32(std::uint32_t v) { append(v, 4); }
  void u64(std::uint64_t v) { append(v, 8); }
  void f32(float f) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    u32(bits);
  }
  void bytes(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    out.insert(out.end(), b, b + n);
  }
  void zeros(std::size_t n) { out.insert(out.end(), n, 0); }
  void align(std::size_t to) { zeros((to - out.size() % to) % to); }
  std::size_t size() const { return out.size(); }

  std::vector<unsigned char> out;

 private:
  void append(std::uint64_t v, int n) {
    out.resize(out.size() + n);
    store_le(out.data() + out.size() - n, v, n);
  }
};

}  // namespace model_file
}  // namespace lnfast
