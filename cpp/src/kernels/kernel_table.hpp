// The kernels every cell is composed from, one table per instruction set.
// Cells call through these pointers only; each ISA's translation unit fills
// a table with code compiled under its own flags.
#pragma once

#include "lnfast/isa.hpp"

namespace lnfast {

struct KernelTable {
  Isa isa;
  // Rows per packed weight panel (one SIMD register of outputs), and
  // panels per block (pack_panels lays a block's panels side by side).
  int panel_rows;
  int block_panels;

  // y[t][r] (+)= sum_k W[r][k] * x[t][k] for t < batch, r < rows, where W is
  // packed by pack_panels (rows a multiple of panel_rows). With accumulate
  // the sum starts from y, otherwise from 0; each output is one FMA chain
  // over k in ascending order whatever the batch, so a sequence run gives
  // the same bits as single steps.
  void (*gemm)(const float* packed, int rows, int cols, const float* x,
               int ldx, int batch, float* y, int ldy, bool accumulate);
  // The same over bfloat16 weights, widened to float32 as they are loaded.
  void (*gemm_bf16)(const unsigned short* packed, int rows, int cols,
                    const float* x, int ldx, int batch, float* y, int ldy,
                    bool accumulate);
  // The same over int8 weights: y (+)= scale[r] * sum_k q[r][k] * x[k],
  // the sum one FMA chain from 0, then scaled into y.
  void (*gemm_i8)(const signed char* packed, const float* row_scales, int rows,
                  int cols, const float* x, int ldx, int batch, float* y,
                  int ldy, bool accumulate);
  // int8 weights by activations quantized to one int8 each per input (a
  // dynamic scale max|x| / 127 per input row), summed in int32 where the
  // CPU has integer dot products and dequantized once per output:
  // y (+)= scale[r] * (max|x_t| / 127) * sum_k q[r][k] * round(127 x_t[k] / max|x_t|).
  // Elsewhere the inputs are rounded to that grid and go through gemm_i8.
  void (*gemm_i8_act8)(const signed char* packed, const float* row_scales,
                       int rows, int cols, const float* x, int ldx, int batch,
                       float* y, int ldy, bool accumulate);

  // Population mean and variance by per-lane Welford merged with Chan.
  void (*moments)(const float* x, int n, float* mean, float* var);
  // out (+)= gamma * (x - mean) * rstd + beta.
  void (*normalize)(const float* x, int n, float mean, float rstd,
                    const float* gamma, const float* beta, float* out,
                    bool accumulate);

  void (*add)(const float* a, const float* b, float* out, int n);
  // out = a + b * c
  void (*mul_add)(const float* a, const float* b, const float* c, float* out,
                  int n);
  // out = a + t * (b - a), t a vector
  void (*lerp)(const float* t, const float* a, const float* b, float* out,
               int n);
  // out = a + t * (b - a), t a scalar
  void (*lerp_scalar)(float t, const float* a, const float* b, float* out,
                      int n);

  void (*sigmoid)(const float* x, float* out, int n);
  void (*tanh)(const float* x, float* out, int n);
  void (*relu)(const float* x, float* out, int n);

  // c = sigma(f + forget_bias) * c + sigma(i) * tanh(g)
  void (*lstm_cell)(const float* i, const float* f, const float* g, float* c,
                    float forget_bias, int n);
  // h = sigma(o) * tanh(c)
  void (*lstm_hidden)(const float* o, const float* c, float* h, int n);

  // Reads n floats with full-width loads and returns their sum: the
  // benchmark's floor, a pass over the weight bytes with no math.
  float (*stream_read)(const float* p, long n);

  // The benchmark's compute peak: `iterations` rounds of independent FMAs
  // (or bf16 / int8 dot products) on registers alone, enough chains to
  // fill every pipe through its latency. Each returns the arithmetic
  // operations it did (a multiply and an add are two); null where the
  // table has no such instruction.
  double (*fma_peak)(long iterations);
  double (*bf16_dot_peak)(long iterations);
  double (*i8_dot_peak)(long iterations);

  // gemm_bf16 wants its weights paired along k (AVX512_BF16 dot products)
  // rather than panels interleaved by 16-bit halves; see pack_matrix.
  bool bf16_pairs_along_k;
  // gemm_i8 wants its weights in quads along k (ARM SDOT); see pack_matrix.
  bool i8_quads_along_k;
  // gemm_i8_act8 wants its weights as u8 (w + 128) in quads along k
  // (vpdpbusd multiplies u8 by s8); otherwise plain int8 panels.
  bool i8_act8_u8_quads;
};

const KernelTable& kernels_for(Isa isa);

// Per-ISA tables, defined in one translation unit each.
const KernelTable& scalar_kernels();
const KernelTable& avx2_kernels();
const KernelTable& avx512_kernels();
// avx512_kernels() with bfloat16 GEMMs on vdpbf16ps (CPUs with AVX512_BF16).
const KernelTable& avx512_bf16dot_kernels();
// `base` (an AVX-512 table) with gemm_i8_act8 on vpdpbusd (AVX512_VNNI).
KernelTable with_avx512_vnni(const KernelTable& base);
// NEON, with int8 GEMMs on SDOT and/or bfloat16 GEMMs on BFDOT.
const KernelTable& neon_kernels(bool int8_sdot, bool bf16_bfdot);

}  // namespace lnfast
