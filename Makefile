# Riposte — top-level commands. See README.md.
PRESET ?= release
BUILD_DIR := build
JOBS ?= $(shell nproc)

.PHONY: all setup configure build test run lint format clean bench

all: build

setup:
	@scripts/setup

$(BUILD_DIR)/build.ninja:
	cmake --preset $(PRESET)

configure: $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: setup
	@$(MAKE) --no-print-directory build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

run: setup
	@$(MAKE) --no-print-directory build
	@./$(BUILD_DIR)/riposte user add --config examples/riposte.yaml --role admin --generate --if-absent admin
	@echo "console API: http://127.0.0.1:8080/api/v1 (log in as admin)"
	./$(BUILD_DIR)/riposte serve --config examples/riposte.yaml

lint: configure
	clang-format --dry-run --Werror $$(git ls-files '*.cc' '*.h')
	run-clang-tidy -quiet -p $(BUILD_DIR) $$(git ls-files 'src/*.cc') || clang-tidy -p $(BUILD_DIR) --quiet $$(git ls-files 'src/*.cc')

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

bench: build
	@echo "Benchmarks are in $(BUILD_DIR)/bench; see bench/README.md"

clean:
	rm -rf $(BUILD_DIR) build-debug build-asan
