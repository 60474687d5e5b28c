# libFuzzer targets (clang's -fsanitize=fuzzer, with ASan and UBSan):
#   build/fuzz/fuzz_net   Ethernet frames into a booted posix kernel's stack
#   build/fuzz/fuzz_http  request heads into the web service's request path
# The kernel and its HAL are built again with clang and coverage into
# build/fuzz/obj; nothing else uses these objects.
#   make fuzz [FUZZ_TARGETS="net http"] [FUZZ_SECONDS=N]   (per target)
# runs scripts/fuzz.sh: each target from its seeds in tests/fuzz/<target>/
# for FUZZ_SECONDS, new inputs kept in build/fuzz/corpus/<target>/.

FUZZ_CC      ?= clang
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := $(CSTD) $(WARN) -O1 -g -pthread -D_GNU_SOURCE -MMD -MP $(CORE_INC) -Ihal/posix \
                -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_LDFLAGS := -fsanitize=fuzzer $(FUZZ_SAN)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= net http

FUZZ_KERNEL_OBJS := $(patsubst %,$(FUZZ_DIR)/obj/%.o,$(CORE_SRCS) $(POSIX_HAL_SRCS))
FUZZ_HTTP_SRCS   := $(WEB_HTTP_SRCS)
FUZZ_HTTP_OBJS   := $(patsubst %,$(FUZZ_DIR)/obj/%.o,$(FUZZ_HTTP_SRCS))

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_DIR)/fuzz_net $(FUZZ_DIR)/fuzz_http

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_TARGETS)

$(FUZZ_DIR)/obj/%.c.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/obj/hal/posix/net_slirp.c.o: hal/posix/net_slirp.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SLIRP_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/obj/%.S.o: %.S
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

# An archive, so a target takes only the objects it calls (fuzz_http: the
# console's formatting, not the kernel's main).
$(FUZZ_DIR)/libtoro.a: $(FUZZ_KERNEL_OBJS)
	@rm -f $@
	ar rcsT $@ $^

$(FUZZ_DIR)/fuzz_net: tests/fuzz/fuzz_net.c $(FUZZ_DIR)/libtoro.a
	$(FUZZ_CC) $(filter-out -MMD -MP,$(FUZZ_CFLAGS)) -o $@ $< $(FUZZ_DIR)/libtoro.a \
		$(FUZZ_LDFLAGS) -pthread -laio $(SLIRP_LIBS)

$(FUZZ_DIR)/fuzz_http: tests/fuzz/fuzz_http.c tests/fuzz/http_invariants.h $(FUZZ_HTTP_OBJS) \
		$(FUZZ_DIR)/libtoro.a
	$(FUZZ_CC) $(filter-out -MMD -MP,$(FUZZ_CFLAGS)) -I$(WEB_DIR) -o $@ $< $(FUZZ_HTTP_OBJS) \
		$(FUZZ_DIR)/libtoro.a $(FUZZ_LDFLAGS) -pthread -laio $(SLIRP_LIBS)

-include $(FUZZ_KERNEL_OBJS:.o=.d) $(FUZZ_HTTP_OBJS:.o=.d)
