// save_model_file: a Model's structure and packed matrices as format.hpp
// lays them out, written beside the target and renamed over it.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "cells/packed_layer.hpp"
#include "lnfast/fingerprint.hpp"
#include "lnfast/model_file.hpp"
#include "model_file/codes.hpp"
#include "model_file/format.hpp"
#include "model_file/little_endian.hpp"
#include "model_file/parse.hpp"

namespace lnfast {
namespace model_file {
namespace {

// One tagged field of a layer record.
class RecordWriter {
 public:
  void u32(Tag tag, std::uint32_t v) {
    begin(tag, 4);
    out_.u32(v);
  }
  void f32(Tag tag, float v) {
    begin(tag, 4);
    out_.f32(v);
  }
  void floats(Tag tag, const std::vector<float>& v) {
    begin(tag, 4 * v.size());
    for (float f : v) out_.f32(f);
  }
  void norm(Tag tag, const Norm& n) {
    const std::uint32_t parts = (n.gamma.empty() ? 0 : kNormGamma) | (n.beta.empty() ? 0 : kNormBeta);
    begin(tag, kNormHeaderBytes + 4 * (n.gamma.size() + n.beta.size()));
    out_.u32(static_cast<std::uint32_t>(n.offset));
    out_.u32(static_cast<std::uint32_t>(n.size));
    out_.f32(n.eps);
    out_.u32(parts);
    for (float f : n.gamma) out_.f32(f);
    for (float f : n.beta) out_.f32(f);
  }
  // The matrix's offsets are those its bytes get in the payload.
  void matrix(Tag tag, const PackedMatrix& m, std::uint64_t elements_at, std::uint64_t scales_at) {
    begin(tag, kMatrixBytes);
    const std::uint32_t flags = (m.layout.u8_offset ? kMatrixU8Offset : 0) |
                                (m.int8_activations ? kMatrixInt8Activations : 0);
    for (std::uint32_t v :
         {code_of(kWeightFormatCodes, m.format), static_cast<std::uint32_t>(m.layout.panel_rows),
          static_cast<std::uint32_t>(m.layout.block_panels), code_of(kPanelOrderCodes, m.layout.order),
          static_cast<std::uint32_t>(m.layout.k_group), flags,
          static_cast<std::uint32_t>(m.logical_rows), static_cast<std::uint32_t>(m.rows),
          static_cast<std::uint32_t>(m.cols), static_cast<std::uint32_t>(m.stored_cols)})
      out_.u32(v);
    const bool scaled = m.format == WeightFormat::I8;
    out_.u64(elements_at);
    out_.u64(m.bytes());
    out_.u64(scaled ? scales_at : 0);
    out_.u64(scaled ? 4 * static_cast<std::uint64_t>(m.rows) : 0);
  }
  // The record: its size, its field count, its fields.
  void finish_into(ByteWriter& table) {
    table.u32(static_cast<std::uint32_t>(kRecordHeaderBytes + out_.size()));
    table.u32(fields_);
    table.bytes(out_.out.data(), out_.size());
  }

 private:
  void begin(Tag tag, std::size_t bytes) {
    out_.align(4);
    out_.u16(static_cast<std::uint16_t>(tag));
    out_.u16(0);
    out_.u32(static_cast<std::uint32_t>(bytes));
    ++fields_;
  }
  ByteWriter out_;
  std::uint32_t fields_ = 0;
};

// Where each matrix's elements and scales go, and (when `sink` is given)
// those bytes in order.
class Payload {
 public:
  Payload(std::uint64_t start, ByteWriter* sink) : start_(start), sink_(sink) {}
  // Returns the file offsets of m's elements and scales.
  std::pair<std::uint64_t, std::uint64_t> add(const PackedMatrix& m) {
    align();
    const std::uint64_t elements = start_ + size_;
    put(m.weights, m.bytes());
    align();
    const std::uint64_t scales = start_ + size_;
    if (m.format == WeightFormat::I8) put(m.row_scales, sizeof(float) * m.rows);
    return {elements, scales};
  }
  void align() {
    const std::uint64_t pad = (kAlignment - size_ % kAlignment) % kAlignment;
    if (sink_) sink_->zeros(pad);
    size_ += pad;
  }
  std::uint64_t size() const { return size_; }

