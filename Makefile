# kcr: checkpoint/restart for stock Linux kernels.
#
#   make                 kcr tool, and kcr.ko for the running kernel if its headers exist
#   make kernels         fetch the Debian bookworm kernels for the test guests
#   make kmod            kcr.ko for each ARCH against those kernels (or KDIR=)
#   make vmtest          boot each ARCH in QEMU and run the in-guest suite
#   make check           lint, unit tests and vmtest for all three arches
#   make kernels DEBUG=1 build the debug kernels (make vmtest DEBUG=1 runs on them)
#   make demo            boot an x86-64 guest: checkpoint, kill and restart a counting program
#
# ARCH is one or more of x86_64 s390x ppc64le (default: all three).
# DEBUG=1 makes kernels, kmod and vmtest use debug kernels (KASAN, lockdep,
# kmemleak) built from Debian's linux-source-6.1 with kconfig/*.config.
# KDIR=/path/to/kernel/build KERNEL=/path/to/bzImage use your own kernel
# (with a single ARCH).

VALID_ARCHES := x86_64 s390x ppc64le
ARCH ?= $(VALID_ARCHES)
override ARCHES := $(ARCH)
bad := $(filter-out $(VALID_ARCHES),$(ARCHES))
ifneq ($(bad),)
$(error unknown ARCH '$(bad)': valid choices are $(VALID_ARCHES))
endif
ifneq ($(KDIR)$(KERNEL),)
ifneq ($(words $(ARCHES)),1)
$(error KDIR= and KERNEL= need a single ARCH=)
endif
endif
export KDIR KERNEL

# Debug kernels: their own build directory, and room for guests that run
# several times slower than on the Debian kernels.
DEBUG ?=
export DEBUG
ifeq ($(DEBUG),1)
KERNELS_SH := vmtest/debug-kernel.sh
VMTEST_BUILD := ../build/debug
VMTEST_TIMEOUT := 300m
GUEST_TIMEOUT := 90m
else
KERNELS_SH := vmtest/kernels.sh
VMTEST_BUILD := ../build
VMTEST_TIMEOUT := 80m
GUEST_TIMEOUT := 20m
endif

GO ?= go
HOST_KDIR ?= /lib/modules/$(shell uname -r)/build
VMTEST_FLAGS ?=
RUN ?=
CHECKPATCH ?= /usr/src/linux-source-6.1/scripts/checkpatch.pl
FUZZTIME ?= 20s
FUZZ_TARGETS := FuzzSummarize FuzzRecordStream

.PHONY: all kcr host-kmod deps kernels kmod vmtest check lint unit fuzz fuzz-kernel bench generate demo clean

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

kernels:
	$(KERNELS_SH) $(ARCHES)

kmod:
	@for a in $(ARCHES); do vmtest/build-kmod.sh $$a || exit 1; done

vmtest: deps kmod
	cd vmtest && $(GO) test -tags vmtest -count=1 -timeout $(VMTEST_TIMEOUT) -v $(VMTEST_FLAGS) \
		-run 'TestVM|TestLogGuard' . -args -kcr.arch=$(subst $(space),$(comma),$(strip $(ARCHES))) -kcr.run='$(RUN)' \
		-kcr.build=$(VMTEST_BUILD) -kcr.timeout=$(GUEST_TIMEOUT) -kcr.debug=$(if $(filter 1,$(DEBUG)),true,false)

comma := ,
space := $() $()

lint:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || { echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags kcrguest ./vmtest/guest
	$(GO) vet -tags vmtest ./vmtest
	@if [ -x $(CHECKPATCH) ]; then \
		$(CHECKPATCH) --no-tree --quiet --show-types -f kmod/*.c kmod/*.h kmod/arch/*.c kmod/arch/*.h vmtest/testmod/*.c \
			uapi/linux/*.h uapi/asm-*/*.h || exit 1; \
	else echo "checkpatch: $(CHECKPATCH) missing (make deps)"; exit 1; fi

unit:
	$(GO) test -count=1 ./...

# Each fuzz target for a bounded time, beyond its seed corpus.
fuzz:
	@for f in $(FUZZ_TARGETS); do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./lib/image/ || exit 1; \
	done

# Restart fuzzing in the guests (TestRestartFuzz): N mutated images per
# arch, at most FUZZ_TIME each, mutations numbered from SEED; a failure's
# report names the N=1 SEED=... that repeats it. make check runs a short
# pass of the same test.
N ?= 1000
FUZZ_TIME ?= 60m
SEED ?= 0
fuzz-kernel: deps kmod
	cd vmtest && $(GO) test -tags vmtest -count=1 -timeout 0 -v -run 'TestVM' . \
		-args -kcr.arch=$(subst $(space),$(comma),$(strip $(ARCHES))) -kcr.run='^TestRestartFuzz$$' \
		-kcr.fuzzn=$(N) -kcr.fuzztime=$(FUZZ_TIME) -kcr.fuzzseed=$(SEED) \
		-kcr.build=$(VMTEST_BUILD) -kcr.timeout=$(GUEST_TIMEOUT) -kcr.debug=$(if $(filter 1,$(DEBUG)),true,false)

# Benchmarks, never timed tests: image decoding speed on the host.
# The image decoder on the host, then checkpoint and restart of 256 MiB
# and 1 GiB against memcpy in an x86-64 guest (with room for the process,
# its image in /tmp and the restarted copy).
bench: override ARCHES := x86_64
bench: deps kmod
	$(GO) test -run '^$$' -bench . -benchmem ./lib/image/
	$(GO) run ./vmtest/cmd/kcr-vm -arch x86_64 -mode bench -bench 256,1024 -mem 6144

generate:
	$(GO) generate ./...

check: deps lint unit fuzz vmtest

demo: override ARCHES := x86_64
demo: deps kmod
	$(GO) run ./vmtest/cmd/kcr-vm -arch x86_64 -mode demo

clean:
	rm -rf build bin
	-$(MAKE) -C kmod clean 2>/dev/null
