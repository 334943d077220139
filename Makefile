# Thin convenience layer over CMake. `make test` and `make run` are the
# README's quick start: both install missing Debian packages first.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps configure build test run sanitize bench clean

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

# ASan + UBSan build of the whole test suite, in its own folder.
sanitize:
	@$(MAKE) --no-print-directory test BUILD=build-asan \
	  CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_SANITIZE=ON -DSTRATA_BUILD_BENCH=OFF $(CMAKE_FLAGS)"

bench: build
	@$(BUILD)/bench/strata_bench

clean:
	rm -rf build build-asan
