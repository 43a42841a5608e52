# pcitsm: the two commands of the README (`make run`, `make test`) do all the set-up.
# Build directories: build/ (release, gcc), build-san/ (ASan + UBSan, clang), build-fuzz/ (libFuzzer),
# build-valgrind/ (release flags, every test program under valgrind memcheck).

JOBS ?= $(shell nproc)
CMAKE ?= cmake
GEN := -G Ninja
FUZZ_SECONDS ?= 30
FUZZ_CAMPAIGN_SECONDS ?= 600
FUZZ_JOBS ?= $(JOBS)

.PHONY: all deps build build-san build-fuzz build-valgrind run test test-release test-san bench \
	fuzz fuzz-campaign clean mutants mutants-ci graph plots lint test-valgrind test-valgrind-ci install uninstall \
	deb deb-deps deb-test campaign

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

build-valgrind/build.ninja:
	$(CMAKE) -S . -B build-valgrind $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPCITSM_VALGRIND=ON

build-valgrind: deps build-valgrind/build.ninja
	$(CMAKE) --build build-valgrind -j $(JOBS)

# The main job on the embedded emulated platform.
run: build
	./scripts/run-demo.sh build

# All tests: release build, then the whole suite again under AddressSanitizer + UBSan, static
# analysis, the valgrind subset, then the CI subset of the mutation check (docs/security.md).
test: test-release test-san lint test-valgrind-ci mutants-ci

# Each prints a last line "== BUILD: N tests skipped" (scripts/ctest-skipped.sh).
test-release: build
	cd build && ctest --output-on-failure -j $(JOBS) -O ctest.log; rc=$$?; \
		../scripts/ctest-skipped.sh ctest.log release; exit $$rc

test-san: build-san
	cd build-san && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) \
		-O ctest.log; rc=$$?; ../scripts/ctest-skipped.sh ctest.log sanitizer; exit $$rc

# Static analysis (docs/security.md "Static analysis and valgrind"): cppcheck and clang-tidy
# (.clang-tidy) over lib/ src/ bench/ examples/ with the release build's compile commands. Any
# finding fails; tests/lint/cppcheck-suppressions.txt lists the false positives, with reasons.
lint: build
	JOBS=$(JOBS) ./scripts/lint.sh build

# The whole suite under valgrind memcheck, and the subset `make test` runs (ctest label
# valgrind-ci). Each prints "== valgrind: N tests skipped" and fails on any memcheck error.
test-valgrind: build-valgrind
	JOBS=$(JOBS) ./scripts/valgrind-ctest.sh build-valgrind valgrind

test-valgrind-ci: build-valgrind
	JOBS=$(JOBS) ./scripts/valgrind-ctest.sh build-valgrind valgrind-ci -L valgrind-ci

bench: build
	./build/pcitsm bench

# The benchmarks' pictures in docs/img/ (scripts/plots.sh: short runs with --json, then gnuplot).
# PLOT_SECONDS per figure (default 0.3) and PLOT_DMA_SECONDS (bench dma's run, default 4).
plots: build
	./scripts/plots.sh

# Run every libFuzzer target for FUZZ_SECONDS each, growing its corpus in a scratch copy
# (build-fuzz/fuzz-out/); FUZZ_TARGETS=a,b runs some.
fuzz: build-fuzz
	./scripts/fuzz.py --build build-fuzz --seconds $(FUZZ_SECONDS) --jobs 1 \
		$(if $(FUZZ_TARGETS),--targets $(FUZZ_TARGETS))

# The fuzz campaign (docs/security.md "The fuzz campaign"): every target FUZZ_CAMPAIGN_SECONDS
# (default 600), FUZZ_JOBS at a time; executions, edges and findings per target go to
# build-fuzz/fuzz-results.tsv and into the table of docs/security.md. Fails on any finding.
fuzz-campaign: build-fuzz
	./scripts/fuzz.py --build build-fuzz --seconds $(FUZZ_CAMPAIGN_SECONDS) --jobs $(FUZZ_JOBS) \
		--doc docs/security.md $(if $(FUZZ_TARGETS),--targets $(FUZZ_TARGETS))

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
# The interposer campaign connects, locks and starts a device per trial: CAMPAIGN_LINK_TRIALS.
CAMPAIGN_TRIALS ?= 100000
CAMPAIGN_HOST_TRIALS ?= 10000
CAMPAIGN_LINK_TRIALS ?= 10000
campaign: build
	for t in build/test_campaign_*; do \
		GLIBC_TUNABLES=glibc.malloc.tcache_count=0 \
		PCITSM_CAMPAIGN_TRIALS=$(CAMPAIGN_TRIALS) \
		PCITSM_CAMPAIGN_HOST_TRIALS=$(CAMPAIGN_HOST_TRIALS) \
		PCITSM_CAMPAIGN_LINK_TRIALS=$(CAMPAIGN_LINK_TRIALS) $$t || exit 1; done

# The module dependency picture from the includes: docs/modules.dot and docs/modules.png
# (scripts/modgraph.py; ctest docs/modules_current fails while the .dot is stale).
graph: deps
	./scripts/modgraph.py

# Install the programs, the shared library, headers, pkg-config file, man pages, bash completion
# and pcitsmd.service under PREFIX (default /usr/local), below DESTDIR if set (docs/install.md).
# build/ is configured for PREFIX; its install manifest is what `make uninstall` removes (give it
# the same DESTDIR).
PREFIX ?= /usr/local
install: build
	$(CMAKE) -S . -B build -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	$(CMAKE) --build build -j $(JOBS)
	DESTDIR="$(DESTDIR)" $(CMAKE) --install build

uninstall:
	@test -f build/install_manifest.txt || { echo "uninstall: nothing installed from build/"; exit 1; }
	sed 's|^|$(DESTDIR)|' build/install_manifest.txt | xargs -r rm -fv

# Debian packages pcitsm, libpcitsm0, libpcitsm-dev (debian/), built from a copy of the tree:
# the .deb files land in build/deb/.
deb-deps:
	@./scripts/install-deps.sh --deb

deb: deb-deps
	./scripts/build-deb.sh build/deb

# The package test (tests/install/deb.sh, ctest label deb): build, unpack, check, lintian.
deb-test: deb-deps build
	cd build && PCITSM_DEB_TEST=1 ctest --output-on-failure -L deb

clean:
	rm -rf build build-san build-fuzz build-valgrind build-mutants
