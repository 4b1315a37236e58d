# qinval — the two commands a newcomer needs, plus the sanitizer build.
#   make run        build, then run the main job: the verdict matrix, every driver x scenario
#   make test       build and run every test with CTest
#   make test-asan  the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#   make soak       the engine on every scenario x every hardware behaviour, millions of
#                   executions (SOAK_EXECUTIONS per run, default 2000; SOAK_JOBS in parallel)
#   make bench      the engine against step1-nowait in the model's cost model
#   make pgo        the same build with profile-guided optimisation in $(BUILD_PGO)/ (GCC;
#                   about 1.3x the checker's executions per second), checked to decide
#                   exactly as $(BUILD)/qinval does (scripts/pgo.sh)
#   make kernel KSRC=PATH   build the kernel harness for a Linux tree (a directory or a
#                   linux-source-*.tar.xz) and print the kernel driver's column of the matrix
#   make plots      the checker and engine benchmarks with small budgets, as CSV and as SVG
#                   charts drawn by gnuplot, in $(BUILD)/plots/
#   make fuzz       the libFuzzer targets of fuzz/ built with clang in $(BUILD_FUZZ)/, each run
#                   on its corpus for FUZZ_SECONDS (default 60; CI: 10); fails on a crash
#                   (inputs under $(BUILD_FUZZ)/crashes/TARGET/). FUZZ_TARGETS picks some;
#                   FUZZ_JOBS=N runs N targets at once (GNU parallel). Results in
#                   $(BUILD_FUZZ)/fuzz-summary.txt.
#   make install    the command, its man page and scenarios, libqinval with its headers and
#                   qinval.pc, under PREFIX (default /usr/local), staged under DESTDIR if set
# Each target first installs missing build dependencies (scripts/deps.sh).

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_PGO  ?= build-pgo
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX     ?= /usr/local
DESTDIR    ?=

.PHONY: all deps build run test test-asan pgo soak bench kernel plots install format clean fuzz

all: build

deps:
	@echo "== checking build dependencies"
	@scripts/deps.sh

build: deps
	@echo "== configuring and building in $(BUILD)/"
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@echo "== the verdict matrix: $(BUILD)/qinval matrix (exit 1 means violations were found)"
	@$(BUILD)/qinval matrix || [ $$? -eq 1 ]

test: build
	@echo "== running the test suite"
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: deps
	@echo "== configuring and building with ASan + UBSan in $(BUILD_ASAN)/"
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DQINVAL_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)
	@echo "== running the test suite under ASan + UBSan"
	@QINVAL_LKH_CACHE=$(abspath $(BUILD))/lkh \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS)

pgo: build
	@scripts/pgo.sh $(BUILD_PGO) $(BUILD)/qinval

SOAK_EXECUTIONS ?= 2000
SOAK_JOBS       ?= 2

soak: build
	@echo "== soak: the engine, every scenario, all 64 combinations of hardware behaviour and scheduling points, $(SOAK_EXECUTIONS) executions per run"
	@scripts/engine-check.sh $(BUILD)/qinval $(SOAK_EXECUTIONS) $(SOAK_JOBS) full

bench: build
	@$(BUILD)/bench/engine

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_SEED ?=
FUZZ_JOBS ?= 1

fuzz: deps
	@scripts/deps.sh clang-14 libclang-rt-14-dev $(if $(filter-out 1,$(FUZZ_JOBS)),parallel)
	@JOBS=$(JOBS) FUZZ_SEED=$(FUZZ_SEED) FUZZ_JOBS=$(FUZZ_JOBS) scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

KSRC ?= $(QINVAL_KSRC)

kernel: build
	@if [ -z "$(KSRC)" ]; then \
		echo "make kernel: needs KSRC=PATH (a Linux source directory or linux-source-*.tar.xz)" >&2; \
		exit 2; fi
	@echo "== the kernel driver from $(KSRC): $(BUILD)/qinval matrix --driver kernel"
	@QINVAL_KSRC="$(KSRC)" $(BUILD)/qinval matrix --driver kernel || [ $$? -eq 1 ]

PLOTS_DIR ?= $(BUILD)/plots

plots: build
	@scripts/deps.sh gnuplot-nox
	@mkdir -p $(PLOTS_DIR)
	@echo "== bench/checker and bench/engine with small budgets -> $(PLOTS_DIR)/*.csv"
	@$(BUILD)/bench/checker 500 1 --csv $(PLOTS_DIR)/checker.csv >/dev/null
	@$(BUILD)/bench/engine 8 --csv $(PLOTS_DIR)/engine.csv >/dev/null
	@gnuplot -e "dir='$(PLOTS_DIR)'" bench/plots.gp
	@ls $(PLOTS_DIR)/*.svg

install: deps
	@echo "== configuring for PREFIX=$(PREFIX) and installing$(if $(DESTDIR), under DESTDIR=$(DESTDIR))"
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_PGO) $(BUILD_FUZZ)
