// The checked reader of format.hpp's header and layer table.
#include "model_file/parse.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "lnfast/fingerprint.hpp"
#include "lnfast/model_file.hpp"
#include "model/validate_spec.hpp"
#include "model_file/codes.hpp"
#include "model_file/format.hpp"
#include "model_file/little_endian.hpp"

namespace lnfast {
namespace model_file {
namespace {

using u64 = std::uint64_t;

// Builds a message and throws it as the file's ModelFileError.
class Fail {
 public:
  explicit Fail(const std::string& name) : name_(name) {}
  template <class... T>
  [[noreturn]] void operator()(const T&... parts) const {
    std::ostringstream out;
    (out << ... << parts);
    throw ModelFileError(name_, out.str());
  }
  const std::string& name() const { return name_; }

 private:
  const std::string& name_;
};

u64 checked_add(u64 a, u64 b, const Fail& fail, const char* what) {
  u64 out;
  if (__builtin_add_overflow(a, b, &out)) fail(what, " overflows 64 bits");
  return out;
}

u64 checked_mul(u64 a, u64 b, const Fail& fail, const char* what) {
  u64 out;
  if (__builtin_mul_overflow(a, b, &out)) fail(what, " overflows 64 bits");
  return out;
}

// Reads forward through [data, data + size), never past it.
class Cursor {
 public:
  Cursor(const unsigned char* data, u64 size, const Fail& fail, std::string where)
      : data_(data), size_(size), fail_(fail), where_(std::move(where)) {}
  u64 left() const { return size_ - at_; }
  const unsigned char* take(u64 n, const char* what) {
    if (n > left())
      fail_(where_, ": ", what, " needs ", n, " bytes, only ", left(), " are left");
    const unsigned char* p = data_ + at_;
    at_ += n;
    return p;
  }
  std::uint16_t u16(const char* what) { return static_cast<std::uint16_t>(load_le(take(2, what), 2)); }
  std::uint32_t u32(const char* what) { return load_u32(take(4, what)); }

 private:
  const unsigned char* data_;
  u64 size_, at_ = 0;
  const Fail& fail_;
  std::string where_;
};

const char* const kTagNames[kLastTag + 1] = {
    "?",           "cell_type",  "input_size", "hidden_size", "proj_size",   "b_ih",
    "b_hh",        "x_norm",     "h_norm",     "gate_norm",   "cell_norm",   "c_norm",
    "activation",  "forget_bias", "gru_paper_update", "zoneout", "w_ih",     "w_hh",
    "w_hr",        "gru_reset",  "update_bias"};

bool repeated(Tag t) { return t == Tag::XNorm || t == Tag::HNorm || t == Tag::GateNorm; }

// A u32 that must fit a positive int (a count of units).
int units(std::uint32_t v, bool zero_ok, const Fail& fail, const std::string& where,
          const char* name) {
  if (v > static_cast<std::uint32_t>(INT_MAX) || (!zero_ok && v == 0))
    fail(where, ": ", name, " is ", v, ", expected ", zero_ok ? "0" : "1", " to ", INT_MAX);
  return static_cast<int>(v);
}

std::vector<float> floats(const unsigned char* p, u64 count) {
  std::vector<float> out(count);
  for (u64 i = 0; i < count; ++i) out[i] = load_f32(p + 4 * i);
  return out;
}

Norm parse_norm(const unsigned char* v, u64 len, const Fail& fail, const std::string& where) {
  if (len < kNormHeaderBytes)
    fail(where, ": a norm needs at least ", kNormHeaderBytes, " bytes, it has ", len);
  Norm n;
  const std::uint32_t offset = load_u32(v), size = load_u32(v + 4);
  n.offset = units(offset, true, fail, where, "the norm's offset");
  n.size = units(size, false, fail, where, "the norm's size");
  n.eps = load_f32(v + 8);
  const std::uint32_t parts = load_u32(v + 12);
  if (parts & ~(kNormGamma | kNormBeta)) fail(where, ": unknown norm parts ", parts);
  const u64 arrays = (parts & kNormGamma ? 1 : 0) + (parts & kNormBeta ? 1 : 0);
  const u64 want = checked_add(kNormHeaderBytes, checked_mul(arrays * 4, size, fail, "a norm"),
                               fail, "a norm");
  if (len != want)
    fail(where, ": a norm of ", size, " units with ", arrays, " arrays has ", want,
         " bytes, the field has ", len);
  const unsigned char* at = v + kNormHeaderBytes;
  if (parts & kNormGamma) {
    n.gamma = floats(at, size);
    at += 4 * static_cast<u64>(size);
  }
  if (parts & kNormBeta) n.beta = floats(at, size);
  return n;
}

struct RawMatrix {
  std::uint32_t f[10];  // format, panel_rows, block_panels, order, k_group, flags,
                        // logical_rows, rows, cols, stored_cols
  u64 offsets[4];       // elements offset, bytes; scales offset, bytes
};

RawMatrix parse_raw_matrix(const unsigned char* v, u64 len, const Fail& fail,
                           const std::string& where) {
  if (len != kMatrixBytes)
    fail(where, ": a matrix record has ", kMatrixBytes, " bytes, this one ", len);
  RawMatrix m;
  for (int i = 0; i < 10; ++i) m.f[i] = load_u32(v + 4 * i);
  for (int i = 0; i < 4; ++i) m.offsets[i] = load_u64(v + 40 + 8 * i);
  return m;
}

struct Region {
  u64 begin, end;
  std::string what;
};

// Everything a matrix record claims, against its layer and the payload.
class MatrixChecker {
 public:
  MatrixChecker(const ParsedFile& file, std::uint32_t alignment, const Fail& fail)
      : file_(file), alignment_(alignment), fail_(fail) {}

