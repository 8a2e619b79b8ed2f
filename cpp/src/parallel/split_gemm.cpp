#include "parallel/split_gemm.hpp"

#include "parallel/worker_pool.hpp"

namespace lnfast {
namespace {

// A matrix of fewer weights (512 KiB of fp32) takes a few microseconds
// from L2, where the ~1 us hand-off per GEMM is not worth it. Measured:
// an LN-GRU at H = 256 (matrices of 192K weights) ran 1.00x on two threads
// under the old 256K bound and an LN-LSTM at H = 256 (256K) 2.03x.
constexpr long long kSplitAboveWeights = 128 * 1024;

struct GemmJob {
  const KernelTable* k;
  const PackedMatrix* w;
  const float* x;
  int ldx, batch;
  float* y;
  int ldy;
  bool accumulate;
};

// Rows [row0, row1) of the product; row0 starts a panel block, so its
// weights start at row0 * stored_cols elements in the packed layout.
void gemm_rows(const KernelTable& k, const PackedMatrix& w, int row0, int row1,
               const float* x, int ldx, int batch, float* y, int ldy,
               bool accumulate) {
  const long offset = static_cast<long>(row0) * w.stored_cols;
  const int rows = row1 - row0;
  switch (w.format) {
    case WeightFormat::F32:
      return k.gemm(w.f32() + offset, rows, w.cols, x, ldx, batch, y + row0,
                    ldy, accumulate);
    case WeightFormat::BF16:
      return k.gemm_bf16(w.bf16() + offset, rows, w.cols, x, ldx, batch,
                         y + row0, ldy, accumulate);
    case WeightFormat::I8:
      return (w.int8_activations ? k.gemm_i8_act8 : k.gemm_i8)(w.i8() + offset, w.row_scales + row0, rows,
                       w.cols, x, ldx, batch, y + row0, ldy, accumulate);
  }
}

void run_part(void* context, int part, int parts) {
  const GemmJob& j = *static_cast<const GemmJob*>(context);
  const int rows = j.w->rows;
  // Parts end on whole panel blocks, so each part's weights start at
  // row0 * cols in the packed layout.
  const int block_rows = j.k->panel_rows * j.k->block_panels;
  const int blocks = (rows + block_rows - 1) / block_rows;
  const int first = static_cast<int>(static_cast<long long>(blocks) * part / parts);
  const int last = static_cast<int>(static_cast<long long>(blocks) * (part + 1) / parts);
  const int row0 = first * block_rows;
  const int row1 = last * block_rows < rows ? last * block_rows : rows;
  if (row1 <= row0) return;
  gemm_rows(*j.k, *j.w, row0, row1, j.x, j.ldx, j.batch, j.y, j.ldy, j.accumulate);
}

}  // namespace

void split_gemm(const KernelTable& k, const PackedMatrix& w, const float* x,
                int ldx, int batch, float* y, int ldy, bool accumulate) {
  WorkerPool& pool = WorkerPool::instance();
  if (pool.threads() == 1 ||
      static_cast<long long>(w.rows) * w.cols < kSplitAboveWeights) {
    gemm_rows(k, w, 0, w.rows, x, ldx, batch, y, ldy, accumulate);
    return;
  }
  GemmJob job{&k, &w, x, ldx, batch, y, ldy, accumulate};
  pool.run(&run_part, &job);
}

}  // namespace lnfast
