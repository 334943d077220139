#!/usr/bin/env bash
# Installs the Debian packages Strata needs to build, test and run its demos.
# Idempotent: does nothing when every package is already installed.
# Uses sudo when not root. Set STRATA_WITH_TORCH=1 to also install the CPU
# PyTorch used as the benchmark peer (with the OpenMP OpenBLAS, see bench/).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenblas-openmp-dev libopenblas0-openmp
  libyaml-cpp-dev libstb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev zlib1g-dev
  dataset-fashion-mnist  # /usr/share/datasets/fashion-mnist/*.gz: the `make run` default's data
)
if [ "${STRATA_WITH_TORCH:-0}" = 1 ]; then
  packages+=(python3-torch python3-numpy)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
