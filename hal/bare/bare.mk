# Rules for the bare platform: the kernel as an x86-64 PVH image for QEMU.
# Artifacts: build/bare/<APP>.elf (stripped of debug info, symbols kept) and
#            build/bare/<APP>.debug.elf for each service in examples/<APP>/;
#            build/bare/tests/<NAME>.elf for each test kernel in tests/apps/<NAME>/.
# A service's main becomes toro_main, as on posix.

BARE_DIR     := $(BUILD)/bare
BARE_GCC_INC := $(shell $(CC) -print-file-name=include)

BARE_CFLAGS := $(CSTD) $(WARN) $(OPT) -g -MMD -MP \
               -ffreestanding -fno-pic -fno-pie -mno-red-zone \
               -mno-sse -mno-sse2 -mno-mmx -mno-avx -fno-stack-protector \
               -fno-omit-frame-pointer -mcmodel=small \
               -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections \
               -fno-tree-loop-distribute-patterns \
               -nostdinc -isystem $(BARE_GCC_INC) -Ihal/bare/include \
               $(CORE_INC) -Ihal/bare
BARE_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,hal/bare/linker.ld \
                -Wl,--gc-sections -Wl,-z,max-page-size=4096 -Wl,--build-id=none \
                -Wl,-z,noexecstack

# The network (the stack and the NICs' drivers) is an archive: the linker
# takes it into the services that use sockets or the NICs only
# (kernel/main.c refers to it weakly).
BARE_NIC_SRCS := hal/bare/nic.c hal/bare/e1000.c hal/bare/virtio_net.c
BARE_HAL_SRCS := $(filter-out hal/bare/appname.c $(BARE_NIC_SRCS),$(wildcard hal/bare/*.c)) \
                 $(wildcard hal/bare/*.S)
BARE_OBJS     := $(patsubst %,$(BARE_DIR)/obj/%.o,$(KERNEL_SRCS) $(FS_SRCS) $(BARE_HAL_SRCS))
BARE_NET_OBJS := $(patsubst %,$(BARE_DIR)/obj/%.o,$(NET_SRCS) $(BARE_NIC_SRCS))
BARE_NET_LIB  := $(BARE_DIR)/libnet.a
BARE_APPS     := $(patsubst %,$(BARE_DIR)/%.elf,$(APPS))
BARE_TEST_NAMES := $(notdir $(wildcard tests/apps/*))
BARE_TESTS    := $(patsubst %,$(BARE_DIR)/tests/%.elf,$(BARE_TEST_NAMES))

bare: $(BARE_APPS) $(BARE_TESTS)

.SECONDARY: $(BARE_OBJS) $(BARE_NET_OBJS)

$(BARE_NET_LIB): $(BARE_NET_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BARE_DIR)/obj/%.c.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BARE_CFLAGS) -c $< -o $@

$(BARE_DIR)/obj/%.S.o: %.S
	@mkdir -p $(@D)
	$(CC) $(BARE_CFLAGS) -c $< -o $@

.SECONDEXPANSION:
# Services (examples/<APP>) and test kernels (tests/apps/<NAME>): their
# sources as one relocatable object, main renamed to toro_main.
$(BARE_DIR)/obj/app/%.o: $$(wildcard examples/%/*.c)
	@mkdir -p $(@D)
	$(CC) $(BARE_CFLAGS) -r -nostdlib $(filter %.c,$^) -o $@.tmp
	objcopy --redefine-sym main=toro_main $@.tmp $@
	@rm -f $@.tmp

$(BARE_DIR)/obj/testapp/%.o: $$(wildcard tests/apps/%/*.c)
	@mkdir -p $(@D)
	$(CC) $(BARE_CFLAGS) -r -nostdlib $(filter %.c,$^) -o $@.tmp
	objcopy --redefine-sym main=toro_main $@.tmp $@
	@rm -f $@.tmp

# argv[0] of each image: hal/bare/appname.c built with the service's name.
$(BARE_DIR)/obj/name/%.o: hal/bare/appname.c
	@mkdir -p $(@D)
	$(CC) $(BARE_CFLAGS) -DTORO_APP_NAME='"$*"' -c $< -o $@

$(BARE_DIR)/%.debug.elf: $(BARE_DIR)/obj/app/%.o $(BARE_DIR)/obj/name/%.o $(BARE_OBJS) $(BARE_NET_LIB) hal/bare/linker.ld
	$(CC) $(BARE_LDFLAGS) -o $@ $(filter %.o %.a,$^)

$(BARE_DIR)/tests/%.debug.elf: $(BARE_DIR)/obj/testapp/%.o $(BARE_DIR)/obj/name/%.o $(BARE_OBJS) $(BARE_NET_LIB) hal/bare/linker.ld
	@mkdir -p $(@D)
	$(CC) $(BARE_LDFLAGS) -o $@ $(filter %.o %.a,$^)

$(BARE_APPS) $(BARE_TESTS): %.elf: %.debug.elf
	objcopy --strip-debug $< $@

.PRECIOUS: $(BARE_DIR)/%.debug.elf $(BARE_DIR)/tests/%.debug.elf \
           $(BARE_DIR)/obj/app/%.o $(BARE_DIR)/obj/testapp/%.o $(BARE_DIR)/obj/name/%.o

# make qemu APP=X [SMP=n] [DISK=img] [VDISK=img] [NIC=model[,props]] [MACHINE=microvm]
#           [FIRMWARE=qboot] [FWD=tcp:127.0.0.1:HOSTPORT-:PORT] [ARGS="..."]; make qemu-gdb APP=X
# The network services get a virtio-net NIC and their port forwarded from
# the host's loopback unless NIC or FWD say otherwise: the web service
# 127.0.0.1:8080 -> 80, ToroEcho 127.0.0.1:7007 -> 7.
APP ?= ToroHello
ifeq ($(APP),TorowithFileSystem)
NIC ?= virtio-net-pci
FWD ?= tcp:127.0.0.1:8080-:80
else ifeq ($(APP),ToroEcho)
NIC ?= virtio-net-pci
FWD ?= tcp:127.0.0.1:7007-:7
endif
BARE_RUN_OPTS = $(if $(SMP),--smp $(SMP)) $(if $(DISK),--disk $(DISK)) \
                $(if $(VDISK),--vdisk $(VDISK)) $(if $(MACHINE),--machine $(MACHINE)) \
                $(if $(FIRMWARE),--firmware $(FIRMWARE)) \
                $(if $(NIC),--nic $(NIC)) $(if $(FWD),--fwd $(FWD)) \
                $(if $(ARGS),--append "$(ARGS)")

qemu: bare
	@scripts/qemu-run.sh $(BARE_DIR)/$(APP).elf $(BARE_RUN_OPTS)

qemu-gdb: bare
	@echo "gdb $(BARE_DIR)/$(APP).debug.elf -ex 'target remote :1234'"
	@scripts/qemu-run.sh $(BARE_DIR)/$(APP).elf $(BARE_RUN_OPTS) --gdb

-include $(BARE_OBJS:.o=.d) $(BARE_NET_OBJS:.o=.d) $(wildcard $(BARE_DIR)/obj/*/*.d)
