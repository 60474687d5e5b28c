# Host tools on the posix kernel: build/posix/bin/toro-fs from tools/toro-fs/*.c.
# A tool has its own main (the host side) and a toro_main (the kernel side),
# and links with the kernel library like a service.

TOROFS_SRCS := $(wildcard tools/toro-fs/*.c)
TOROFS_OBJS := $(patsubst %,$(POSIX_DIR)/obj/%.o,$(TOROFS_SRCS))

.PHONY: tools
tools: $(POSIX_DIR)/bin/toro-fs
posix: $(POSIX_DIR)/bin/toro-fs

$(POSIX_DIR)/obj/tools/%.c.o: tools/%.c
	@mkdir -p $(@D)
	$(CC) $(POSIX_CFLAGS) -c $< -o $@

$(POSIX_DIR)/bin/toro-fs: $(TOROFS_OBJS) $(POSIX_LIB)
	@mkdir -p $(@D)
	$(CC) $(POSIX_SAN) -o $@ $(TOROFS_OBJS) $(POSIX_LIB) $(POSIX_LDLIBS)

-include $(TOROFS_OBJS:.o=.d)
