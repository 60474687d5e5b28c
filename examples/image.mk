# make image: ToroFiles.img, an ext2 image of examples/ToroFiles/ for the
# examples (ToroLogger reads /web/index.html and appends to /web/logs/log;
# TorowithFileSystem serves /web). The tree is staged in build/ToroFiles
# with one generated file: web/large.txt, 1 MiB of numbered 16-byte lines
# (too big to keep in git, and its bytes are easy to check by offset).
#   make image                      with genext2fs (as Toro's seed does)
#   make image IMAGE_TOOL=toro-fs   with our own build/posix/bin/toro-fs
#   make image IMAGE=path.img IMAGE_SIZE=32M
#   make image IMAGE_JOURNAL=1      ext3: with a journal (toro-fs mkfs -j, or
#                                   tune2fs -j after genext2fs)
# The image is rebuilt on every call (a service writes into it).

IMAGE      ?= ToroFiles.img
IMAGE_TOOL ?= genext2fs
IMAGE_SIZE ?= 16M
IMAGE_SRC  := examples/ToroFiles
IMAGE_TREE := $(BUILD)/ToroFiles

.PHONY: image
image: $(if $(filter toro-fs,$(IMAGE_TOOL)),$(POSIX_DIR)/bin/toro-fs)
	@rm -f $(IMAGE)
	@rm -rf $(IMAGE_TREE) && mkdir -p $(dir $(IMAGE_TREE)) && cp -a $(IMAGE_SRC) $(IMAGE_TREE)
	@seq -f '%015g' 0 65535 >$(IMAGE_TREE)/web/large.txt
ifeq ($(IMAGE_TOOL),toro-fs)
	$(POSIX_DIR)/bin/toro-fs mkfs $(IMAGE) $(IMAGE_SIZE) -b 1024 $(if $(IMAGE_JOURNAL),-j)
	$(POSIX_DIR)/bin/toro-fs $(IMAGE) put -r $(IMAGE_TREE)/web /web
else ifeq ($(IMAGE_TOOL),genext2fs)
	genext2fs -U -B 1024 -b $$(( $(patsubst %M,%,$(IMAGE_SIZE)) * 1024 )) -N 1024 \
		-d $(IMAGE_TREE) $(IMAGE)
	$(if $(IMAGE_JOURNAL),tune2fs -j $(IMAGE) >/dev/null)
else
	$(error IMAGE_TOOL is genext2fs or toro-fs, not $(IMAGE_TOOL))
endif
	@echo "image: $(IMAGE) ($(IMAGE_TOOL), $(IMAGE_SIZE))"
