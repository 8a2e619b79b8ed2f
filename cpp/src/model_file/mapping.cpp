#include "model_file/mapping.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "lnfast/fingerprint.hpp"
#include "lnfast/model_file.hpp"
#include "model_file/sigbus_guard.hpp"
#include "parallel/task_list.hpp"

namespace lnfast {
namespace model_file {

namespace {

// Maps every page of [data, data + size) in, in chunks spread over the
// CPUs: setting up 4 KiB page-table entries is CPU work (5-7 ms per 64 MiB
// on one core of the VM lnfast is measured on, half that on two), which
// MAP_POPULATE would do on the caller's thread alone. A chunk that cannot
// be populated (a kernel before 5.14, a truncation meanwhile) is left to
// the reader's faults, which the SIGBUS guard covers.
void populate_pages(const unsigned char* data, std::size_t size) {
#if defined(MADV_POPULATE_READ)
  constexpr std::size_t kChunk = std::size_t{8} << 20;
  const int chunks = static_cast<int>((size + kChunk - 1) / kChunk);
  run_task_list(chunks, [&](int c) {
    const std::size_t at = static_cast<std::size_t>(c) * kChunk;
    madvise(const_cast<unsigned char*>(data) + at, std::min(kChunk, size - at),
            MADV_POPULATE_READ);
  }, load_threads());
#else
  (void)data;
  (void)size;
#endif
}

}  // namespace

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
  void* p = mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
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
  if (populate) populate_pages(data_, size_);
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
