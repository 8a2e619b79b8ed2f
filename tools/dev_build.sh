#!/usr/bin/env bash
# Incremental developer build: compiles the extension into build-dev/ and
# drops it next to the sources, so `PYTHONPATH=python` imports it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-dev/build.ninja ]; then
  cmake -S . -B build-dev -G Ninja -DSKBUILD=ON \
    -Dpybind11_DIR="$(python3 -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
    -DPython_EXECUTABLE="$(command -v python3)" > /dev/null
fi
ninja -C build-dev > /dev/null
# Copy then rename: overwriting a loaded .so in place crashes running processes.
for so in build-dev/_core*.so; do
  cp "$so" "python/lnfast/.$(basename "$so").tmp"
  mv "python/lnfast/.$(basename "$so").tmp" "python/lnfast/$(basename "$so")"
done
