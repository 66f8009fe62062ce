# SPDX-License-Identifier: MIT
# Thin wrapper over CMake. The build goes to build/; the CLI is build/rope.
BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
# CMake's generated makefiles call make recursively; without this every step prints
# "Entering/Leaving directory" lines.
MAKEFLAGS += --no-print-directory

.PHONY: all configure demo test install clean

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure:
	@./scripts/ensure-tools.sh
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) > /dev/null

# Only the libraries, the tool and the examples: the tests are built by `make test`.
demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target rope_demo_programs
	./$(BUILD)/onnx_demo
	./$(BUILD)/atb_demo

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)
