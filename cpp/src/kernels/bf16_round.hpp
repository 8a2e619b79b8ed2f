// float32 -> bfloat16 bits, rounding to nearest even: the one rounding both
// the weight packer and the AVX512_BF16 kernel's input pairing use, so the
// weights and the inputs a dot product multiplies are rounded alike.
#pragma once

#include <cstring>

namespace lnfast {

// Finite inputs only (weights are validated, step inputs checked finite).
inline unsigned short round_to_bf16(float v) {
  unsigned int bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<unsigned short>(bits >> 16);
}

}  // namespace lnfast
