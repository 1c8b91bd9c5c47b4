# kcr: checkpoint/restart for stock Linux kernels.
#
#   make                 kcr tool, and kcr.ko for the running kernel if its headers exist
#   make kernels         fetch the Debian kernels of each (ARCH, KSERIES) pair for the test guests
#   make kmod            kcr.ko for each pair against those kernels (or KDIR=), in build/<series>/<arch>/
#   make vmtest          boot each pair in QEMU and run the in-guest suite
#   make check           lint, unit tests and vmtest on CHECK_PAIRS: the three arches on 6.1, x86_64 on 6.12
#   make check-all       the same with vmtest on every pair
#   make kernels DEBUG=1 build the debug kernels (make vmtest DEBUG=1 runs on them)
#   make demo            boot an x86-64 6.1 guest: checkpoint, kill and restart a counting program
#
# ARCH is one or more of x86_64 s390x ppc64le (default: all three), KSERIES
# one or more kernel series (default: both): 6.1, Debian 12's kernel, and
# 6.12, Debian 12's linux-image-6.12 (bookworm-security), or Debian 13's
# for an arch that Debian 12 has none for (vmtest/kernels.sh). kernels,
# kmod, vmtest and fuzz-kernel run every (arch, series) pair of ARCH x
# KSERIES: make vmtest ARCH=s390x KSERIES=6.12 runs one. Within ARCH and
# KSERIES, make check runs the pairs of CHECK_PAIRS only.
# DEBUG=1 makes kernels, kmod and vmtest use debug kernels (KASAN, lockdep,
# kmemleak) built from Debian's linux-source-6.1 with kconfig/*.config:
# series "debug", built in build/debug/<arch>/ (KSERIES does not apply).
# KDIR=/path/to/kernel/build KERNEL=/path/to/bzImage use your own kernel
# (with a single ARCH, and the KSERIES whose build directory it takes).

VALID_ARCHES := x86_64 s390x ppc64le
VALID_SERIES := 6.1 6.12
ARCH ?= $(VALID_ARCHES)
KSERIES ?= $(VALID_SERIES)
override ARCHES := $(ARCH)
bad := $(filter-out $(VALID_ARCHES),$(ARCHES))
ifneq ($(bad),)
$(error unknown ARCH '$(bad)': valid choices are $(VALID_ARCHES))
endif
bad := $(filter-out $(VALID_SERIES),$(KSERIES))
ifneq ($(bad),)
$(error unknown KSERIES '$(bad)': valid choices are $(VALID_SERIES))
endif

# Debug kernels: their own series and build directory, and room for guests
# that run several times slower than on the Debian kernels.
DEBUG ?=
export DEBUG
ifeq ($(DEBUG),1)
override SERIES := debug
BASE_SERIES := debug
PAIR_TIMEOUT := 100
GUEST_TIMEOUT := 90m
else
override SERIES := $(KSERIES)
BASE_SERIES := 6.1
PAIR_TIMEOUT := 27
GUEST_TIMEOUT := 20m
endif

# The (arch, series) pairs, as ARCH/SERIES. RUN_PAIRS are the ones a target
# runs; check and check-all set it. make check's pairs keep CI within its
# time: all of 6.1 and the x86-64 6.12 pair.
PAIRS = $(foreach a,$(ARCHES),$(foreach s,$(SERIES),$(a)/$(s)))
CHECK_PAIRS := $(foreach a,$(VALID_ARCHES),$(a)/6.1) x86_64/6.12
RUN_PAIRS = $(PAIRS)

ifneq ($(KDIR)$(KERNEL),)
ifneq ($(words $(PAIRS)),1)
$(error KDIR= and KERNEL= need a single ARCH= and KSERIES=)
endif
endif
export KDIR KERNEL

GO ?= go
HOST_KDIR ?= /lib/modules/$(shell uname -r)/build
VMTEST_FLAGS ?=
RUN ?=
CHECKPATCH ?= /usr/src/linux-source-6.1/scripts/checkpatch.pl
FUZZTIME ?= 400000x
FUZZ_TARGETS := FuzzSummarize FuzzRecordStream

.PHONY: all kcr host-kmod deps kernels kmod vmtest check check-all lint unit fuzz fuzz-kernel bench generate demo clean

all: kcr host-kmod

kcr:
	$(GO) build -o bin/kcr ./cmd/kcr

host-kmod:
	@if [ -d "$(HOST_KDIR)" ]; then \
		env -u ARCH $(MAKE) -C "$(HOST_KDIR)" M=$(CURDIR)/kmod modules; \
	else \
		echo "no headers for the running kernel in $(HOST_KDIR): skipping kcr.ko (make kmod builds it for the test kernels)"; \
	fi

deps:
	vmtest/deps.sh

