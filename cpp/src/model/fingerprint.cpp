#include "lnfast/fingerprint.hpp"

#include <cstring>

namespace lnfast {
namespace {

constexpr std::uint64_t kP1 = 11400714785074694791ULL;
constexpr std::uint64_t kP2 = 14029467366897019727ULL;
constexpr std::uint64_t kP3 = 1609587929392839161ULL;
constexpr std::uint64_t kP4 = 9650029242287828579ULL;
constexpr std::uint64_t kP5 = 2870177450012600261ULL;

// Bumped whenever the record below changes, so an old fingerprint can never
// match a model hashed another way.
constexpr std::uint64_t kFingerprintScheme = 1;
// Precedes a GRU's reset placement and update bias when they are not the
// defaults (see model_fingerprint).
constexpr std::uint64_t kGruOptionsMarker = 0x6c6e666772750001ULL;

std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

std::uint64_t little_endian(std::uint64_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return __builtin_bswap64(v);
#else
  return v;
#endif
}

std::uint64_t read64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return little_endian(v);
}

std::uint32_t read32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

std::uint64_t round64(std::uint64_t acc, std::uint64_t input) {
  acc += input * kP2;
  return rotl(acc, 31) * kP1;
}

std::uint64_t merge_round(std::uint64_t acc, std::uint64_t lane) {
  acc ^= round64(0, lane);
  return acc * kP1 + kP4;
}

std::uint64_t float_bits(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// The model as a list of 64-bit words: every scalar field, and for every
// array its length and its hash (so an empty bias differs from a zero one).
class Record {
 public:
  void add(std::uint64_t v) { words_.push_back(little_endian(v)); }
  void add(const std::vector<float>& values) {
    add(values.size());
    add(hash64(values.data(), values.size() * sizeof(float)));
  }
  void add(const Norm& n) {
    add(static_cast<std::uint64_t>(n.offset));
    add(static_cast<std::uint64_t>(n.size));
    add(n.gamma);
    add(n.beta);
    add(float_bits(n.eps));
  }
  void add(const std::vector<Norm>& norms) {
    add(norms.size());
    for (const Norm& n : norms) add(n);
  }
  std::uint64_t hash() const { return hash64(words_.data(), words_.size() * 8); }

 private:
  std::vector<std::uint64_t> words_;
};

}  // namespace

std::uint64_t hash64(const void* data, std::size_t bytes, std::uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  const unsigned char* end = p + bytes;
  std::uint64_t h;
  if (bytes >= 32) {
    std::uint64_t v1 = seed + kP1 + kP2, v2 = seed + kP2, v3 = seed, v4 = seed - kP1;
    const unsigned char* last_block = end - 32;
    do {
      v1 = round64(v1, read64(p));
      v2 = round64(v2, read64(p + 8));
      v3 = round64(v3, read64(p + 16));
      v4 = round64(v4, read64(p + 24));
      p += 32;
    } while (p <= last_block);
    h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    h = merge_round(h, v1);
    h = merge_round(h, v2);
    h = merge_round(h, v3);
    h = merge_round(h, v4);
  } else {
    h = seed + kP5;
  }
  h += static_cast<std::uint64_t>(bytes);
  for (; p + 8 <= end; p += 8) {
    h ^= round64(0, read64(p));
    h = rotl(h, 27) * kP1 + kP4;
  }
  if (p + 4 <= end) {
    h ^= static_cast<std::uint64_t>(read32(p)) * kP1;
    h = rotl(h, 23) * kP2 + kP3;
    p += 4;
  }
  for (; p < end; ++p) {
    h ^= static_cast<std::uint64_t>(*p) * kP5;
    h = rotl(h, 11) * kP1;
  }
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

std::uint64_t model_fingerprint(const std::vector<LayerSpec>& layers, WeightFormat weights) {
  Record r;
  r.add(kFingerprintScheme);
  r.add(static_cast<std::uint64_t>(weights));
  r.add(layers.size());
  for (const LayerSpec& s : layers) {
    r.add(static_cast<std::uint64_t>(s.type));
    r.add(static_cast<std::uint64_t>(s.input_size));
    r.add(static_cast<std::uint64_t>(s.hidden_size));
    r.add(s.w_ih);
    r.add(s.w_hh);
    r.add(s.b_ih);
    r.add(s.b_hh);
    r.add(s.x_norms);
    r.add(s.h_norms);
    r.add(s.gate_norms);
    r.add(static_cast<std::uint64_t>(s.cell_norm));
    r.add(s.c_norm);
    r.add(static_cast<std::uint64_t>(s.activation));
    r.add(float_bits(s.forget_bias));
    r.add(s.gru_paper_update ? 1 : 0);
    r.add(float_bits(s.zoneout));
    // Only projected layers add these, so every earlier fingerprint holds.
    if (s.proj_size > 0) {
      r.add(static_cast<std::uint64_t>(s.proj_size));
      r.add(s.w_hr);
    }
    // Likewise only GRUs with a non-default reset or update bias, after a
    // marker no size or count above can take.
    if (s.gru_reset != GruReset::Recurrent || s.update_bias != 0.0f) {
      r.add(kGruOptionsMarker);
      r.add(static_cast<std::uint64_t>(s.gru_reset));
      r.add(float_bits(s.update_bias));
    }
  }
  return r.hash();
}

std::string fingerprint_hex(std::uint64_t fingerprint) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, fingerprint >>= 4) out[i] = kDigits[fingerprint & 15];
  return out;
}

}  // namespace lnfast
