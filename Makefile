# Toro/C: one kernel, two platforms.
#   make                 build both platforms (build/posix, build/bare)
#   make run             serve ToroFiles.img on http://127.0.0.1:8080/ (the web service)
#   make test            every test: unit, integration, QEMU
#   make test-kvm        every bare suite under KVM, every case (where usable)
#   make fuzz            libFuzzer on the stack and HTTP (FUZZ_SECONDS each)
#   make qemu APP=X      boot build/bare/X.elf with its serial console here
#   make qemu-gdb APP=X  the same, stopped for gdb (see README)
# Each platform's rules live beside its code: hal/posix/posix.mk, hal/bare/bare.mk.

CC      ?= cc
BUILD   := build
APPS    := ToroHello ToroCpus ToroLogger ToroEcho TorowithFileSystem

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CSTD    := -std=gnu11
OPT     ?= -O2

# Platform-independent sources: no file here may ask which platform it is on.
KERNEL_SRCS := $(wildcard kernel/*.c)
FS_SRCS     := $(wildcard fs/*.c fs/ext2/*.c)
NET_SRCS    := $(wildcard net/*.c)
CORE_SRCS   := $(KERNEL_SRCS) $(FS_SRCS) $(NET_SRCS)
CORE_INC    := -Ikernel -Ifs -Inet -Ihal

.PHONY: all posix bare run test test-kvm test-build deps clean qemu qemu-gdb
all: posix bare

include hal/posix/posix.mk
include hal/bare/bare.mk
include tests/tests.mk
include tests/fuzz/fuzz.mk
-include tools/tools.mk
-include fusemount/fusemount.mk
-include examples/image.mk

deps:
	@scripts/install-deps.sh

# The main job: the web service on ToroFiles.img (made when missing) as a
# Linux process, reachable on the host's loopback through libslirp, until
# Ctrl-C. RUN_PORT changes the host port.
RUN_PORT ?= 8080
run: deps
	@$(MAKE) --no-print-directory posix
	@[ -f $(IMAGE) ] || $(MAKE) --no-print-directory image
	@echo "== TorowithFileSystem serving $(IMAGE) on http://127.0.0.1:$(RUN_PORT)/ (Ctrl-C stops it)"
	@$(BUILD)/posix/bin/TorowithFileSystem --disk $(IMAGE) \
		--net slirp,hostfwd=tcp:127.0.0.1:$(RUN_PORT)-:80

# Everything the tests run: both platforms, unit tests and test services,
# the libFuzzer targets (clang), and the unit tests and test services
# again with ASan and UBSan.
# (Prerequisites, not a sub-make, so that `make -j2 posix test-build`
# builds each file once.)
test-build: all unit-build test-apps-posix fuzz-build
	@$(MAKE) --no-print-directory SAN=1 posix unit-build test-apps-posix

test: deps
	@$(MAKE) --no-print-directory test-build
	@tests/run-all.sh

# make test's KVM pass runs the cases a hypervisor can change; this runs
# every case of every bare suite under KVM (over an hour on kvm_pvm).
test-kvm: deps
	@$(MAKE) --no-print-directory test-build
	@TORO_KVM_PASS=full tests/run-all.sh kvm

clean:
	rm -rf $(BUILD)
