// The .lnfast model file, version 1: where every field sits. The prose
// description, with the reasons, is docs/model_file.md; this header and
// that page change together.
//
//   [0, 128)                      header (kHeader* offsets below)
//   [table_offset, +table_bytes)  one record per layer: tagged fields
//   [payload_offset, +payload)    the packed matrices, each 64-byte aligned
//
// Every integer and float is little-endian.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lnfast {
namespace model_file {

constexpr unsigned char kMagic[8] = {0x89, 'L', 'N', 'F', 'A', 'S', 'T', '\n'};
constexpr std::uint32_t kFormatVersion = 1;

// Header fields: byte offsets.
constexpr std::size_t kHeaderBytes = 128;
constexpr std::size_t kMagicAt = 0;            // 8 bytes
constexpr std::size_t kVersionAt = 8;          // u32
constexpr std::size_t kHeaderBytesAt = 12;     // u32, = kHeaderBytes
constexpr std::size_t kFileBytesAt = 16;       // u64, the whole file
constexpr std::size_t kFingerprintAt = 24;     // u64, lnfast/fingerprint.hpp
constexpr std::size_t kWeightFormatAt = 32;    // u32, kWeightFormatCodes
constexpr std::size_t kFlagsAt = 36;           // u32, kFlag*
constexpr std::size_t kLayerCountAt = 40;      // u32
constexpr std::size_t kAlignmentAt = 44;       // u32, of every matrix's bytes
constexpr std::size_t kTableOffsetAt = 48;     // u64
constexpr std::size_t kTableBytesAt = 56;      // u64
constexpr std::size_t kPayloadOffsetAt = 64;   // u64, a multiple of kPayloadAlignment
constexpr std::size_t kPayloadBytesAt = 72;    // u64
constexpr std::size_t kPayloadChecksumAt = 80; // u64, hash64 of the payload
constexpr std::size_t kWriterIsaAt = 88;       // 16 bytes, NUL-padded ISA name
constexpr std::size_t kWriterIsaBytes = 16;
constexpr std::size_t kReservedAt = 104;       // 16 zero bytes
constexpr std::size_t kMetaChecksumAt = 120;   // u64, hash64 of the table seeded
                                               // with hash64 of header [0, 120)

constexpr std::uint32_t kFlagInt8Activations = 1u << 0;
constexpr std::uint32_t kKnownFlags = kFlagInt8Activations;

// Matrices start at multiples of kAlignment (a cache line: the kernels'
// widest load), the payload at a page so a mapping keeps that alignment.
constexpr std::uint32_t kAlignment = 64;
constexpr std::uint64_t kPayloadAlignment = 4096;

// Layer records: u32 record_bytes (with itself), u32 field_count, then
// field_count fields of u16 tag, u16 zero, u32 value_bytes and the value,
// padded with zeros to a multiple of 4 bytes.
constexpr std::size_t kRecordHeaderBytes = 8;
constexpr std::size_t kFieldHeaderBytes = 8;

// One tag per LayerSpec field. A new option is a new tag: written only when
// it is not the default, so files that do not use it stay readable by
// older versions, and refused by name by a reader that does not know it.
enum class Tag : std::uint16_t {
  CellType = 1,        // u32: kCellTypeCodes
  InputSize = 2,       // u32
  HiddenSize = 3,      // u32
  ProjSize = 4,        // u32, absent: 0
  BiasIh = 5,          // f32[G*H], absent: none
  BiasHh = 6,          // f32[G*H], absent: none
  XNorm = 7,           // norm, repeated in order
  HNorm = 8,           // norm, repeated
  GateNorm = 9,        // norm, repeated
  CellNorm = 10,       // u32: 0 none, 1 output, 2 state; absent: none
  CNorm = 11,          // norm
  Activation = 12,     // u32: 0 tanh, 1 relu; absent: tanh
  ForgetBias = 13,     // f32, absent: 0
  GruPaperUpdate = 14, // u32 0/1, absent: 0
  Zoneout = 15,        // f32, absent: 0
  WeightIh = 16,       // matrix
  WeightHh = 17,       // matrix
  WeightHr = 18,       // matrix, exactly when ProjSize > 0
  GruReset = 19,       // u32: 0 recurrent, 1 candidate; absent: recurrent
  UpdateBias = 20,     // f32, absent: 0
};
constexpr std::uint16_t kLastTag = 20;

// A norm value: i32 offset, i32 size, f32 eps, u32 parts (bit 0 gamma,
// bit 1 beta), then gamma[size] and beta[size] when present.
constexpr std::size_t kNormHeaderBytes = 16;
constexpr std::uint32_t kNormGamma = 1u << 0, kNormBeta = 1u << 1;

// A matrix value, kMatrixBytes: u32 format, panel_rows, block_panels,
// order (PanelOrder), k_group, flags (kMatrix*), logical_rows, rows,
// cols, stored_cols; u64 elements_offset, elements_bytes, scales_offset,
// scales_bytes (file offsets; scales int8 only, else 0 and 0).
constexpr std::size_t kMatrixBytes = 72;
constexpr std::uint32_t kMatrixU8Offset = 1u << 0;
constexpr std::uint32_t kMatrixInt8Activations = 1u << 1;

// The panel geometry a file may name: wider than any kernel today, small
// enough that no product of them overflows.
constexpr std::uint32_t kMaxPanelRows = 256;
constexpr std::uint32_t kMaxBlockPanels = 256;
constexpr std::uint32_t kMaxLayers = 4096;

}  // namespace model_file
}  // namespace lnfast
