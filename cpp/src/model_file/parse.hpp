// Checked parsing of a model file's header and layer table (format.hpp).
// Every size, offset, count and enum is checked against the bytes there are
// before it is used, in 64-bit arithmetic that cannot wrap; what passes
// describes matrices lying inside the payload, aligned and disjoint, of the
// sizes their layers need. The payload's contents are not read here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lnfast/spec.hpp"
#include "packing/packed_matrix.hpp"

namespace lnfast {
namespace model_file {

struct MatrixRecord {
  PanelLayout layout;
  int logical_rows = 0, rows = 0, cols = 0, stored_cols = 0;
  std::uint64_t elements_offset = 0, elements_bytes = 0;
  std::uint64_t scales_offset = 0, scales_bytes = 0;  // int8 only
};

struct LayerRecord {
  LayerSpec structure;  // w_ih, w_hh, w_hr empty
  MatrixRecord w_ih, w_hh, w_hr;  // w_hr: rows 0 without a projection
};

struct ParsedFile {
  std::uint32_t version = 0;
  std::uint64_t fingerprint = 0;
  WeightFormat weights = WeightFormat::F32;
  bool int8_activations = false;
  std::string writer_isa;
  std::uint64_t payload_offset = 0, payload_bytes = 0, payload_checksum = 0;
  std::vector<LayerRecord> layers;
};

// Throws ModelFileError(name, problem) for the first thing wrong.
ParsedFile parse_model_file(const unsigned char* data, std::size_t size, const std::string& name);

// The header's meta checksum for `data` as it stands (what the writer
// stores at kMetaChecksumAt). `data` holds at least the header and table.
std::uint64_t meta_checksum(const unsigned char* data, std::uint64_t table_offset,
                            std::uint64_t table_bytes);

}  // namespace model_file
}  // namespace lnfast
