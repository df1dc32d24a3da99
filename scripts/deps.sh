#!/usr/bin/env bash
# Installs the Debian packages tide needs to build and test (docs/dependencies.md says why each
# one). Installs only what is missing; runs apt-get update first when it has to install.
# Needs root (or sudo) to install; without either it lists what to install and fails.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config   # the toolchain
  libsqlite3-dev                     # the embedded store
  nlohmann-json3-dev                 # JSON for the API and the store's documents
  libcli11-dev                       # the tide command line
  libyaml-cpp-dev                    # stack files (tide up)
  libssl-dev                         # SHA-256, SigV4's HMAC, certificates (libcrypto); TLS (libssl)
  libnghttp2-dev                     # HTTP/2: from clients (src/h2), h2c health checks (GRPC groups)
  nghttp2-client                     # h2load: HTTP/2 load in tests and bench/tls_compare.py
  libgtest-dev                       # unit tests
  clang-14 libclang-rt-14-dev        # fuzzing the HTTP parser: clang, libFuzzer and sanitizers
  llvm-14                            # llvm-symbolizer: file and line in sanitizer reports
  python3                            # integration tests and the example app
  curl                               # the README's examples
  awscli python3-boto3               # the AWS clients the integration tests drive tide with
  python3-grpcio                     # a real gRPC server in test_grpc_health's instances
  python3-botocore                   # AWS's service models: scripts/gen_wire_model.py reads them
  tzdata                             # time zones of scheduled actions (/usr/share/zoneinfo)
  libjs-chart.js                     # the console's charts, embedded in tide at build time
  chromium                           # the console's browser test (headless, DevTools protocol)
  prometheus                         # a real Prometheus scrapes /metrics in a test; promtool
  nftables                           # nft: security groups enforced by the kernel's filtering
  e2fsprogs                          # mkfs.ext4: root volume sizes enforced (root_volume.h)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "tide needs these Debian packages: ${missing[*]}" >&2
  echo "install them as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
