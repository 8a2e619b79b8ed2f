// A few large independent jobs (packing a model's matrices) spread over
// short-lived threads. Not the step's WorkerPool: that one splits one GEMM
// and is off by default, while a load runs once and gains from every core.
#pragma once

#include <functional>

namespace lnfast {

// Runs task(i) for every i in [0, count) on up to max_threads threads, the
// caller one of them, and returns when all are done. An exception thrown by
// a task is rethrown here (the first one; the other tasks still finish).
void run_task_list(int count, const std::function<void(int)>& task, int max_threads);

// Threads a load may use: the CPUs this process may run on (at least 1).
int load_threads();

}  // namespace lnfast
