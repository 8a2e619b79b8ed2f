// hash64 is XXH64: the published values of the reference implementation,
// and hash64_pair equal to two hash64 calls on every length class (below
// one stripe, whole stripes, stripes with 8-, 4- and 1-byte tails).
#include <cstdint>
#include <string>
#include <vector>

#include "check.hpp"
#include "lnfast/hash64.hpp"

namespace lnfast_test {

void test_hash64() {
  using lnfast::hash64;
  struct Known {
    const char* text;
    std::uint64_t seed, value;
  };
  // From the xxHash reference implementation (XXH64 of ASCII text).
  for (const Known& k : {Known{"", 0, 0xEF46DB3751D8E999ULL}, Known{"a", 0, 0xD24EC4F1A98C6E5BULL},
                         Known{"abc", 0, 0x44BC2CF5AD770999ULL},
                         Known{"Nobody inspects the spammish repetition", 0,
                               0xFBCEA83C8A378BF1ULL}}) {
    const std::string text = k.text;
    check(hash64(text.data(), text.size(), k.seed) == k.value, "XXH64 of \"" + text + "\"");
  }

  std::vector<unsigned char> a(4100), b(4100);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<unsigned char>(i * 131 + 7);
    b[i] = static_cast<unsigned char>(i * 29 + 3);
  }
  for (std::size_t n : {0, 1, 3, 17, 31, 32, 33, 37, 44, 64, 1000, 4096, 4099}) {
    for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{0x9E3779B97F4A7C15ULL}}) {
      std::uint64_t pair[2];
      lnfast::hash64_pair(a.data(), b.data(), n, pair, seed);
      check(pair[0] == hash64(a.data(), n, seed) && pair[1] == hash64(b.data(), n, seed),
            "hash64_pair equals two hash64 calls at " + std::to_string(n) + " bytes");
    }
  }
}

}  // namespace lnfast_test
