// Objects made with Type.__new__(Type), whose __init__ never ran, raise
// TypeError when passed to or called on: pybind11 would otherwise hand the
// method uninitialised memory.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "lnfast/model.hpp"
#include "lnfast/spec.hpp"

namespace lnfast_py {

template <class T>
struct RefuseUninitialised : pybind11::detail::type_caster_base<T> {
  bool load(pybind11::handle src, bool convert) {
    namespace d = pybind11::detail;
    const d::type_info* info = d::get_type_info(typeid(T));
    if (info && src && PyObject_TypeCheck(src.ptr(), info->type)) {
      auto* inst = reinterpret_cast<d::instance*>(src.ptr());
      const d::value_and_holder v_h = inst->get_value_and_holder(info, false);
      // An owned instance gets its holder when __init__ runs; one without
      // is memory pybind11 allocated lazily and nothing constructed. (A
      // reference into another object, say an element of a spec's list,
      // is not owned and never has a holder.) Not `v_h &&`: its bool means
      // "has a value", and a lazily allocated value is what this refuses.
      if (v_h.inst && inst->owned && !v_h.holder_constructed())
        throw pybind11::type_error(
            std::string(Py_TYPE(src.ptr())->tp_name) +
            " object is not initialised (made with __new__, __init__ never ran)");
    }
    return pybind11::detail::type_caster_base<T>::load(src, convert);
  }
};

}  // namespace lnfast_py

#define LNFAST_REFUSE_UNINITIALISED(T)                                   \
  namespace pybind11::detail {                                            \
  template <>                                                             \
  class type_caster<T> : public ::lnfast_py::RefuseUninitialised<T> {};   \
  }

LNFAST_REFUSE_UNINITIALISED(lnfast::Model)
LNFAST_REFUSE_UNINITIALISED(lnfast::LayerSpec)
LNFAST_REFUSE_UNINITIALISED(lnfast::Norm)