  MatrixRecord check(const RawMatrix& raw, int rows, int cols, const std::string& where) {
    const auto* f = raw.f;
    WeightFormat format;
    if (!value_of(kWeightFormatCodes, f[0], &format) || format != file_.weights)
      fail_(where, ": stored as format code ", f[0], ", the header says ",
            weight_format_name(file_.weights), " (code ", code_of(kWeightFormatCodes, file_.weights), ")");
    MatrixRecord m;
    if (f[1] < 1 || f[1] > kMaxPanelRows || f[2] < 1 || f[2] > kMaxBlockPanels)
      fail_(where, ": panel_rows ", f[1], " and block_panels ", f[2], " must be in [1, ",
            kMaxPanelRows, "] and [1, ", kMaxBlockPanels, "]");
    m.layout.panel_rows = static_cast<int>(f[1]);
    m.layout.block_panels = static_cast<int>(f[2]);
    if (!value_of(kPanelOrderCodes, f[3], &m.layout.order))
      fail_(where, ": unknown panel order ", f[3]);
    if (f[5] & ~(kMatrixU8Offset | kMatrixInt8Activations)) fail_(where, ": unknown flags ", f[5]);
    m.layout.k_group = static_cast<int>(std::min<std::uint32_t>(f[4], 64));
    m.layout.u8_offset = f[5] & kMatrixU8Offset;
    if (!layout_fits(format, m.layout, file_.int8_activations) || f[4] > 64)
      fail_(where, ": panel order ", f[3], " with k_group ", f[4], " and u8 offset ",
            m.layout.u8_offset, " is no layout of ", weight_format_name(format), " weights",
            file_.int8_activations ? " with int8 activations" : "");
    if (static_cast<bool>(f[5] & kMatrixInt8Activations) != file_.int8_activations)
      fail_(where, ": disagrees with the header on int8 activations");
    if (f[6] != static_cast<std::uint32_t>(rows) || f[8] != static_cast<std::uint32_t>(cols))
      fail_(where, ": is ", f[6], " x ", f[8], ", the layer needs ", rows, " x ", cols);
    m.logical_rows = rows;
    m.cols = cols;
    const u64 padded = (static_cast<u64>(rows) + f[1] - 1) / f[1] * f[1];
    const u64 stored = (static_cast<u64>(cols) + f[4] - 1) / f[4] * f[4];
    if (f[7] != padded || f[9] != stored || padded > INT_MAX || stored > INT_MAX)
      fail_(where, ": ", f[7], " padded rows and ", f[9], " stored columns, expected ", padded,
            " and ", stored);
    m.rows = static_cast<int>(padded);
    m.stored_cols = static_cast<int>(stored);
    m.elements_offset = raw.offsets[0];
    m.elements_bytes = raw.offsets[1];
    const u64 want = checked_mul(checked_mul(padded, stored, fail_, "a matrix's size"),
                                 element_bytes(format), fail_, "a matrix's size");
    if (m.elements_bytes != want)
      fail_(where, ": holds ", m.elements_bytes, " bytes of elements, its shape needs ", want);
    place(m.elements_offset, m.elements_bytes, where + "'s elements");
    m.scales_offset = raw.offsets[2];
    m.scales_bytes = raw.offsets[3];
    if (format == WeightFormat::I8) {
      if (m.scales_bytes != 4 * padded)
        fail_(where, ": holds ", m.scales_bytes, " bytes of scales, expected ", 4 * padded);
      place(m.scales_offset, m.scales_bytes, where + "'s scales");
    } else if (m.scales_offset != 0 || m.scales_bytes != 0) {
      fail_(where, ": a ", weight_format_name(format), " matrix has no scales");
    }
    return m;
  }

