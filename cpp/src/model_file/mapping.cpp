#include "model_file/mapping.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lnfast/fingerprint.hpp"
#include "lnfast/model_file.hpp"
#include "model_file/sigbus_guard.hpp"

namespace lnfast {
namespace model_file {

MappedFile::MappedFile(const std::string& path, bool populate) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ModelFileError(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw ModelFileError(path, std::string("cannot stat: ") + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw ModelFileError(path, "not a regular file");
  }
  if (st.st_size == 0) {
    ::close(fd);
    throw ModelFileError(path, "the file is empty");
  }
  size_ = static_cast<std::size_t>(st.st_size);
#if defined(MAP_POPULATE)
  const int flags = MAP_SHARED | (populate ? MAP_POPULATE : 0);
#else
  const int flags = MAP_SHARED;
  (void)populate;
#endif
  void* p = mmap(nullptr, size_, PROT_READ, flags, fd, 0);
  const int e = errno;
  ::close(fd);  // the mapping keeps the file
  if (p == MAP_FAILED) throw ModelFileError(path, std::string("cannot map: ") + std::strerror(e));
  data_ = static_cast<const unsigned char*>(p);
  try {
    slot_ = guard_range(data_, size_);
  } catch (const std::exception& error) {
    munmap(p, size_);
    throw ModelFileError(path, error.what());
  }
}

MappedFile::~MappedFile() {
  release_range(slot_);
  munmap(const_cast<unsigned char*>(data_), size_);
}

bool MappedFile::damaged() const { return range_damaged(slot_); }

void MappedFile::check_intact() const {
  if (damaged())
    throw ModelFileError(path_,
                         "the file was truncated while mapped: its weights are gone, this model "
                         "can no longer step (the stream's state is as before the step); load "
                         "the file again");
}

void MappedFile::remember_payload(std::uint64_t offset, std::uint64_t bytes,
                                  std::uint64_t checksum) {
  payload_offset_ = offset;
  payload_bytes_ = bytes;
  payload_checksum_ = checksum;
}

void MappedFile::verify() const {
  const std::uint64_t now = hash64(data_ + payload_offset_, payload_bytes_);
  check_intact();
  if (now != payload_checksum_)
    throw ModelFileError(path_,
                         "the weights changed since the file was loaded (it was rewritten in "
                         "place while mapped); the model's results no longer follow the file "
                         "that was loaded");
}

}  // namespace model_file
}  // namespace lnfast
