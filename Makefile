# pcitsm: the two commands of the README (`make run`, `make test`) do all the set-up.
# Build directories: build/ (release, gcc), build-san/ (ASan + UBSan, clang), build-fuzz/ (libFuzzer).

JOBS ?= $(shell nproc)
CMAKE ?= cmake
GEN := -G Ninja
FUZZ_SECONDS ?= 30

.PHONY: all deps build build-san build-fuzz run test test-release test-san bench fuzz clean \
	mutants mutants-ci graph campaign

all: build

deps:
	@./scripts/install-deps.sh

build/build.ninja:
	$(CMAKE) -S . -B build $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps build/build.ninja
	$(CMAKE) --build build -j $(JOBS)

build-san/build.ninja:
	CC=clang $(CMAKE) -S . -B build-san $(GEN) -DCMAKE_BUILD_TYPE=Debug -DPCITSM_SANITIZE=ON

build-san: deps build-san/build.ninja
	$(CMAKE) --build build-san -j $(JOBS)

build-fuzz/build.ninja:
	CC=clang $(CMAKE) -S . -B build-fuzz $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPCITSM_FUZZ=ON

build-fuzz: deps build-fuzz/build.ninja
	$(CMAKE) --build build-fuzz -j $(JOBS)

# The main job on the embedded emulated platform.
run: build
	./scripts/run-demo.sh build

# All tests: release build, then the whole suite again under AddressSanitizer + UBSan, then the
# CI subset of the mutation check (docs/security.md).
test: test-release test-san mutants-ci

# Each prints a last line "== BUILD: N tests skipped" (scripts/ctest-skipped.sh).
test-release: build
	cd build && ctest --output-on-failure -j $(JOBS) -O ctest.log; rc=$$?; \
		../scripts/ctest-skipped.sh ctest.log release; exit $$rc

test-san: build-san
	cd build-san && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) \
		-O ctest.log; rc=$$?; ../scripts/ctest-skipped.sh ctest.log sanitizer; exit $$rc

bench: build
	./build/pcitsm bench

# Run every libFuzzer target for FUZZ_SECONDS each, growing its corpus in a scratch copy.
fuzz: build-fuzz
	./scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

# Mutation check (docs/security.md): break each security check of tests/mutants/*.txt in a
# private copy of the tree (build-mutants/), fail naming every mutant its tests do not catch.
# MUTANTS=id1,id2 runs some; MUTANTS_FLAGS=--full runs the whole suite per mutant.
mutants: deps
	./scripts/mutants.py --jobs $(JOBS) $(MUTANTS_FLAGS)

# The entries marked `ci: yes`: the last step of `make test`.
mutants-ci: deps
	./scripts/mutants.py --jobs $(JOBS) --subset ci

# The hostile-wire campaigns at full size (docs/security.md "Campaigns against our requester and
# responders"): CAMPAIGN_TRIALS trials of each, figures printed. `ctest -L campaign` is the CI size.
# The hostile host scans a capture file per trial: CAMPAIGN_HOST_TRIALS of those.
CAMPAIGN_TRIALS ?= 100000
CAMPAIGN_HOST_TRIALS ?= 10000
campaign: build
	for t in build/test_campaign_*; do \
		GLIBC_TUNABLES=glibc.malloc.tcache_count=0 \
		PCITSM_CAMPAIGN_TRIALS=$(CAMPAIGN_TRIALS) \
		PCITSM_CAMPAIGN_HOST_TRIALS=$(CAMPAIGN_HOST_TRIALS) $$t || exit 1; done

# The module dependency picture from the includes: docs/modules.dot and docs/modules.png
# (scripts/modgraph.py; ctest docs/modules_current fails while the .dot is stale).
graph: deps
	./scripts/modgraph.py

clean:
	rm -rf build build-san build-fuzz build-mutants