  // No two regions share a byte.
  void check_disjoint() {
    std::sort(regions_.begin(), regions_.end(),
              [](const Region& a, const Region& b) { return a.begin < b.begin; });
    for (size_t i = 1; i < regions_.size(); ++i)
      if (regions_[i].begin < regions_[i - 1].end)
        fail_(regions_[i].what, " overlap ", regions_[i - 1].what);
  }

 private:
  static bool layout_fits(WeightFormat format, const PanelLayout& l, bool int8_activations) {
    const bool plain = l.order == PanelOrder::Plain && l.k_group == 1;
    switch (format) {
      case WeightFormat::F32: return plain && !l.u8_offset;
      case WeightFormat::BF16:
        return !l.u8_offset && ((l.order == PanelOrder::Bf16Pairs && l.k_group == 1) ||
                                (l.order == PanelOrder::KGroups && l.k_group == 2));
      case WeightFormat::I8:
        if (l.u8_offset && !(int8_activations && l.order == PanelOrder::KGroups)) return false;
        return plain || (l.order == PanelOrder::KGroups && l.k_group == 4);
    }
    return false;
  }

  void place(u64 offset, u64 bytes, const std::string& what) {
    const u64 payload_end = file_.payload_offset + file_.payload_bytes;  // checked by the header
    if (offset % alignment_)
      fail_(what, " start at byte ", offset, ", not a multiple of ", alignment_);
    const u64 end = checked_add(offset, bytes, fail_, "a matrix's range");
    if (offset < file_.payload_offset || end > payload_end)
      fail_(what, " [", offset, ", ", end, ") lie outside the payload [", file_.payload_offset,
            ", ", payload_end, ")");
    regions_.push_back({offset, end, what});
  }

