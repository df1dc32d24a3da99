#!/usr/bin/env bash
# Configures and builds tide into build/ (Ninja, RelWithDebInfo). Usage: scripts/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
"$(pwd)/scripts/deps.sh"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build
