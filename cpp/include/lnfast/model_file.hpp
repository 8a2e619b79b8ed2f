// A model saved in lnfast's own packed layout (a .lnfast file, described in
// docs/model_file.md): convert once, then map it. Loading maps the file
// read-only and steps straight from the mapped panels, so it costs no
// conversion and no copy, and every process that loads the same file
// shares one copy of the weights in the page cache.
//
//   auto model = lnfast::load_model_file("model.lnfast");
//   lnfast::Stream stream(model);
//   stream.step(x, h);
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "lnfast/isa.hpp"
#include "lnfast/model.hpp"

namespace lnfast {

// A model file that cannot be read or written, or one damaged while mapped
// (truncated under the model). what() is "<path>: <problem>".
class ModelFileError : public std::runtime_error {
 public:
  ModelFileError(const std::string& path, const std::string& problem)
      : std::runtime_error(path + ": " + problem), path_(path), problem_(problem) {}
  const std::string& path() const { return path_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string path_, problem_;
};

struct ModelFileOptions {
  // Hash the whole payload at load and refuse a mismatch (on by default).
  // The header and layer table are always verified. Skipping the payload
  // hash makes a load independent of the file's size (pages fault in on
  // the first steps instead); see docs/model_file.md for what it costs.
  bool verify_checksum = true;
};

// Maps `path` and builds a Model that steps from the mapping, for the
// kernels of `isa`. When the file's panels are laid out for other kernels
// (written on another CPU, or LNFAST_ISA forced), they are relaid once into
// memory of the model's own; results are bit-identical either way. Throws
// ModelFileError naming the file and the problem for anything that is not
// a complete, intact model file of a version this lnfast reads.
std::shared_ptr<const Model> load_model_file(const std::string& path, Isa isa,
                                             const ModelFileOptions& options = {});
std::shared_ptr<const Model> load_model_file(const std::string& path);

// Writes `model` (structure, options and its packed weights in the format
// it stores them) to a temporary file beside `path`, then renames it over
// `path`: a reader, or a process that has the old file mapped, never sees
// a half-written file. Throws ModelFileError when it cannot be written.
void save_model_file(const Model& model, const std::string& path);

// Hashes the mapped payload again and throws ModelFileError if it differs
// from what was loaded (the file rewritten in place while mapped). Does
// nothing for a model that packed its own weights or was relaid at load.
void verify_model_file(const Model& model);

}  // namespace lnfast
