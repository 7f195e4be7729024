# SPDX-License-Identifier: GPL-2.0
#
# vhostx user entry points; `make help` lists them.  Kernel builds go
# through kbuild, which reads ./Kbuild (not this file).

# Kernel build tree: the running kernel's, else the newest Debian headers.
# Looked up when a recipe uses it (=, not :=): on a fresh machine `deps`
# installs the headers earlier in the same make run (make demo).
ifeq ($(strip $(KDIR)),)
KDIR = $(shell d=/lib/modules/$$(uname -r)/build; [ -d $$d ] && echo $$d || \
	ls -dv /usr/src/linux-headers-*-amd64 2>/dev/null | tail -n1)
endif
export KDIR

KBUILD_VARS := CONFIG_VHOSTX=m CONFIG_VHOSTX_NET=m CONFIG_VHOSTX_TEST=m
KMAKE        = $(MAKE) -C $(KDIR) M=$(CURDIR) $(KBUILD_VARS)

VM_RUN      := tools/testing/vm/vm-run
# Time limit (seconds) for the test-suite VM run.
VM_TIMEOUT  ?= 2400
SELFTESTS   := tools/testing/selftests/vhostx

# The check/demo recipes are ordered steps: never run them in parallel.
.NOTPARALLEL:
.PHONY: all modules deps sparse kernel-doc selftests check vm-test dkms-check \
	deb deb-check vm-selftest demo bench dkms-install dkms-remove clean help

all: modules

modules:
	@test -d "$(KDIR)" || { echo "KDIR '$(KDIR)' not found: run 'make deps'"; exit 1; }
	$(KMAKE) modules

deps:
	tools/setup.sh

# C=2 checks every source file whether or not it is rebuilt; sparse
# warnings are errors.
sparse:
	$(KMAKE) C=2 CF=-Wsparse-error modules

# kernel-doc over every source file and header; warnings are errors.
kernel-doc:
	$(KDIR)/scripts/kernel-doc -none -Werror \
		$$(find drivers include -name '*.[ch]' ! -name '*.mod.c' | sort)

selftests:
	@test -f $(SELFTESTS)/Makefile || { echo "$(SELFTESTS)/Makefile is missing"; exit 1; }
	$(MAKE) -C $(SELFTESTS) OUTPUT=$(CURDIR)/build/selftests \
		KSFT_INC=$(CURDIR)/build/kselftest

# The selftests, inside a VM, with the modules from this tree.
vm-test:
	$(VM_RUN) --timeout $(VM_TIMEOUT) --results $(CURDIR)/build/vm/test -- \
		sh -c 'tools/testing/vm/load-modules.sh && tools/testing/vm/run-selftests.sh'

# dkms build/install of a copy of this tree, modprobe in a VM, remove
# (make dkms-install's path; make check runs deb-check instead).
dkms-check:
	tools/testing/dkms-check.sh

# The Debian package vhostx-dkms in build/deb/, lintian-clean
# (tools/deb.sh; debian/).
deb:
	tools/deb.sh

# The package end to end: build, apt-get install (DKMS builds the modules),
# its autopkgtests (debian/tests: dkms here, load in a VM: modprobe, udev
# rule, an unprivileged kvm user's traffic), remove, purge
# (tools/testing/deb-check.sh).
deb-check:
	tools/testing/deb-check.sh

# Proves the runner fails a run whose kernel log has a WARNING.
vm-selftest:
	tools/testing/vm/selftest.sh

# Each step's time goes to build/check-times (printed at the end).
CHECK_STEPS := deps all sparse kernel-doc selftests vm-test deb-check \
	vm-selftest bench-build check-e2e check-dpdk-vhostx
check:
	@rm -f build/check-times
	@set -e; for s in $(CHECK_STEPS); do \
		echo "make $$s"; \
		tools/testing/lib/timed.sh build/check-times $$s $(MAKE) $$s; \
	done
	@echo "make check: all steps passed, in:"; sed 's/^/  /' build/check-times
	@echo "make check: selftests in the VM:"
	@# The suite's own count, as the last line (CI reads it).
	@tr -d '\r' < build/vm/test/console.log | \
		grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1

demo: deps all selftests
	$(VM_RUN) --results $(CURDIR)/build/demo -- tools/demo/run-demo.sh

# vhost-net vs vhostx benchmark: builds, boots one guest, runs
# tools/bench/vhostx-bench, writes build/bench/{results.json,table.rst,
# bench.png}.  BENCH_* variables tune it (tools/bench/run.sh).  Then the
# ring section (bench-ring) unless BENCH_UPSTREAM=0 (BENCH_RING is the bench's ring size).
# BENCH_KERNEL=<release> (trixie, sid): the same guest on that Debian
# release's kernel, its vhost_net against the modules built for it
# (tools/testing/kernels/build-newer.sh --bench), results in
# build/bench-<release>/; no ring section there.
BENCH_UPSTREAM ?= 1
bench: deps
ifeq ($(BENCH_KERNEL),)
	tools/bench/run.sh
	@if [ "$(BENCH_UPSTREAM)" != 0 ]; then $(MAKE) bench-ring; fi
