#include "lnfast/fingerprint.hpp"

#include <cstring>
#include <stdexcept>

namespace lnfast {
namespace {

// Bumped whenever the record below changes, so an old fingerprint can never
// match a model hashed another way.
// 2: the stored weights (not the float32 ones given), and int8 activations.
constexpr std::uint64_t kFingerprintScheme = 2;

std::uint64_t float_bits(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// The model as a list of 64-bit words: every scalar field, and for every
// array its length and its hash (so an empty bias differs from a zero one).
class Record {
 public:
  void add(std::uint64_t v) { words_.push_back(v); }
  void add(const std::vector<float>& values) {
    add(values.size());
    add(hash64(values.data(), values.size() * sizeof(float)));
  }
  void add(const Norm& n) {
    add(static_cast<std::uint64_t>(n.offset));
    add(static_cast<std::uint64_t>(n.size));
    add(n.gamma);
    add(n.beta);
    add(float_bits(n.eps));
  }
  void add(const std::vector<Norm>& norms) {
    add(norms.size());
    for (const Norm& n : norms) add(n);
  }
  std::uint64_t hash() const { return hash64_words(words_.data(), words_.size()); }

 private:
  std::vector<std::uint64_t> words_;
};

}  // namespace

std::uint64_t model_fingerprint(const std::vector<LayerSpec>& structure,
                                const std::vector<StoredHashes>& stored,
                                WeightFormat weights, bool int8_activations) {
  if (stored.size() != structure.size())
    throw std::invalid_argument("model_fingerprint: one StoredHashes per layer is needed");
  Record r;
  r.add(kFingerprintScheme);
  r.add(static_cast<std::uint64_t>(weights));
  r.add(int8_activations ? 1 : 0);
  r.add(structure.size());
  for (size_t k = 0; k < structure.size(); ++k) {
    const LayerSpec& s = structure[k];
    r.add(static_cast<std::uint64_t>(s.type));
    r.add(static_cast<std::uint64_t>(s.input_size));
    r.add(static_cast<std::uint64_t>(s.hidden_size));
    r.add(static_cast<std::uint64_t>(s.proj_size));
    r.add(stored[k].w_ih);
    r.add(stored[k].w_hh);
    r.add(stored[k].w_hr);
    r.add(s.b_ih);
    r.add(s.b_hh);
    r.add(s.x_norms);
    r.add(s.h_norms);
    r.add(s.gate_norms);
    r.add(static_cast<std::uint64_t>(s.cell_norm));
    r.add(s.c_norm);
    r.add(static_cast<std::uint64_t>(s.activation));
    r.add(float_bits(s.forget_bias));
    r.add(s.gru_paper_update ? 1 : 0);
    r.add(static_cast<std::uint64_t>(s.gru_reset));
    r.add(float_bits(s.update_bias));
    r.add(float_bits(s.zoneout));
  }
  return r.hash();
}

std::string fingerprint_hex(std::uint64_t fingerprint) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, fingerprint >>= 4) out[i] = kDigits[fingerprint & 15];
  return out;
}

}  // namespace lnfast
