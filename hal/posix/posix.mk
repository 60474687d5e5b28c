# Rules for the posix platform: the kernel as a Linux process.
# Artifacts: build/posix/libtoro.a (kernel + fs + hal/posix),
#            build/posix/bin/<APP> for each service in examples/<APP>/.
# SAN=1 builds the same into build/posix-san with ASan and UBSan.
# -fstack-clash-protection: a frame larger than a page probes each page, so
# it cannot jump over a thread stack's guard page (hal/posix/stack.c).

ifeq ($(SAN),1)
POSIX_DIR   := $(BUILD)/posix-san
POSIX_SAN   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
POSIX_DIR   := $(BUILD)/posix
POSIX_SAN   :=
endif

# libslirp (net_slirp.c, included as <libslirp.h>) through pkg-config.
SLIRP_CFLAGS  := $(shell pkg-config --cflags slirp 2>/dev/null)
SLIRP_LIBS    := $(shell pkg-config --libs slirp 2>/dev/null)

POSIX_CFLAGS  := $(CSTD) $(WARN) $(OPT) -g -pthread -D_GNU_SOURCE -MMD -MP -fstack-clash-protection \
                 $(CORE_INC) -Ihal/posix $(POSIX_SAN)
POSIX_LDLIBS  := -pthread -laio $(SLIRP_LIBS) $(POSIX_SAN)

# main.c is the process entry of a service binary only: tests and tools
# bring their own main, so it stays out of the library.
POSIX_HAL_SRCS := $(filter-out hal/posix/main.c,$(wildcard hal/posix/*.c)) $(wildcard hal/posix/*.S)
POSIX_LIB_OBJS := $(patsubst %,$(POSIX_DIR)/obj/%.o,$(CORE_SRCS) $(POSIX_HAL_SRCS))
POSIX_MAIN_OBJ := $(POSIX_DIR)/obj/hal/posix/main.c.o
POSIX_LIB      := $(POSIX_DIR)/libtoro.a
POSIX_APPS     := $(patsubst %,$(POSIX_DIR)/bin/%,$(APPS))

posix: $(POSIX_LIB) $(POSIX_APPS)

$(POSIX_DIR)/obj/%.c.o: %.c
	@mkdir -p $(@D)
	$(CC) $(POSIX_CFLAGS) -c $< -o $@

# Only net_slirp.c sees glib's and libslirp's include paths.
$(POSIX_DIR)/obj/hal/posix/net_slirp.c.o: hal/posix/net_slirp.c
	@mkdir -p $(@D)
	$(CC) $(POSIX_CFLAGS) $(SLIRP_CFLAGS) -c $< -o $@

$(POSIX_DIR)/obj/%.S.o: %.S
	@mkdir -p $(@D)
	$(CC) $(POSIX_CFLAGS) -c $< -o $@

$(POSIX_LIB): $(POSIX_LIB_OBJS)
	@rm -f $@
	ar rcsT $@ $^

.SECONDEXPANSION:
# A service is a normal C program; its main becomes toro_main, which the
# kernel runs as the first thread.
$(POSIX_DIR)/app/%.o: $$(wildcard examples/%/*.c)
	@mkdir -p $(@D)
	$(CC) $(POSIX_CFLAGS) -r -nostdlib $(filter %.c,$^) -o $@.tmp
	objcopy --redefine-sym main=toro_main $@.tmp $@
	@rm -f $@.tmp

$(POSIX_DIR)/bin/%: $(POSIX_DIR)/app/%.o $(POSIX_MAIN_OBJ) $(POSIX_LIB)
	@mkdir -p $(@D)
	$(CC) $(POSIX_SAN) -o $@ $< $(POSIX_MAIN_OBJ) $(POSIX_LIB) $(POSIX_LDLIBS)

-include $(POSIX_LIB_OBJS:.o=.d) $(POSIX_MAIN_OBJ:.o=.d)
