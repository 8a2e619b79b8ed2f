// Seeded random test data (std::mt19937 is the same on every platform).
#pragma once

#include <cmath>
#include <random>
#include <vector>

namespace lnfast_test {

inline std::vector<float> uniform_vector(std::mt19937& rng, size_t n, double lo, double hi) {
  std::vector<float> out(n);
  for (float& v : out)
    v = static_cast<float>(lo + (hi - lo) * (static_cast<double>(rng()) / 4294967296.0));
  return out;
}

// Roughly normal (sum of 4 uniforms, mean 0, std 1): portable across
// standard libraries, unlike std::normal_distribution.
inline std::vector<float> normal_vector(std::mt19937& rng, size_t n, double mean = 0.0,
                                        double std = 1.0) {
  std::vector<float> out(n);
  for (float& v : out) {
    double s = 0.0;
    for (int j = 0; j < 4; ++j) s += static_cast<double>(rng()) / 4294967296.0;
    v = static_cast<float>(mean + std * (s - 2.0) * std::sqrt(3.0));
  }
  return out;
}

constexpr int kOddSizes[] = {1, 3, 17, 37, 1000};

}  // namespace lnfast_test
