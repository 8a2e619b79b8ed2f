// A file mapped read-only, guarded against truncation while mapped
// (sigbus_guard.hpp): a model file, as the WeightSource of the models
// stepping from it, or a checkpoint whose storages the packer reads in
// place (lnfast.formats, through the bindings' GuardedMapping).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "lnfast/model.hpp"

namespace lnfast {
namespace model_file {

class MappedFile : public WeightSource {
 public:
  // Throws ModelFileError when the file cannot be opened, is empty, or
  // cannot be mapped. `populate` maps every page in up front, spread over
  // the CPUs, instead of a fault per few pages: for a reader that reads all
  // of them.
  explicit MappedFile(const std::string& path, bool populate = false);
  ~MappedFile() override;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  bool damaged() const override;
  void check_intact() const override;

  // The payload's range and the checksum it had at load, for verify().
  void remember_payload(std::uint64_t offset, std::uint64_t bytes, std::uint64_t checksum);
  // Throws ModelFileError if the payload no longer hashes as at load.
  void verify() const;

 private:
  std::string path_;
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
  int slot_ = -1;
  std::uint64_t payload_offset_ = 0, payload_bytes_ = 0, payload_checksum_ = 0;
};

}  // namespace model_file
}  // namespace lnfast