  const ParsedFile& file_;
  std::uint32_t alignment_;
  const Fail& fail_;
  std::vector<Region> regions_;
};

struct LayerFields {
  LayerSpec spec;
  bool seen[kLastTag + 1] = {};
  RawMatrix matrices[3];
};

void parse_field(LayerFields& out, Tag tag, const unsigned char* v, u64 len, const Fail& fail,
                 const std::string& where) {
  LayerSpec& s = out.spec;
  const std::string field = where + " " + kTagNames[static_cast<int>(tag)];
  const auto u32 = [&]() {
    if (len != 4) fail(field, ": has ", len, " bytes, expected 4");
    return load_u32(v);
  };
  const auto f32 = [&]() {
    if (len != 4) fail(field, ": has ", len, " bytes, expected 4");
    return load_f32(v);
  };
  const auto array = [&]() {
    if (len % 4) fail(field, ": has ", len, " bytes, not a whole number of floats");
    return floats(v, len / 4);
  };
  switch (tag) {
    case Tag::CellType:
      if (!value_of(kCellTypeCodes, u32(), &s.type)) fail(field, ": unknown cell type ", load_u32(v));
      break;
    case Tag::InputSize: s.input_size = units(u32(), false, fail, where, "input_size"); break;
    case Tag::HiddenSize: s.hidden_size = units(u32(), false, fail, where, "hidden_size"); break;
    case Tag::ProjSize: s.proj_size = units(u32(), true, fail, where, "proj_size"); break;
    case Tag::BiasIh: s.b_ih = array(); break;
    case Tag::BiasHh: s.b_hh = array(); break;
    case Tag::XNorm: s.x_norms.push_back(parse_norm(v, len, fail, field)); break;
    case Tag::HNorm: s.h_norms.push_back(parse_norm(v, len, fail, field)); break;
    case Tag::GateNorm: s.gate_norms.push_back(parse_norm(v, len, fail, field)); break;
    case Tag::CellNorm:
      if (!value_of(kCellNormCodes, u32(), &s.cell_norm)) fail(field, ": unknown cell norm ", load_u32(v));
      break;
    case Tag::CNorm: s.c_norm = parse_norm(v, len, fail, field); break;
    case Tag::Activation:
      if (!value_of(kActivationCodes, u32(), &s.activation))
        fail(field, ": unknown activation ", load_u32(v));
      break;
    case Tag::ForgetBias: s.forget_bias = f32(); break;
    case Tag::GruPaperUpdate: {
      const std::uint32_t b = u32();
      if (b > 1) fail(field, ": must be 0 or 1, got ", b);
      s.gru_paper_update = b == 1;
      break;
    }
    case Tag::Zoneout: s.zoneout = f32(); break;
    case Tag::GruReset:
      if (!value_of(kGruResetCodes, u32(), &s.gru_reset)) fail(field, ": unknown GRU reset ", load_u32(v));
      break;
    case Tag::UpdateBias: s.update_bias = f32(); break;
    case Tag::WeightIh: out.matrices[0] = parse_raw_matrix(v, len, fail, field); break;
    case Tag::WeightHh: out.matrices[1] = parse_raw_matrix(v, len, fail, field); break;
    case Tag::WeightHr: out.matrices[2] = parse_raw_matrix(v, len, fail, field); break;
  }
}

LayerFields parse_record(Cursor& table, int index, const Fail& fail) {
  const std::string where = "layer " + std::to_string(index);
  const std::uint32_t record_bytes = table.u32((where + "'s record").c_str());
  if (record_bytes < kRecordHeaderBytes)
    fail(where, ": a record of ", record_bytes, " bytes is shorter than its own header");
  const unsigned char* body = table.take(record_bytes - 4, (where + "'s record").c_str());
  Cursor record(body, record_bytes - 4, fail, where);
  const std::uint32_t fields = record.u32("the field count");
  LayerFields out;
  for (std::uint32_t i = 0; i < fields; ++i) {
    const std::uint16_t tag = record.u16("a field's tag");
    if (record.u16("a field's header") != 0) fail(where, ": field ", i, " has a nonzero reserved half");
    const std::uint32_t len = record.u32("a field's size");
    const unsigned char* v = record.take(len, "a field's value");
    const u64 pad_bytes = (4 - len % 4) % 4;
    const unsigned char* pad = record.take(pad_bytes, "a field's padding");
    for (u64 j = 0; j < pad_bytes; ++j)
      if (pad[j]) fail(where, ": field ", i, " has nonzero padding");
    if (tag == 0 || tag > kLastTag)
      fail(where, ": field tag ", tag, " is unknown to this lnfast (it reads format version ",
           kFormatVersion, " with tags 1 to ", kLastTag, "); the file needs a newer lnfast");
    if (out.seen[tag] && !repeated(static_cast<Tag>(tag)))
      fail(where, ": field ", kTagNames[tag], " appears twice");
    out.seen[tag] = true;
    parse_field(out, static_cast<Tag>(tag), v, len, fail, where);
  }
  if (record.left() != 0)
    fail(where, ": ", record.left(), " bytes after the last of its ", fields, " fields");
  for (Tag t : {Tag::CellType, Tag::InputSize, Tag::HiddenSize, Tag::WeightIh, Tag::WeightHh})
    if (!out.seen[static_cast<int>(t)]) fail(where, ": has no ", kTagNames[static_cast<int>(t)], " field");
  const bool projected = out.spec.proj_size > 0;
  if (projected != out.seen[static_cast<int>(Tag::WeightHr)])
    fail(where, projected ? ": has a projection but no w_hr field" : ": has a w_hr field but no projection");
  return out;
}

void parse_header(const unsigned char* d, std::size_t size, ParsedFile& file, const Fail& fail,
                  std::uint64_t* table_offset, std::uint64_t* table_bytes,
                  std::uint32_t* alignment, std::uint32_t* layer_count) {
  if (size < sizeof kMagic || !std::equal(kMagic, kMagic + sizeof kMagic, d))
    fail("not an lnfast model file (it does not start with the .lnfast magic bytes)");
  if (size < kHeaderBytes)
    fail("the file is ", size, " bytes, shorter than the ", kHeaderBytes, "-byte header (truncated)");
  file.version = load_u32(d + kVersionAt);
  if (file.version > kFormatVersion)
    fail("written by a newer lnfast: format version ", file.version,
         "; this lnfast reads versions up to ", kFormatVersion, ". Upgrade lnfast to load it");
  if (file.version == 0) fail("format version 0 does not exist");
  if (load_u32(d + kHeaderBytesAt) != kHeaderBytes)
    fail("the header says it has ", load_u32(d + kHeaderBytesAt), " bytes, version ",
         file.version, " headers have ", kHeaderBytes);
  const u64 file_bytes = load_u64(d + kFileBytesAt);
  if (file_bytes != size)
    fail("the header says the file has ", file_bytes, " bytes, it has ", size,
         size < file_bytes ? " (truncated)" : " (bytes appended)");
  *table_offset = load_u64(d + kTableOffsetAt);
  *table_bytes = load_u64(d + kTableBytesAt);
  file.payload_offset = load_u64(d + kPayloadOffsetAt);
  file.payload_bytes = load_u64(d + kPayloadBytesAt);
  const u64 table_end = checked_add(*table_offset, *table_bytes, fail, "the table's range");
  const u64 payload_end = checked_add(file.payload_offset, file.payload_bytes, fail, "the payload's range");
  if (*table_offset < kHeaderBytes || table_end > file.payload_offset ||
      file.payload_offset % kPayloadAlignment || payload_end != size)
    fail("the table [", *table_offset, ", ", table_end, ") and payload [", file.payload_offset,
         ", ", payload_end, ") do not lie in order after the header, the payload page-aligned "
         "and ending the ", size, "-byte file");
  for (u64 i = table_end; i < file.payload_offset; ++i)
    if (d[i]) fail("the padding before the payload holds a nonzero byte at ", i);
  if (meta_checksum(d, *table_offset, *table_bytes) != load_u64(d + kMetaChecksumAt))
    fail("the header or layer table is corrupted (its checksum does not match)");
  for (std::size_t i = kReservedAt; i < kMetaChecksumAt; ++i)
    if (d[i]) fail("reserved header byte ", i, " is not zero");
  file.fingerprint = load_u64(d + kFingerprintAt);
  const std::uint32_t format = load_u32(d + kWeightFormatAt);
  if (!value_of(kWeightFormatCodes, format, &file.weights)) fail("unknown weight format code ", format);
  const std::uint32_t flags = load_u32(d + kFlagsAt);
  if (flags & ~kKnownFlags) fail("unknown header flags ", flags);
  file.int8_activations = flags & kFlagInt8Activations;
  if (file.int8_activations && file.weights != WeightFormat::I8)
    fail("int8 activations are flagged for ", weight_format_name(file.weights), " weights");
  *layer_count = load_u32(d + kLayerCountAt);
  if (*layer_count < 1 || *layer_count > kMaxLayers)
    fail("the header counts ", *layer_count, " layers, expected 1 to ", kMaxLayers);
  *alignment = load_u32(d + kAlignmentAt);
  if (*alignment < kAlignment || *alignment > kPayloadAlignment || (*alignment & (*alignment - 1)))
    fail("matrix alignment ", *alignment, " is not a power of two in [", kAlignment, ", ",
         kPayloadAlignment, "]");
  file.payload_checksum = load_u64(d + kPayloadChecksumAt);
  for (std::size_t i = 0; i < kWriterIsaBytes && d[kWriterIsaAt + i]; ++i) {
    const unsigned char c = d[kWriterIsaAt + i];
    file.writer_isa += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
}

}  // namespace

std::uint64_t meta_checksum(const unsigned char* data, std::uint64_t table_offset,
                            std::uint64_t table_bytes) {
  return hash64(data + table_offset, table_bytes, hash64(data, kMetaChecksumAt));
}

ParsedFile parse_model_file(const unsigned char* d, std::size_t size, const std::string& name) {
  const Fail fail(name);
  ParsedFile file;
  u64 table_offset, table_bytes;
  std::uint32_t alignment, layer_count;
  parse_header(d, size, file, fail, &table_offset, &table_bytes, &alignment, &layer_count);

  Cursor table(d + table_offset, table_bytes, fail, "the layer table");
  std::vector<LayerFields> fields;
  std::vector<LayerSpec> specs;
  for (std::uint32_t l = 0; l < layer_count; ++l) {
    fields.push_back(parse_record(table, static_cast<int>(l), fail));
    specs.push_back(fields.back().spec);
  }
  if (table.left() != 0) fail("the layer table has ", table.left(), " bytes after its last layer");
  try {
    validate_stack(specs, validate_layer_structure);
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }

  MatrixChecker matrices(file, alignment, fail);
  for (std::uint32_t l = 0; l < layer_count; ++l) {
    const LayerSpec& s = specs[l];
    const std::string where = "layer " + std::to_string(l) + " ";
    const int rows = gate_count(s.type) * s.hidden_size;
    LayerRecord r;
    r.structure = s;
    r.w_ih = matrices.check(fields[l].matrices[0], rows, s.input_size, where + "w_ih");
    r.w_hh = matrices.check(fields[l].matrices[1], rows, output_size(s), where + "w_hh");
    if (s.proj_size > 0)
      r.w_hr = matrices.check(fields[l].matrices[2], s.proj_size, s.hidden_size, where + "w_hr");
    file.layers.push_back(std::move(r));
  }
  matrices.check_disjoint();
  return file;
}

}  // namespace model_file
}  // namespace lnfast
