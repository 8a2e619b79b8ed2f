// Every cell variant as a 2-layer stack (13 -> 37 -> 17) through lnfast's
// Model on every path (instruction set x weight format x dot products on
// or off), against the float64 reference over 1,000 steps. Bounds as in
// the Python suite: fp32 1e-5 (README, Numerics); bf16 0.1 and int8 0.2
// (tests/test_weight_formats.py; those are against the fp32 model, which
// is itself within 1e-5 of float64). Reduced formats must also differ
// from float64 at all (the rounding is really there), and a sequence run
// must give the bits of stepping.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cell_variants.hpp"
#include "check.hpp"
#include "kernel_paths.hpp"
#include "lnfast/model.hpp"
#include "lnfast/threads.hpp"
#include "reference_cells.hpp"
#include "test_random.hpp"

namespace lnfast_test {
namespace {

using lnfast::Isa;
using lnfast::WeightFormat;

constexpr int kSteps = 1000, kInput = 13, kHidden1 = 37, kHidden2 = 17;
// int8 activations add each input's rounding (up to max|x| / 254, the
// size of the weights' own) to int8's: measured 0.10 at worst over these
// variants (int8 alone 0.06), so int8's bound holds with a 2x margin.
constexpr double kInt8ActivationsBound = 0.2;

struct CellPath {
  Isa isa;
  WeightFormat format;
  bool dot;  // the format's dot-product GEMM, where the CPU has one
  std::string name;
  double bound;
  bool int8_activations = false;
};

const char* dot_variable(WeightFormat f) {
  return f == WeightFormat::I8 ? "LNFAST_I8_DOT" : "LNFAST_BF16_DOT";
}

bool uses_dot(const lnfast::KernelTable& k, WeightFormat f) {
  return f == WeightFormat::I8 ? k.i8_quads_along_k
         : f == WeightFormat::BF16 ? k.bf16_pairs_along_k : false;
}

std::vector<CellPath> cell_paths() {
  std::vector<CellPath> out;
  for (Isa isa : lnfast::supported_isas()) {
    out.push_back({isa, WeightFormat::F32, false, std::string(lnfast::isa_name(isa)) + " fp32", 1e-5});
    for (WeightFormat f : {WeightFormat::BF16, WeightFormat::I8}) {
      const double bound = f == WeightFormat::BF16 ? 0.1 : 0.2;
      const char* fname = f == WeightFormat::BF16 ? " bf16" : " int8";
      const std::string widened = std::string(lnfast::isa_name(isa)) + fname;
      out.push_back({isa, f, false, widened, bound});
      if (uses_dot(lnfast::kernels_for(isa), f))
        out.push_back({isa, f, true, widened + " on " + dot_name(isa, f), bound});
    }
    // int8 weights by int8 activations: the widening path everywhere, and
    // vpdpbusd where the CPU has it (LNFAST_I8_DOT switches it too).
    const std::string act8 = std::string(lnfast::isa_name(isa)) + " int8 x int8";
    out.push_back({isa, WeightFormat::I8, false, act8, kInt8ActivationsBound, true});
    if (lnfast::kernels_for(isa).i8_act8_u8_quads)
      out.push_back({isa, WeightFormat::I8, true, act8 + " on vpdpbusd", kInt8ActivationsBound, true});
  }
  return out;
}

std::vector<float> run_model(const CellPath& p, const std::vector<lnfast::LayerSpec>& layers,
                             const std::vector<float>& X, const std::string& what) {
  ScopedEnv dot(dot_variable(p.format), p.dot ? nullptr : "0");
  auto model = std::make_shared<const lnfast::Model>(layers, p.isa, p.format,
                                                       p.int8_activations);
  lnfast::Stream run(model), stepped(model);
  const int out_size = model->hidden_size();  // a projection's P
  std::vector<float> out(static_cast<size_t>(kSteps) * out_size);
  run.run(X.data(), kSteps, out.data());
  // The first 50 steps one at a time: the same bits as the run.
  std::vector<float> h(out_size);
  bool same = true;
  for (int t = 0; t < 50; ++t) {
    stepped.step(&X[t * kInput], h.data());
    same = same && std::equal(h.begin(), h.end(), &out[t * out_size]);
  }
  check(same, what + ": stepping gives the run's bits");
  return out;
}

// A layer whose matrices are large enough (1024 x 256 = 256K weights, the
// threshold) for their GEMM rows to be split between two threads gives
// the bits of one thread on every path: the split must find each part's
// weights in every packed layout.
void test_split_rows(const std::vector<CellPath>& paths) {
  std::mt19937 rng(5);
  const int size = 256, steps = 10;
  const std::vector<lnfast::LayerSpec> layers = {make_layer("lstm_separate_state", size, size, rng)};
  const std::vector<float> X = normal_vector(rng, static_cast<size_t>(steps) * size);
  for (const CellPath& p : paths) {
    ScopedEnv dot(dot_variable(p.format), p.dot ? nullptr : "0");
    auto model = std::make_shared<const lnfast::Model>(layers, p.isa, p.format,
                                                       p.int8_activations);
    std::vector<float> one(static_cast<size_t>(steps) * size), two(one.size());
    lnfast::set_num_threads(1);
    lnfast::Stream(model).run(X.data(), steps, one.data());
    lnfast::set_num_threads(2);
    lnfast::Stream(model).run(X.data(), steps, two.data());
    lnfast::set_num_threads(1);
    check(one == two, p.name + ": two threads give one thread's bits");
  }
}

}  // namespace

void test_cells() {
  const std::vector<CellPath> paths = cell_paths();
  std::vector<double> worst(paths.size(), 0.0), least(paths.size(), 1e30);
  int variants = 0;
  auto check_stack = [&](const std::string& kind, const std::vector<lnfast::LayerSpec>& layers,
                         std::mt19937& rng) {
    ++variants;
    const std::vector<float> X = normal_vector(rng, static_cast<size_t>(kSteps) * kInput);
    ReferenceStack reference(layers);
    std::vector<double> want;
    for (int t = 0; t < kSteps; ++t) {
      const std::vector<double>& h = reference.step(&X[t * kInput]);
      want.insert(want.end(), h.begin(), h.end());
    }
    for (size_t i = 0; i < paths.size(); ++i) {
      const CellPath& p = paths[i];
      const std::string what = kind + " on " + p.name;
      const std::vector<float> got = run_model(p, layers, X, what);
      double err = 0.0;
      for (size_t j = 0; j < want.size(); ++j) err = std::max(err, std::fabs(got[j] - want[j]));
      worst[i] = std::max(worst[i], err);
      least[i] = std::min(least[i], err);
      check(err <= p.bound && (p.format == WeightFormat::F32 || err > 0),
            what + ": max |h - float64| " + std::to_string(err));
    }
  };
  for (const char* kind : kVariants) {
    std::mt19937 rng(3);
    check_stack(kind, {make_layer(kind, kInput, kHidden1, rng),
                       make_layer(kind, kHidden1, kHidden2, rng)}, rng);
  }
  // Every LSTM variant with a projection: h of the lower layer (P units)
  // is the upper layer's input.
  for (const char* kind : kVariants) {
    if (std::string(kind).rfind("lstm", 0) != 0) continue;
    std::mt19937 rng(5);
    const int P = 11;  // below both hidden sizes
    check_stack(std::string(kind) + "+proj",
                {make_projected_layer(kind, kInput, kHidden1, P, rng),
                 make_projected_layer(kind, P, kHidden2, P, rng)}, rng);
  }
  for (size_t i = 0; i < paths.size(); ++i)
    std::printf("cells %-26s %zu variants x %d steps: max |h - float64| %.2e to %.2e (bound %.0e)\n",
                paths[i].name.c_str(), static_cast<size_t>(variants), kSteps, least[i], worst[i],
                paths[i].bound);
  test_split_rows(paths);
}

}  // namespace lnfast_test
