// The L1 data cache the batched GEMMs size their column slices for.
#pragma once

namespace lnfast {

// Bytes of L1 data cache per core, as the OS reports it (32 KiB where it
// says nothing), read once.
long l1_data_bytes();

// The bytes of weights a batched GEMM keeps in L1 per slice of k: two
// thirds of it, leaving room for the inputs' slice and the prefetched
// start of the next (on Zen 5's 48 KiB, step_many at H = 256 ran ~3%
// faster with 32 KiB slices than with 24 or 40).
inline long gemm_slice_bytes() { return l1_data_bytes() * 2 / 3; }

}  // namespace lnfast
