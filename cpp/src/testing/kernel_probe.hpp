// Direct access to single kernels of one instruction set, for tests that
// check each against a plain reference, and for the benchmark's floor.
#pragma once

#include <string>
#include <vector>

#include "lnfast/isa.hpp"

namespace lnfast {
class Model;

namespace probe {

void moments(Isa isa, const std::vector<float>& x, float* mean, float* var);
std::vector<float> layer_norm(Isa isa, const std::vector<float>& x,
                              const std::vector<float>& gamma,
                              const std::vector<float>& beta, float eps);
std::vector<float> sigmoid(Isa isa, const std::vector<float>& x);
std::vector<float> tanh(Isa isa, const std::vector<float>& x);
// Y = X W^T (+ Y0) through the packed GEMM; W is rows x cols, X batch x cols.
std::vector<float> gemm(Isa isa, const std::vector<float>& w, int rows,
                        int cols, const std::vector<float>& x, int batch,
                        const std::vector<float>& y0);
// Whether bf16 weights go through AVX512_BF16 dot products on this ISA.
bool bf16_dot_products(Isa isa);
// Whether int8 activations go through integer dot products on this ISA.
bool int8_activation_dot_products(Isa isa);
// Seconds taken by each of `repeats` passes over the model's packed weight
// bytes with full-width loads and no arithmetic worth the name.
std::vector<double> weight_pass_seconds(const Model& model, int repeats);

// The compute peak the benchmark measures step_many against: `repeats`
// timed runs of `iterations` rounds of a register-only loop of one
// instruction ("fp32": FMA; "bf16": vdpbf16ps; "int8": vpdpbusd) in this
// ISA's kernel table, and the arithmetic operations each run does.
struct PeakRuns {
  double ops_per_run = 0;
  std::vector<double> seconds;
};
// The kinds, in the order the benchmark reports them.
const std::vector<std::string>& peak_kinds();
PeakRuns compute_peak(Isa isa, const std::string& kind, long iterations, int repeats);

}  // namespace probe
}  // namespace lnfast