else
	tools/testing/kernels/build-newer.sh --bench $(BENCH_KERNEL)
endif

# Upstream's ring benchmark (tools/virtio/virtio_test from linux-source)
# against the kernel's vhost_test and vhostx_test in one guest, every
# variant, alternating pairs: build/bench/ring/{results.jsonl,table.rst}.
# RING_* variables tune it (tools/bench/ring/run.sh).
.PHONY: bench-ring upstream-build
bench-ring: deps
	tools/bench/ring/run.sh

# Where each device's instructions go, exactly: one instruction-counting
# guest per device with a QEMU plugin counting every block executed, then
# per kernel function vhost_test's and vhostx_test's instructions per
# buffer side by side (tools/bench/ring/profile.sh, build/bench/ring-profile/).
.PHONY: bench-ring-profile
bench-ring-profile: deps
	tools/bench/ring/profile.sh

# Just the upstream programs and vhost_test.ko, into build/upstream/.
upstream-build:
	tools/bench/ring/build-upstream.sh

# A real VMM end to end: QEMU inside the test VM boots a second guest whose
# virtio-net NIC is backed by /dev/vhostx-net (tools/testing/e2e/run.sh).
.PHONY: check-e2e
check-e2e:
	tools/testing/e2e/run.sh

# DPDK's testpmd (virtio-user) on /dev/vhostx-net and, as the reference,
# /dev/vhost-net: split, packed, in-order rings, TX and RX, frames counted
# at both ends (tools/testing/dpdk/run.sh).
.PHONY: check-dpdk
check-dpdk:
	tools/setup.sh --dpdk
	tools/testing/dpdk/run.sh

# make check's DPDK step: the same test on /dev/vhostx-net alone, split
# and packed rings, TX and RX (the whole matrix beside vhost-net is
# make check-dpdk).  These defaults give way to DPDK_DEVICES,
# DPDK_VARIANTS and DPDK_RX_FRAMES from the environment or the command line.
.PHONY: check-dpdk-vhostx
check-dpdk-vhostx: DPDK_DEVICES ?= vhostx-net
check-dpdk-vhostx: DPDK_VARIANTS ?= split packed
check-dpdk-vhostx: DPDK_RX_FRAMES ?= 2000
check-dpdk-vhostx:
	tools/setup.sh --dpdk
	DPDK_DEVICES="$(DPDK_DEVICES)" DPDK_VARIANTS="$(DPDK_VARIANTS)" \
		DPDK_RX_FRAMES="$(DPDK_RX_FRAMES)" tools/testing/dpdk/run.sh

# Build the modules against Debian trixie's and sid's kernels, each in a
# cached chroot of that release (tools/testing/kernels/build-newer.sh;
# KERNELS_ARGS="--run trixie" also boots that kernel and runs the selftests).
KERNELS_ARGS ?=
.PHONY: check-kernels
check-kernels:
	tools/testing/kernels/build-newer.sh $(KERNELS_ARGS)

# What CI runs: a new bare Debian 12 root (debootstrap), this checkout's
# HEAD cloned into it, `make demo` and `make check` there as a new user
# would, then the suite on trixie's and sid's kernels; one result line
# per kernel and the total (tools/testing/fresh/check-fresh.sh).
.PHONY: check-fresh
check-fresh:
	tools/testing/fresh/check-fresh.sh

# Just the benchmark program, on the host (no VM): CI builds it this way.
.PHONY: bench-build
bench-build:
	$(MAKE) -C tools/bench OUTPUT=$(CURDIR)/build/bench

dkms-install:
	tools/dkms.sh install

dkms-remove:
	tools/dkms.sh remove

clean:
	@if [ -d "$(KDIR)" ]; then $(KMAKE) clean; fi
	rm -rf build

# --- debug kernel and fuzzer (Documentation/vhostx/security.rst) ----------
# make debug-kernel: build (once; cached in /var/cache/vhostx/debug-kernel)
#   a KASAN/lockdep/kmemleak/UBSAN kernel from linux-source-6.1.
# make check-debug: vhostx built against it, the whole selftest suite, the
#   fuzzer for VX_FUZZ_SECONDS (default 600) and module unload/reload,
#   kmemleak-scanned after each step.
# make fuzz: the fuzzer on the stock kernel for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_SEED    ?= 1
.PHONY: debug-kernel check-debug fuzz fuzz-build coverage fuzz-compare

debug-kernel:
	tools/setup.sh --debug-kernel
	tools/testing/vm/debug-kernel/build.sh

check-debug:
	tools/setup.sh --debug-kernel
	tools/testing/vm/debug-kernel/check-debug.sh

