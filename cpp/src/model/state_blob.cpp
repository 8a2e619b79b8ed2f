#include "lnfast/state_blob.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

#include "lnfast/fingerprint.hpp"

namespace lnfast {
namespace {

constexpr unsigned char kMagic[4] = {'L', 'N', 'F', 'S'};
constexpr std::size_t kHeaderBytes = 20;  // magic, version, fingerprint, n
constexpr std::size_t kChecksumBytes = 8;

// Byte-by-byte so the blob reads the same on any host byte order.
void put(std::vector<unsigned char>& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

std::uint64_t get(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

[[noreturn]] void refuse(const std::string& why) {
  throw std::invalid_argument("stream blob " + why);
}

}  // namespace

std::vector<unsigned char> state_to_bytes(const Stream& stream) {
  const std::vector<float>& state = stream.state();
  std::vector<unsigned char> out;
  out.reserve(kHeaderBytes + 4 * state.size() + kChecksumBytes);
  // push_back, not insert: GCC 12 warns falsely (-Wstringop-overflow,
  // GCC bug 107852) on a range insert after reserve().
  for (unsigned char c : kMagic) out.push_back(c);
  put(out, kStateBlobVersion, 4);
  put(out, stream.model()->fingerprint(), 8);
  put(out, state.size(), 4);
  for (float f : state) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    put(out, bits, 4);
  }
  put(out, hash64(out.data(), out.size()), 8);
  return out;
}

void restore_state(Stream& stream, const unsigned char* blob, std::size_t size) {
  // Checked in the order a reader can trust the fields: magic, version (a
  // newer layout may differ beyond it), length, checksum, then identity.
  if (size < 8 || std::memcmp(blob, kMagic, 4) != 0)
    refuse(size >= 4 && std::memcmp(blob, kMagic, 4) != 0
               ? "is not an lnfast stream state (it does not start with \"LNFS\"); "
                 "pass what stream.to_bytes() returned"
               : "is truncated: " + std::to_string(size) + " bytes");
  const std::uint64_t version = get(blob + 4, 4);
  if (version != kStateBlobVersion)
    refuse(version > kStateBlobVersion
               ? "has format version " + std::to_string(version) +
                     ", newer than this lnfast reads (" + std::to_string(kStateBlobVersion) +
                     "); resume it with a newer lnfast"
               : "has unknown format version " + std::to_string(version));
  if (size < kHeaderBytes + kChecksumBytes)
    refuse("is truncated: " + std::to_string(size) + " bytes, a header alone is " +
           std::to_string(kHeaderBytes + kChecksumBytes));
  const std::uint64_t count = get(blob + 16, 4);
  const std::uint64_t expected = kHeaderBytes + 4 * count + kChecksumBytes;
  if (size != expected)
    refuse(std::string(size < expected ? "is truncated" : "has trailing bytes") + ": " +
           std::to_string(size) + " bytes, its header says " + std::to_string(expected));
  if (hash64(blob, size - kChecksumBytes) != get(blob + size - kChecksumBytes, 8))
    refuse("is corrupted: its checksum does not match its contents");
  const Model& model = *stream.model();
  const std::uint64_t fingerprint = get(blob + 8, 8);
  if (fingerprint != model.fingerprint())
    refuse("belongs to another model: it was saved from model " +
           fingerprint_hex(fingerprint) + ", this model is " +
           fingerprint_hex(model.fingerprint()) +
           " (load the same checkpoint with the same weights= format)");
  if (count != static_cast<std::uint64_t>(model.total_state_size()))
    refuse("holds " + std::to_string(count) + " state values, this model has " +
           std::to_string(model.total_state_size()));
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto bits = static_cast<std::uint32_t>(get(blob + kHeaderBytes + 4 * i, 4));
    std::memcpy(&values[i], &bits, sizeof bits);
  }
  stream.set_state(values.data(), values.size());  // refuses NaN/Inf, state untouched
}

}  // namespace lnfast
