// The numbers a model file gives each enum value. Written out here rather
// than taken from the C++ enums, so reordering an enum can never change
// what an existing file means.
#pragma once

#include <cstdint>

#include "lnfast/spec.hpp"
#include "packing/packed_matrix.hpp"

namespace lnfast {
namespace model_file {

template <class E>
struct Code {
  E value;
  std::uint32_t code;
  const char* name;
};

constexpr Code<WeightFormat> kWeightFormatCodes[] = {
    {WeightFormat::F32, 0, "fp32"}, {WeightFormat::BF16, 1, "bf16"}, {WeightFormat::I8, 2, "int8"}};
constexpr Code<CellType> kCellTypeCodes[] = {
    {CellType::RNN, 0, "RNN"}, {CellType::LSTM, 1, "LSTM"}, {CellType::GRU, 2, "GRU"}};
constexpr Code<CellNorm> kCellNormCodes[] = {
    {CellNorm::None, 0, "none"}, {CellNorm::Output, 1, "output"}, {CellNorm::State, 2, "state"}};
constexpr Code<Activation> kActivationCodes[] = {
    {Activation::Tanh, 0, "tanh"}, {Activation::Relu, 1, "relu"}};
constexpr Code<GruReset> kGruResetCodes[] = {
    {GruReset::Recurrent, 0, "recurrent"}, {GruReset::Candidate, 1, "candidate"}};
constexpr Code<PanelOrder> kPanelOrderCodes[] = {
    {PanelOrder::Plain, 0, "plain"}, {PanelOrder::Bf16Pairs, 1, "bf16 pairs"},
    {PanelOrder::KGroups, 2, "k groups"}};

template <class E, std::size_t N>
std::uint32_t code_of(const Code<E> (&codes)[N], E value) {
  for (const Code<E>& c : codes)
    if (c.value == value) return c.code;
  return ~0u;  // unreachable for the enums above: each lists every value
}

// False when `code` names no value.
template <class E, std::size_t N>
bool value_of(const Code<E> (&codes)[N], std::uint32_t code, E* value) {
  for (const Code<E>& c : codes)
    if (c.code == code) {
      *value = c.value;
      return true;
    }
  return false;
}

}  // namespace model_file
}  // namespace lnfast
