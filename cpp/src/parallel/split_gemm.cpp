#include "parallel/split_gemm.hpp"

#include "parallel/worker_pool.hpp"

namespace lnfast {
namespace {

// Below ~1 MB of weights a step is L2-resident and a few tens of
// microseconds; the ~1 us of hand-off per GEMM is not worth it there.
constexpr long long kSplitAboveWeights = 256 * 1024;

struct GemmJob {
  const KernelTable* k;
  const float* packed;
  int rows, cols;
  const float* x;
  int ldx, batch;
  float* y;
  int ldy;
  bool accumulate;
};

void run_part(void* context, int part, int parts) {
  const GemmJob& j = *static_cast<const GemmJob*>(context);
  // Parts end on whole panel blocks, so each part's weights start at
  // row0 * cols in the packed layout.
  const int block_rows = j.k->panel_rows * j.k->block_panels;
  const int blocks = (j.rows + block_rows - 1) / block_rows;
  const int first = static_cast<int>(static_cast<long long>(blocks) * part / parts);
  const int last = static_cast<int>(static_cast<long long>(blocks) * (part + 1) / parts);
  const int row0 = first * block_rows;
  const int row1 = last * block_rows < j.rows ? last * block_rows : j.rows;
  if (row1 <= row0) return;
  j.k->gemm(j.packed + static_cast<long>(row0) * j.cols, row1 - row0, j.cols,
            j.x, j.ldx, j.batch, j.y + row0, j.ldy, j.accumulate);
}

}  // namespace

void split_gemm(const KernelTable& k, const float* packed, int rows, int cols,
                const float* x, int ldx, int batch, float* y, int ldy,
                bool accumulate) {
  WorkerPool& pool = WorkerPool::instance();
  if (pool.threads() == 1 ||
      static_cast<long long>(rows) * cols < kSplitAboveWeights) {
    k.gemm(packed, rows, cols, x, ldx, batch, y, ldy, accumulate);
    return;
  }
  GemmJob job{&k, packed, rows, cols, x, ldx, batch, y, ldy, accumulate};
  pool.run(&run_part, &job);
}

}  // namespace lnfast