 private:
  void put(const void* p, std::size_t n) {
    if (sink_) sink_->bytes(p, n);
    size_ += n;
  }
  std::uint64_t start_, size_ = 0;
  ByteWriter* sink_;
};

void record_layer(const LayerSpec& s, const PackedLayer& L, Payload& payload, ByteWriter& table) {
  RecordWriter r;
  r.u32(Tag::CellType, code_of(kCellTypeCodes, s.type));
  r.u32(Tag::InputSize, static_cast<std::uint32_t>(s.input_size));
  r.u32(Tag::HiddenSize, static_cast<std::uint32_t>(s.hidden_size));
  // Options at their defaults are left out (see format.hpp's Tag).
  if (s.proj_size > 0) r.u32(Tag::ProjSize, static_cast<std::uint32_t>(s.proj_size));
  if (!s.b_ih.empty()) r.floats(Tag::BiasIh, s.b_ih);
  if (!s.b_hh.empty()) r.floats(Tag::BiasHh, s.b_hh);
  for (const Norm& n : s.x_norms) r.norm(Tag::XNorm, n);
  for (const Norm& n : s.h_norms) r.norm(Tag::HNorm, n);
  for (const Norm& n : s.gate_norms) r.norm(Tag::GateNorm, n);
  if (s.cell_norm != CellNorm::None) {
    r.u32(Tag::CellNorm, code_of(kCellNormCodes, s.cell_norm));
    r.norm(Tag::CNorm, s.c_norm);
  }
  if (s.activation != Activation::Tanh) r.u32(Tag::Activation, code_of(kActivationCodes, s.activation));
  if (s.forget_bias != 0.0f) r.f32(Tag::ForgetBias, s.forget_bias);
  if (s.gru_paper_update) r.u32(Tag::GruPaperUpdate, 1);
  if (s.zoneout != 0.0f) r.f32(Tag::Zoneout, s.zoneout);
  if (s.gru_reset != GruReset::Recurrent) r.u32(Tag::GruReset, code_of(kGruResetCodes, s.gru_reset));
  if (s.update_bias != 0.0f) r.f32(Tag::UpdateBias, s.update_bias);
  const auto matrix = [&](Tag tag, const PackedMatrix& m) {
    const auto at = payload.add(m);
    r.matrix(tag, m, at.first, at.second);
  };
  matrix(Tag::WeightIh, L.w_ih);
  matrix(Tag::WeightHh, L.w_hh);
  if (s.proj_size > 0) matrix(Tag::WeightHr, L.w_hr);
  r.finish_into(table);
}

// The whole file in memory: the checksums need every byte before the
// header can be written.
std::vector<unsigned char> file_bytes(const Model& model) {
  // The table's size fixes where the payload starts: measure it with the
  // payload at 0 (offsets are fixed-size fields), then lay it out for real.
  const auto lay_out = [&](ByteWriter& table, Payload& payload) {
    for (int l = 0; l < model.num_layers(); ++l)
      record_layer(model.layer(l), model.packed_layer(l), payload, table);
    payload.align();
  };
  ByteWriter probe_table;
  Payload probe(0, nullptr);
  lay_out(probe_table, probe);
  const std::uint64_t payload_at =
      (kHeaderBytes + probe_table.size() + kPayloadAlignment - 1) / kPayloadAlignment * kPayloadAlignment;
  ByteWriter table, payload_bytes;
  Payload payload(payload_at, &payload_bytes);
  lay_out(table, payload);

  ByteWriter f;
  f.bytes(kMagic, sizeof kMagic);
  f.u32(kFormatVersion);
  f.u32(kHeaderBytes);
  f.u64(payload_at + payload_bytes.size());
  f.u64(model.fingerprint());
  f.u32(code_of(kWeightFormatCodes, model.weight_format()));
  f.u32(model.int8_activations() ? kFlagInt8Activations : 0);
  f.u32(static_cast<std::uint32_t>(model.num_layers()));
  f.u32(kAlignment);
  f.u64(kHeaderBytes);
  f.u64(table.size());
  f.u64(payload_at);
  f.u64(payload_bytes.size());
  f.u64(hash64(payload_bytes.out.data(), payload_bytes.size()));
  char isa[kWriterIsaBytes] = {};
  std::strncpy(isa, isa_name(model.isa()), kWriterIsaBytes - 1);
  f.bytes(isa, kWriterIsaBytes);
  f.zeros(kMetaChecksumAt - kReservedAt);
  f.u64(0);  // the meta checksum, below
  f.bytes(table.out.data(), table.size());
  f.zeros(payload_at - f.size());
  f.bytes(payload_bytes.out.data(), payload_bytes.size());
  store_le(f.out.data() + kMetaChecksumAt, meta_checksum(f.out.data(), kHeaderBytes, table.size()), 8);
  return std::move(f.out);
}

void write_all(int fd, const std::vector<unsigned char>& bytes, const std::string& tmp,
               const std::string& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      std::remove(tmp.c_str());
      throw ModelFileError(path, std::string("cannot write: ") + std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace
}  // namespace model_file

void save_model_file(const Model& model, const std::string& path) {
  using namespace model_file;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  throw ModelFileError(path, "model files are little-endian; this CPU is big-endian");
#endif
  const std::vector<unsigned char> bytes = file_bytes(model);
  // Beside the target, so the rename stays on one file system.
  std::random_device entropy;
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" +
                          std::to_string(entropy());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    throw ModelFileError(path, std::string("cannot create ") + tmp + ": " + std::strerror(errno));
  write_all(fd, bytes, tmp, path);
  // On disk before it takes the name, so a crash leaves the old file or
  // the whole new one.
  const bool synced = ::fsync(fd) == 0;
  const int sync_error = errno;
  if (::close(fd) != 0 || !synced) {
    const int e = synced ? errno : sync_error;
    std::remove(tmp.c_str());
    throw ModelFileError(path, std::string("cannot write: ") + std::strerror(e));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw ModelFileError(path, std::string("cannot rename ") + tmp + " to it: " + std::strerror(e));
  }
}

}  // namespace lnfast
