// XXH64 (see lnfast/hash64.hpp).
#include "lnfast/hash64.hpp"

#include <cstring>
#include <vector>

namespace lnfast {
namespace {

constexpr std::uint64_t kP1 = 11400714785074694791ULL;
constexpr std::uint64_t kP2 = 14029467366897019727ULL;
constexpr std::uint64_t kP3 = 1609587929392839161ULL;
constexpr std::uint64_t kP4 = 9650029242287828579ULL;
constexpr std::uint64_t kP5 = 2870177450012600261ULL;

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

// XXH64's four accumulators over the 32-byte stripes.
struct Lanes {
  std::uint64_t v1, v2, v3, v4;
  explicit Lanes(std::uint64_t seed) : v1(seed + kP1 + kP2), v2(seed + kP2), v3(seed), v4(seed - kP1) {}
  void stripe(const unsigned char* p) {
    v1 = round64(v1, read64(p));
    v2 = round64(v2, read64(p + 8));
    v3 = round64(v3, read64(p + 16));
    v4 = round64(v4, read64(p + 24));
  }
  std::uint64_t converge() const {
    std::uint64_t h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    h = merge_round(h, v1);
    h = merge_round(h, v2);
    h = merge_round(h, v3);
    return merge_round(h, v4);
  }
};

std::size_t stripe_bytes(std::size_t bytes) { return bytes / 32 * 32; }

// The bytes after the stripes, and the final avalanche.
std::uint64_t finish(std::uint64_t h, const unsigned char* p, const unsigned char* end,
                     std::size_t bytes) {
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

}  // namespace

std::uint64_t hash64(const void* data, std::size_t bytes, std::uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  if (bytes < 32) return finish(seed + kP5, p, p + bytes, bytes);
  Lanes lanes(seed);
  const std::size_t striped = stripe_bytes(bytes);
  for (std::size_t at = 0; at < striped; at += 32) lanes.stripe(p + at);
  return finish(lanes.converge(), p + striped, p + bytes, bytes);
}

void hash64_pair(const void* a, const void* b, std::size_t bytes, std::uint64_t out[2],
                 std::uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(a);
  const auto* q = static_cast<const unsigned char*>(b);
  if (bytes < 32) {
    out[0] = hash64(a, bytes, seed);
    out[1] = hash64(b, bytes, seed);
    return;
  }
  // One loop over both: eight independent multiply chains instead of
  // four, which is what bounds XXH64's speed.
  Lanes x(seed), y(seed);
  const std::size_t striped = stripe_bytes(bytes);
  for (std::size_t at = 0; at < striped; at += 32) {
    x.stripe(p + at);
    y.stripe(q + at);
  }
  out[0] = finish(x.converge(), p + striped, p + bytes, bytes);
  out[1] = finish(y.converge(), q + striped, q + bytes, bytes);
}

std::uint64_t hash64_words(const std::uint64_t* words, std::size_t count, std::uint64_t seed) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  std::vector<std::uint64_t> swapped(words, words + count);
  for (std::uint64_t& w : swapped) w = little_endian(w);
  return hash64(swapped.data(), count * sizeof(std::uint64_t), seed);
#else
  return hash64(words, count * sizeof(std::uint64_t), seed);
#endif
}

}  // namespace lnfast