# kernels and kmod go through every pair, also past one that fails (a
# series that is new for an arch), and then fail naming the pairs that did.
# A pair whose kernel the archive cannot supply today (exit 3) is named but
# does not fail them: vmtest and fuzz-kernel leave it out (vmtest/pairs.sh),
# so that the arch runs on its other series.
kernels:
	@failed=; none=; for p in $(RUN_PAIRS); do a=$${p%/*} s=$${p#*/}; rc=0; \
		if [ "$$s" = debug ]; then vmtest/debug-kernel.sh $$a || rc=$$?; else vmtest/kernels.sh -s $$s $$a || rc=$$?; fi; \
		case $$rc in 0) ;; 3) none="$$none $$p" ;; *) failed="$$failed $$p" ;; esac; \
	done; [ -z "$$none" ] || echo "make kernels: the archive serves no kernel today for$$none" >&2; \
	[ -z "$$failed" ] || { echo "make kernels: failed for$$failed" >&2; exit 1; }

kmod:
	@failed=; none=; for p in $(RUN_PAIRS); do rc=0; vmtest/build-kmod.sh $${p%/*} $${p#*/} || rc=$$?; \
		case $$rc in 0) ;; 3) none="$$none $$p" ;; *) failed="$$failed $$p" ;; esac; \
	done; [ -z "$$none" ] || echo "make kmod: the archive serves no kernel today for$$none: left out" >&2; \
	[ -z "$$failed" ] || { echo "make kmod: failed for$$failed" >&2; exit 1; }

vmtest: deps kmod
	@pairs=$$(vmtest/pairs.sh $(RUN_PAIRS)) && n=$$(echo "$$pairs" | tr , '\n' | wc -l) && cd vmtest && set -x && \
	$(GO) test -tags vmtest -count=1 -timeout $$(( n * $(PAIR_TIMEOUT) ))m -v $(VMTEST_FLAGS) \
		-run 'TestVM|TestLogGuard|TestCrossSeries' . -args -kcr.pairs=$$pairs -kcr.run='$(RUN)' \
		-kcr.timeout=$(GUEST_TIMEOUT)

lint:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || { echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags kcrguest ./vmtest/guest
	$(GO) vet -tags vmtest ./vmtest
	@if [ -x $(CHECKPATCH) ]; then \
		$(CHECKPATCH) --no-tree --quiet --show-types -f $(filter-out kmod/compat.h,$(wildcard kmod/*.c kmod/*.h)) \
			kmod/arch/*.c kmod/arch/*.h vmtest/testmod/*.c uapi/linux/*.h uapi/asm-*/*.h || exit 1; \
		$(CHECKPATCH) --no-tree --quiet --show-types --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON \
			-f kmod/compat.h || exit 1; \
	else echo "checkpatch: $(CHECKPATCH) missing (make deps)"; exit 1; fi

unit:
	$(GO) test -count=1 ./...

# Each fuzz target for a bounded number of inputs beyond its seed corpus:
# a count, not a duration, because a -fuzztime duration can fail with a
# bare "context deadline exceeded" when it ends (Go's fuzzing coordinator,
# golang/go#75804, fixed in Go 1.27).
fuzz:
	@for f in $(FUZZ_TARGETS); do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./lib/image/ || exit 1; \
	done

# Restart fuzzing in the guests (TestRestartFuzz): N mutated images per
# pair, at most FUZZ_TIME each, mutations numbered from SEED; a failure's
# report names the N=1 SEED=... that repeats it. make check runs a short
# pass of the same test.
N ?= 1000
FUZZ_TIME ?= 60m
SEED ?= 0
fuzz-kernel: deps kmod
	@pairs=$$(vmtest/pairs.sh $(RUN_PAIRS)) && cd vmtest && set -x && \
	$(GO) test -tags vmtest -count=1 -timeout 0 -v -run 'TestVM' . \
		-args -kcr.pairs=$$pairs -kcr.run='^TestRestartFuzz$$' \
		-kcr.fuzzn=$(N) -kcr.fuzztime=$(FUZZ_TIME) -kcr.fuzzseed=$(SEED) \
		-kcr.timeout=$(GUEST_TIMEOUT)

# Benchmarks, never timed tests: the image decoder on the host, then, in
# one x86-64 guest, kcr beside CRIU and memcpy on processes of a few pages
# to 1 GiB (with room for the process, its image in /tmp and the restored
# copy), trees and threads; the plot goes to build/bench-memory.svg.
bench: override ARCHES := x86_64
bench: override SERIES := $(BASE_SERIES)
bench: deps kmod
	$(GO) test -run '^$$' -bench . -benchmem ./lib/image/
	$(GO) run ./vmtest/cmd/kcr-vm -arch x86_64 -series $(BASE_SERIES) -mode bench -bench 0,64,256,1024 -mem 6144

generate:
	$(GO) generate ./...

check: RUN_PAIRS = $(if $(filter 1,$(DEBUG)),$(PAIRS),$(filter $(CHECK_PAIRS),$(PAIRS)))
check: deps lint unit fuzz vmtest

check-all: deps lint unit fuzz vmtest

demo: override ARCHES := x86_64
demo: override SERIES := $(BASE_SERIES)
demo: deps kmod
	$(GO) run ./vmtest/cmd/kcr-vm -arch x86_64 -series $(BASE_SERIES) -mode demo

clean:
	rm -rf build bin
	-$(MAKE) -C kmod clean 2>/dev/null
