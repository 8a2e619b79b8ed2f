// Model files (lnfast/model_file.hpp): every cell variant and storage path
// saved and loaded steps bit-identically; a file packed for one kernel path
// and loaded on another is relaid to the bits a model packed there gives;
// and the header parser, fed truncations at every byte and random
// mutations (bit flips, huge sizes and offsets, overlapping ranges), only
// ever refuses with a ModelFileError or accepts a file whose ranges lie
// inside it. The mutated files are resealed with a valid checksum, so the
// mutations reach the checks behind it.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cell_variants.hpp"
#include "check.hpp"
#include "kernel_paths.hpp"
#include "lnfast/model_file.hpp"
#include "model_file/format.hpp"
#include "model_file/little_endian.hpp"
#include "model_file/parse.hpp"
#include "test_random.hpp"

namespace lnfast_test {
namespace {

using lnfast::Isa;
using lnfast::WeightFormat;
namespace mf = lnfast::model_file;

constexpr int kInput = 13, kSteps = 40;

struct StoragePath {
  Isa isa;
  WeightFormat format;
  bool int8_activations;
  bool dot;
  std::string name;
};

// Every ISA x format (x int8 activations), with the dot-product layouts on
// and off where the ISA has them: each a different panel layout.
std::vector<StoragePath> storage_paths() {
  std::vector<StoragePath> out;
  for (Isa isa : lnfast::supported_isas())
    for (WeightFormat f : lnfast::kWeightFormats)
      for (bool act8 : {false, true}) {
        if (act8 && f != WeightFormat::I8) continue;
        for (bool dot : {false, true}) {
          if (dot && f == WeightFormat::F32) continue;
          out.push_back({isa, f, act8, dot,
                         std::string(lnfast::isa_name(isa)) + " " + lnfast::weight_format_name(f) +
                             (act8 ? " x int8" : "") + (dot ? " dot" : " widened")});
        }
      }
  return out;
}

const char* dot_variable(WeightFormat f) {
  return f == WeightFormat::I8 ? "LNFAST_I8_DOT" : "LNFAST_BF16_DOT";
}

std::string temp_path(const std::string& tag) {
  return "/tmp/lnfast_model_file_test_" + std::to_string(::getpid()) + "_" + tag + ".lnfast";
}

std::vector<float> outputs(const std::shared_ptr<const lnfast::Model>& model,
                           const std::vector<float>& X) {
  lnfast::Stream s(model);
  std::vector<float> out(static_cast<size_t>(kSteps) * model->hidden_size());
  s.run(X.data(), kSteps, out.data());
  return out;
}

std::shared_ptr<const lnfast::Model> built(const std::vector<lnfast::LayerSpec>& layers,
                                           const StoragePath& p) {
  ScopedEnv dot(dot_variable(p.format), p.dot ? nullptr : "0");
  return std::make_shared<const lnfast::Model>(layers, p.isa, p.format, p.int8_activations);
}

std::shared_ptr<const lnfast::Model> loaded(const std::string& path, const StoragePath& p) {
  ScopedEnv dot(dot_variable(p.format), p.dot ? nullptr : "0");
  return lnfast::load_model_file(path, p.isa);
}

std::vector<std::vector<lnfast::LayerSpec>> stacks(std::mt19937& rng) {
  std::vector<std::vector<lnfast::LayerSpec>> out;
  for (const char* kind : kVariants)
    out.push_back({make_layer(kind, kInput, 37, rng), make_layer(kind, 37, 17, rng)});
  out.push_back({make_projected_layer("lstm_separate_state", kInput, 37, 11, rng),
                 make_projected_layer("lstm_plain", 11, 19, 5, rng)});
  return out;
}

void test_round_trips() {
  std::mt19937 rng(16);
  const std::vector<float> X = normal_vector(rng, static_cast<size_t>(kSteps) * kInput);
  const std::string path = temp_path("round_trip");
  const auto paths = storage_paths();
  int stack = 0;
  for (const auto& layers : stacks(rng)) {
    for (const StoragePath& p : paths) {
      const auto model = built(layers, p);
      lnfast::save_model_file(*model, path);
      const auto back = loaded(path, p);
      const std::string what = "stack " + std::to_string(stack) + " on " + p.name;
      check(back->fingerprint() == model->fingerprint(), what + ": the fingerprint survives");
      check(back->weight_source() != nullptr, what + ": steps from the mapping");
      check(outputs(back, X) == outputs(model, X), what + ": loaded gives the bits");
    }
    ++stack;
  }
  std::remove(path.c_str());
}

// Saved on one path, loaded on another of the same storage: the bits of
// the model packed directly there.
void test_relayout() {
  std::mt19937 rng(17);
  const std::vector<float> X = normal_vector(rng, static_cast<size_t>(kSteps) * kInput);
  const std::vector<lnfast::LayerSpec> layers = {
      make_projected_layer("lstm_per_gate_state", kInput, 37, 11, rng),
      make_layer("gru_separate", 11, 19, rng)};
  const std::string path = temp_path("relayout");
  const auto paths = storage_paths();
  for (const StoragePath& from : paths) {
    lnfast::save_model_file(*built(layers, from), path);
    for (const StoragePath& to : paths) {
      if (to.format != from.format || to.int8_activations != from.int8_activations) continue;
      const auto back = loaded(path, to);
      check(outputs(back, X) == outputs(built(layers, to), X),
            "saved on " + from.name + ", loaded on " + to.name + ": the bits packed there give");
    }
  }
  std::remove(path.c_str());
}

std::vector<unsigned char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void reseal(std::vector<unsigned char>& f) {
  if (f.size() < mf::kHeaderBytes) return;
  const std::uint64_t table_at = mf::load_u64(&f[mf::kTableOffsetAt]);
  const std::uint64_t table_bytes = mf::load_u64(&f[mf::kTableBytesAt]);
  if (table_at > f.size() || table_bytes > f.size() - table_at) return;
  mf::store_le(&f[mf::kMetaChecksumAt], mf::meta_checksum(f.data(), table_at, table_bytes), 8);
}

// "refused" (a ModelFileError), "accepted" with every range inside the
// file, or a failure of the test.
std::string parse_outcome(const std::vector<unsigned char>& f) {
  try {
    const mf::ParsedFile parsed = mf::parse_model_file(f.data(), f.size(), "<fuzz>");
    for (const mf::LayerRecord& l : parsed.layers)
      for (const mf::MatrixRecord* m : {&l.w_ih, &l.w_hh, &l.w_hr})
        if (m->elements_offset + m->elements_bytes > f.size() ||
            m->scales_offset + m->scales_bytes > f.size())
          return "accepted a range outside the file";
    return "accepted";
  } catch (const lnfast::ModelFileError& e) {
    if (e.problem().empty()) return "refused without a message";
    return "refused";
  } catch (const std::exception& e) {
    return std::string("threw another exception: ") + e.what();
  }
}

void test_parser_fuzz() {
  std::mt19937 rng(18);
  const std::vector<lnfast::LayerSpec> layers = {
      make_projected_layer("lstm_separate_output_gainonly", kInput, 9, 5, rng),
      make_layer("gru_paper", 5, 7, rng)};
  const std::string path = temp_path("fuzz");
  lnfast::save_model_file(lnfast::Model(layers, Isa::Scalar, WeightFormat::I8, true), path);
  const std::vector<unsigned char> good = read_file(path);
  std::remove(path.c_str());
  check(parse_outcome(good) == "accepted", "the unmutated file parses");
  const std::uint64_t payload_at = mf::load_u64(&good[mf::kPayloadOffsetAt]);

  // Every truncation of the header and table, and a few inside the payload.
  bool all_refused = true;
  for (std::uint64_t n = 0; n < payload_at + 64 && n < good.size(); ++n) {
    std::vector<unsigned char> cut(good.begin(), good.begin() + n);
    all_refused = all_refused && parse_outcome(cut) == "refused";
  }
  check(all_refused, "every truncation up to the payload is refused");

  // Random mutations of the header and table (and the padding after it),
  // resealed or not.
  const std::uint64_t table_end =
      mf::load_u64(&good[mf::kTableOffsetAt]) + mf::load_u64(&good[mf::kTableBytesAt]);
  std::uniform_int_distribution<std::uint64_t> byte_at(0, table_end + 63);
  const std::uint64_t huge[] = {~0ull, ~0ull - 7, 1ull << 63, 1ull << 32, 0xffffffffull,
                                0x7fffffffull, 0x80000000ull, 0, 1, 4096, good.size()};
  int bad = 0, accepted = 0, tried = 0;
  std::string first_bad;
  for (int round = 0; round < 20000; ++round) {
    std::vector<unsigned char> f = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::uint64_t at = byte_at(rng);
      switch (rng() % 3) {
        case 0: f[at] ^= static_cast<unsigned char>(1u << (rng() % 8)); break;
        case 1: f[at] = static_cast<unsigned char>(rng()); break;
        default: {  // a huge or boundary value over a 4- or 8-byte field
          const int width = rng() % 2 ? 8 : 4;
          const std::uint64_t field = at / width * width;
          if (field + width <= payload_at)
            mf::store_le(&f[field], huge[rng() % (sizeof huge / sizeof huge[0])], width);
        }
      }
    }
    if (rng() % 8) reseal(f);
    const std::string outcome = parse_outcome(f);
    ++tried;
    if (outcome == "accepted") ++accepted;
    else if (outcome != "refused" && bad++ == 0) first_bad = outcome;
  }
  check(bad == 0, "20000 mutated headers: each refused with a ModelFileError or accepted "
                  "within the file" + (bad ? " (first: " + first_bad + ")" : std::string()));
  std::printf("   fuzz: %d mutations, %d accepted (harmless bytes), %d refused\n", tried,
              accepted, tried - accepted);

