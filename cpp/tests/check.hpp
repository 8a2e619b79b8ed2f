// A minimal test harness: named checks counted into one pass/fail line, and
// the measured worst errors kept per label for the summary.
#pragma once

#include <string>

namespace lnfast_test {

// Counts one check; prints it when it fails. Returns ok.
bool check(bool ok, const std::string& what);
// Keeps the largest `error` (and its bound; 0 for a figure given for
// information) seen under `label`, printed by print_worst_errors().
void record_error(const std::string& label, double error, double bound);
void print_worst_errors();
int passed_count();
int failed_count();

// One suite per file, run in order by main.cpp.
void test_isa_choice();
void test_elementwise_kernels();
void test_gemm_kernels();
void test_cells();
void test_model_files();
void test_batcher();
void test_hash64();

}  // namespace lnfast_test
