// Weight matrices lent to the core from NumPy arrays without a copy: a
// Model packs straight from them, the GIL released, and keeps none.
#pragma once

#include <vector>

#include "arrays.hpp"
#include "lnfast/spec.hpp"

namespace lnfast_py {

// Views of the arrays, and the references that keep them alive while the
// core reads them (the call that lent them must outlive the reading).
struct LentMatrices {
  std::vector<lnfast::LayerViews> layers;
  std::vector<py::object> keep;
};

// `matrices`: one (w_ih, w_hh, w_hr) per layer, w_hr None when not
// projected. Each is an array of real values (float32 with unit column
// stride is read in place; anything else is converted to float32 once), or
// a pair (elements, row_scales) of the stored form of `format`, as
// Model.stored_matrix returns it. Raises TypeError/ValueError naming
// "layer k: w_ih" for anything else.
LentMatrices lend_matrices(py::handle matrices, lnfast::WeightFormat format);

// One layer's (w_ih, w_hh, w_hr) as values, for a lone cell's checks.
lnfast::LayerViews lend_layer_values(py::handle matrices, LentMatrices& into,
                                        const std::string& where);

}  // namespace lnfast_py
