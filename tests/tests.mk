# Unit tests: tests/unit/test_<name>.c -> build/posix/tests/test_<name>,
# each a Criterion binary linked with the harness and the posix kernel.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(POSIX_DIR)/tests/%,$(UNIT_SRCS))

.PHONY: unit-build
unit-build: $(UNIT_BINS)

$(POSIX_DIR)/tests/%: tests/unit/%.c tests/unit/harness.c tests/unit/harness.h $(POSIX_LIB)
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(POSIX_CFLAGS)) -Itests/unit -o $@ $< tests/unit/harness.c $(POSIX_LIB) \
		$(POSIX_LDLIBS) -lcriterion
