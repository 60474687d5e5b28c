# Unit tests: tests/unit/test_<name>.c -> build/posix/tests/test_<name>,
# each a Criterion binary linked with the harness and the posix kernel.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(POSIX_DIR)/tests/%,$(UNIT_SRCS))

.PHONY: unit-build
unit-build: $(UNIT_BINS)

# A test may also take a service's own modules: UNIT_EXTRA_<name> lists
# them, and their directory joins the include path.
WEB_DIR := examples/TorowithFileSystem
# The web service's request-to-response modules, which need no files or
# sockets (the fuzzers take them too: tests/fuzz/fuzz.mk).
WEB_HTTP_SRCS := $(addprefix $(WEB_DIR)/,http_parse.c http_path.c http_date.c http_cond.c \
	http_response.c log_line.c text.c)
UNIT_EXTRA_test_http := $(WEB_HTTP_SRCS) $(addprefix $(WEB_DIR)/,http_mime.c access_log.c \
	web_files.c)
# The tests over the in-memory link (two interfaces joined in memory).
UNIT_EXTRA_test_tcp_link := tests/unit/memlink.c
UNIT_EXTRA_test_tcp_states := tests/unit/memlink.c
UNIT_EXTRA_test_tcp_rack := tests/unit/memlink.c
UNIT_EXTRA_test_tcp_dsack := tests/unit/memlink.c
UNIT_EXTRA_test_http_fuzz := $(WEB_HTTP_SRCS)

.SECONDEXPANSION:
$(POSIX_DIR)/tests/%: tests/unit/%.c tests/unit/harness.c $(wildcard tests/unit/*.h tests/fuzz/*.h) $(POSIX_LIB) \
		$$(UNIT_EXTRA_$$*) $$(wildcard $$(sort $$(dir $$(UNIT_EXTRA_$$*)))*.h)
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(POSIX_CFLAGS)) -Itests/unit $(addprefix -I,$(sort $(dir $(UNIT_EXTRA_$*)))) \
		-o $@ $< tests/unit/harness.c $(UNIT_EXTRA_$*) $(POSIX_LIB) $(POSIX_LDLIBS) -lcriterion

# Test services: tests/apps/<NAME>/*.c -> build/posix/tests/apps/<NAME>
# (hal/bare/bare.mk builds the same sources into build/bare/tests/).
TEST_APPS       := $(notdir $(wildcard tests/apps/*))
# These two fault on purpose, as bare-only tests of the exception report.
POSIX_TEST_APPS := $(filter-out PageFault DoubleFault,$(TEST_APPS))

.PHONY: test-apps-posix
test-apps-posix: $(patsubst %,$(POSIX_DIR)/tests/apps/%,$(POSIX_TEST_APPS))

$(POSIX_DIR)/tests/apps/%: $$(wildcard tests/apps/%/*.c) $(POSIX_MAIN_OBJ) $(POSIX_LIB)
	@mkdir -p $(@D)
	$(CC) $(POSIX_CFLAGS) -r -nostdlib $(filter %.c,$^) -o $@.o.tmp
	objcopy --redefine-sym main=toro_main $@.o.tmp $@.o
	$(CC) $(POSIX_SAN) -o $@ $@.o $(POSIX_MAIN_OBJ) $(POSIX_LIB) $(POSIX_LDLIBS)
	@rm -f $@.o.tmp $@.o

# The long run of test_tcp_link: 64 MiB each way on the lossy link, one
# direction at a time (a minute or two, much of it waiting for RTOs).
.PHONY: test-link-stress
test-link-stress: $(POSIX_DIR)/tests/test_tcp_link
	TORO_LINK_MIB=64 $< --filter 'tcp_link/lossy_*' -j1 --verbose
