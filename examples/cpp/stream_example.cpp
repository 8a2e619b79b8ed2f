// lnfast from C++ with no Python.
//
//   cmake -S . -B build -DLNFAST_BUILD_EXAMPLES=ON && cmake --build build
//   ./build/lnfast_stream_example
//       builds a one-layer LN-LSTM from canonical arrays, shares the model
//       between two streams, steps each, saves and restores a stream's state
//   ./build/lnfast_stream_example MODEL.lnfast INPUTS.f32 OUTPUTS.f32
//       maps a model file (model.save or `lnfast convert` wrote it) and
//       steps it over T x input_size float32s, writing T x hidden_size
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include "lnfast/model.hpp"
#include "lnfast/model_file.hpp"

static int step_model_file(const char* model_path, const char* inputs, const char* outputs) {
  std::shared_ptr<const lnfast::Model> model;
  try {
    model = lnfast::load_model_file(model_path);  // mapped: no copy, no conversion
  } catch (const lnfast::ModelFileError& e) {
    std::fprintf(stderr, "%s\n", e.what());  // "<path>: <problem>"
    return 1;
  }
  std::ifstream in(inputs, std::ios::binary);
  std::vector<float> x(model->input_size()), h(model->hidden_size());
  std::ofstream out(outputs, std::ios::binary);
  lnfast::Stream stream(model);
  int steps = 0;
  while (in.read(reinterpret_cast<char*>(x.data()), sizeof(float) * x.size())) {
    stream.step(x.data(), h.data());
    out.write(reinterpret_cast<const char*>(h.data()), sizeof(float) * h.size());
    ++steps;
  }
  std::printf("%d steps of %s (%d -> %d, %s weights, %s)\n", steps, model_path,
              model->input_size(), model->hidden_size(),
              lnfast::weight_format_name(model->weight_format()), lnfast::isa_name(model->isa()));
  return out ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc == 4) return step_model_file(argv[1], argv[2], argv[3]);
  const int I = 3, H = 5;
  lnfast::LayerSpec spec;
  spec.type = lnfast::CellType::LSTM;
  spec.input_size = I;
  spec.hidden_size = H;
  spec.w_ih.resize(4 * H * I);
  spec.w_hh.resize(4 * H * H);
  for (size_t k = 0; k < spec.w_ih.size(); ++k) spec.w_ih[k] = 0.3f * std::sin(0.7f * k);
  for (size_t k = 0; k < spec.w_hh.size(); ++k) spec.w_hh[k] = 0.2f * std::cos(1.3f * k);
  lnfast::Norm gates;  // separate norms over all 4H units, no gain/shift
  gates.offset = 0;
  gates.size = 4 * H;
  spec.x_norms = {gates};
  spec.h_norms = {gates};
  spec.cell_norm = lnfast::CellNorm::State;
  spec.c_norm.size = H;

  auto model = std::make_shared<const lnfast::Model>(
      std::vector<lnfast::LayerSpec>{spec}, lnfast::default_isa());
  lnfast::Stream a(model), b(model);
  std::vector<float> x(I, 0.5f), h(H);
  for (int t = 0; t < 10; ++t) a.step(x.data(), h.data());

  const std::vector<float> saved = a.state();  // h and c of every layer
  b.set_state(saved.data(), saved.size());
  std::vector<float> ha(H), hb(H);
  a.step(x.data(), ha.data());
  b.step(x.data(), hb.data());

  std::printf("isa %s, h[0] after 11 steps: %.6f\n", lnfast::isa_name(model->isa()), ha[0]);
  for (int k = 0; k < H; ++k)
    if (ha[k] != hb[k]) {
      std::printf("restored stream diverged\n");
      return 1;
    }
  std::printf("restored stream continues bit-identically\n");
  return 0;
}
