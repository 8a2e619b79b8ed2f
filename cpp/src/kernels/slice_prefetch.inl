// Software prefetch for the batched GEMMs (kernels_generic.inl and
// dot_gemm.inl include this inside their anonymous namespace, so each ISA
// unit has its own copy, compiled with its flags).
//
// A batched GEMM walks each weight block in column slices that stay in L1
// while every tile of inputs passes over them. Left to the hardware, the
// next slice arrives in one burst of misses when the first tile reaches
// it, and the FMAs wait; instead the tiles of each slice bring the next
// one in evenly as they go, a few lines per iteration.

// `lines` cache lines from `first` on.
struct Prefetch {
  const char* first = nullptr;
  long lines = 0;
  // Part i of n, in the order of the bytes.
  Prefetch part(long i, long n) const {
    const long from = lines * i / n, to = lines * (i + 1) / n;
    return {first + 64 * from, to - from};
  }
};

// The `span` bytes after `from`, cut at `end` (the matrix's last byte):
// the next slice (the next block's first after a block's last).
inline Prefetch bytes_after(const void* from, long span, const void* end) {
  const char* next = static_cast<const char*>(from);
  const long left = static_cast<long>(static_cast<const char*>(end) - next);
  return {next, (span < left ? span : left) / 64};
}

// Issues a Prefetch over `steps` iterations: lines * k / steps by step k.
class PrefetchCursor {
 public:
  PrefetchCursor(Prefetch p, int steps) : line_(p.first), lines_(p.lines), steps_(steps) {}
  void step() {
    for (owed_ += lines_; owed_ >= steps_; owed_ -= steps_, line_ += 64)
      __builtin_prefetch(line_);
  }

 private:
  const char* line_;
  long lines_, steps_, owed_ = 0;
};
