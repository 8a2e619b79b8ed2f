#include "check.hpp"

#include <cstdio>
#include <map>
#include <utility>

namespace lnfast_test {
namespace {
int passed = 0, failed = 0;
std::map<std::string, std::pair<double, double>>& worst() {
  static std::map<std::string, std::pair<double, double>> table;
  return table;
}
}  // namespace

bool check(bool ok, const std::string& what) {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    std::printf("FAILED: %s\n", what.c_str());
  }
  return ok;
}

void record_error(const std::string& label, double error, double bound) {
  auto it = worst().find(label);
  if (it == worst().end() || error > it->second.first) worst()[label] = {error, bound};
}

void print_worst_errors() {
  std::printf("worst measured errors (error / its bound):\n");
  for (const auto& [label, e] : worst())
    if (e.second > 0)
      std::printf("  %-52s %.3g / %.3g\n", label.c_str(), e.first, e.second);
    else
      std::printf("  %-52s %.3g\n", label.c_str(), e.first);
}

int passed_count() { return passed; }
int failed_count() { return failed; }

}  // namespace lnfast_test
