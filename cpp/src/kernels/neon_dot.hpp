// The ARMv8.2+ dot-product GEMMs, each defined in its own file built with
// its own -march extension; isa_detect.cpp installs them into the NEON
// table only when the CPU reports the instructions.
#pragma once

namespace lnfast {

// gemm_i8 through SDOT, weights packed in quads along k
// (KernelTable::i8_quads_along_k), activations as two int8 digits (see
// int8_input_digits).
void gemm_i8_sdot(const signed char* packed, const float* row_scales, int rows,
                  int cols, const float* x, int ldx, int batch, float* y,
                  int ldy, bool accumulate);

// gemm_bf16 through BFDOT, weights packed in pairs along k
// (KernelTable::bf16_pairs_along_k), inputs rounded to bf16 like
// AVX512_BF16's vdpbf16ps.
void gemm_bf16_bfdot(const unsigned short* packed, int rows, int cols,
                     const float* x, int ldx, int batch, float* y, int ldy,
                     bool accumulate);

}  // namespace lnfast
