// Opt-in intra-step parallelism: the output rows of a large layer's GEMMs
// are split between the calling thread and helper threads. Results are
// bit-identical to one thread (each output is the same FMA chain whoever
// computes it). Off (1 thread) by default.
#pragma once

namespace lnfast {

// Total threads a step may use, the caller included; n >= 1.
void set_num_threads(int n);
int num_threads();

}  // namespace lnfast