# make coverage: make check-debug on the coverage kernel (the debug
#   kernel's configuration without KASAN, lockdep, kmemleak and UBSAN;
#   COVERAGE_KERNEL=debug uses the debug kernel itself): the modules built
#   with gcov, line and branch coverage of the suite alone and of suite +
#   fuzzer + reloads, per file, HTML in build/coverage/html; fails below
#   tools/testing/coverage/floor.
COVERAGE_KERNEL ?= coverage
coverage:
	tools/setup.sh --debug-kernel
	VHOSTX_KERNEL_FLAVOUR=$(COVERAGE_KERNEL) tools/testing/vm/debug-kernel/check-debug.sh

# make fuzz-compare: on the coverage kernel (KCOV; FUZZ_KERNEL=debug: the
#   debug kernel), the random fuzzer and the coverage-guided one,
#   VX_FUZZ_SECONDS (default 600) each from the same seed, one slot each,
#   for each seed of VX_FUZZ_SEEDS (default VX_FUZZ_SEED's one): the edges
#   each reached.
FUZZ_KERNEL ?= coverage
fuzz-compare:
	tools/setup.sh --debug-kernel
	VX_FUZZ_COMPARE=1 VHOSTX_KERNEL_FLAVOUR=$(FUZZ_KERNEL) \
		tools/testing/vm/debug-kernel/check-debug.sh

fuzz-build:
	$(MAKE) -C tools/testing/fuzz OUTPUT=$(CURDIR)/build/fuzz

fuzz: deps all fuzz-build
	$(VM_RUN) --timeout $$(( $(FUZZ_SECONDS) + 600 )) -- sh -c \
		'tools/testing/vm/load-modules.sh && build/fuzz/vhostx_fuzz --seed $(FUZZ_SEED) --seconds $(FUZZ_SECONDS)'

help:
	@echo "vhostx make targets (KDIR=$(KDIR)):"
	@echo "  all           build vhostx.ko, vhostx_net.ko, vhostx_test.ko"
	@echo "  deps          install Debian packages and kselftest headers (tools/setup.sh)"
	@echo "  sparse        rebuild with sparse; any warning fails"
	@echo "  kernel-doc    scripts/kernel-doc over drivers/ and include/; any warning fails"
	@echo "  selftests     build the selftests into build/selftests/"
	@echo "  vm-test       run the selftests in a QEMU guest (VM_TIMEOUT=$(VM_TIMEOUT))"
	@echo "  dkms-check    dkms build/install a copy, modprobe it in a guest, remove it"
	@echo "  deb           build the Debian package vhostx-dkms into build/deb/ (lintian-clean)"
	@echo "  deb-check     build, install, test (DKMS, modprobe, udev, unprivileged user), purge the package"
	@echo "  vm-selftest   check that the VM runner fails on a kernel WARNING"
	@echo "  check-e2e     QEMU in a guest runs a second guest on /dev/vhostx-net (ping, bulk, counters)"
	@echo "  check-dpdk    DPDK testpmd (virtio-user) on /dev/vhostx-net and vhost-net: split/packed/in-order, TX and RX"
	@echo "  check-dpdk-vhostx  the same on /dev/vhostx-net alone, split and packed (a step of make check)"
	@echo "  check-kernels build against trixie's and sid's kernels in cached chroots (KERNELS_ARGS=--run boots them)"
	@echo "  check         deps all sparse kernel-doc selftests vm-test deb-check vm-selftest bench-build check-e2e check-dpdk-vhostx"
	@echo "  check-fresh   (CI) demo and check in a new bare Debian 12 root, then the suite on trixie and sid"
	@echo "  demo          run tools/demo/run-demo.sh in a guest"
	@echo "  bench         vhost-net vs vhostx benchmark in a guest, results in build/bench/, then bench-ring"
	@echo "  bench-build   build the benchmark program only (build/bench/vhostx-bench)"
	@echo "  bench-ring    upstream virtio_test on vhost_test vs vhostx_test in a guest (build/bench/ring/)"
	@echo "  bench-ring-profile  instructions per function and buffer, vhost_test vs vhostx_test (QEMU plugin)"
	@echo "  upstream-build  virtio_test and vhost_test.ko from linux-source into build/upstream/"
	@echo "  dkms-install  install this tree with DKMS for the Debian kernel"
	@echo "  dkms-remove   remove that DKMS install"
	@echo "  clean         remove build output and build/"
	@echo "  debug-kernel  build the KASAN/lockdep/kmemleak kernel (cached in /var/cache/vhostx)"
	@echo "  check-debug   selftests + fuzzer + module reload on that kernel (VX_FUZZ_SECONDS=600)"
	@echo "  coverage      the same, with line/branch coverage per file (build/coverage/)"
	@echo "  fuzz-compare  random vs coverage-guided fuzzer on that kernel: edges reached"
	@echo "  fuzz          run tools/testing/fuzz/vhostx_fuzz in a guest (FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEED=$(FUZZ_SEED))"
	@echo "VM runner: tools/testing/vm/vm-run --help"