  // Two matrices over the same bytes.
  std::vector<unsigned char> overlap = good;
  const std::uint64_t table_at = mf::load_u64(&good[mf::kTableOffsetAt]);
  std::vector<std::uint64_t> element_fields;  // where the elements_offset fields sit
  for (std::uint64_t at = table_at; at + 4 <= table_end; at += 4)
    if (mf::load_le(&good[at], 2) == static_cast<std::uint64_t>(mf::Tag::WeightHh) &&
        mf::load_u32(&good[at + 4]) == mf::kMatrixBytes)
      element_fields.push_back(at + mf::kFieldHeaderBytes + 40);
  check(!element_fields.empty(), "the w_hh records are found");
  if (!element_fields.empty()) {
    const std::uint64_t w_hh = element_fields[0];
    const std::uint64_t w_ih = w_hh - mf::kFieldHeaderBytes - mf::kMatrixBytes;
    std::memcpy(&overlap[w_hh], &good[w_ih], 8);
    reseal(overlap);
    check(parse_outcome(overlap) == "refused", "overlapping matrices are refused");
  }

  // A newer format version is refused by name.
  std::vector<unsigned char> newer = good;
  mf::store_le(&newer[mf::kVersionAt], mf::kFormatVersion + 1, 4);
  reseal(newer);
  try {
    mf::parse_model_file(newer.data(), newer.size(), "<newer>");
    check(false, "a newer version is refused");
  } catch (const lnfast::ModelFileError& e) {
    check(e.problem().find("newer lnfast") != std::string::npos, "a newer version says so");
  }
}

}  // namespace

void test_model_files() {
  test_round_trips();
  test_relayout();
  test_parser_fuzz();
}

}  // namespace lnfast_test
