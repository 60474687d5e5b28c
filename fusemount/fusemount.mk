# torofuse: an ext2 image mounted on the host through the kernel's VFS.
# build/posix/bin/torofuse, from fusemount/*.c over the posix kernel library
# and libfuse3 (Debian: libfuse3-dev, fuse3).

FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS   := $(shell pkg-config --libs fuse3 2>/dev/null)
FUSEMOUNT_SRCS := $(wildcard fusemount/*.c)
FUSEMOUNT_OBJS := $(patsubst %,$(POSIX_DIR)/obj/%.o,$(FUSEMOUNT_SRCS))

posix: $(POSIX_DIR)/bin/torofuse

$(POSIX_DIR)/obj/fusemount/%.c.o: fusemount/%.c
	@mkdir -p $(@D)
	$(CC) $(POSIX_CFLAGS) $(FUSE_CFLAGS) -c $< -o $@

$(POSIX_DIR)/bin/torofuse: $(FUSEMOUNT_OBJS) $(POSIX_LIB)
	@mkdir -p $(@D)
	$(CC) $(POSIX_SAN) -o $@ $(FUSEMOUNT_OBJS) $(POSIX_LIB) $(POSIX_LDLIBS) $(FUSE_LIBS)

-include $(FUSEMOUNT_OBJS:.o=.d)
