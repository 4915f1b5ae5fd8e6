# vmrun — one Makefile.  `make help` lists the targets.
#
# Layout: one archive per layer, each built from one folder; docs/architecture.md
# draws the layers.  Lowest first:
#   lib/base  lib/model  lib/plan  qmp net images  lib/devices  lib/runtime  compose
# cmd/ links them into $(BUILD)/vmrun in the reverse order, so the link is
# linear: a layer only uses layers below it (tests/lint/layers.sh checks the
# includes).  Unit tests tests/unit/*.c link every archive.

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CC       ?= cc
PKG_CONFIG ?= pkg-config
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

PKGS := yaml-0.1 jansson libnl-3.0 libnl-route-3.0 libmnl libseccomp libcap libpci libisofs-1 libsystemd libmicrohttpd
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# iniparser ships no .pc file on Debian 12: fall back to its known layout.
INI_CFLAGS := $(shell $(PKG_CONFIG) --cflags iniparser 2>/dev/null || echo -I/usr/include/iniparser)
INI_LIBS   := $(shell $(PKG_CONFIG) --libs iniparser 2>/dev/null || echo -liniparser)

WARN := -Wall -Wextra -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wshadow -Wno-unused-parameter -Wvla -Wpointer-arith
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT ?= -O2 -g
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
ifeq ($(SAN),1)
OPT := -O1 -g -fno-omit-frame-pointer
HARDEN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif
# the fault-injection points of lib/fault.h exist only in this test build
ifeq ($(FAULT),1)
CPPFLAGS += -DVMR_FAULT_INJECTION
endif
CFLAGS ?=
DOCDIR   ?= $(PREFIX)/share/doc/vmrun
CPPFLAGS += -D_GNU_SOURCE -DVMR_VERSION='"$(VERSION)"' -DVMR_DOCDIR='"$(DOCDIR)"' -I. $(PKG_CFLAGS) $(INI_CFLAGS)
ALL_CFLAGS = -std=gnu11 $(OPT) $(WARN) $(HARDEN) -MMD -MP $(CPPFLAGS) $(CFLAGS)
LDFLAGS ?=
ALL_LDFLAGS = $(HARDEN) -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS = $(PKG_LIBS) $(INI_LIBS)

# highest first: the link order
LAYERS := compose lib/runtime lib/devices images net qmp lib/plan lib/model lib/base
layer_name = $(subst /,-,$(1))
define module_objs
$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(1)/*.c))
endef
ARCHIVES := $(foreach m,$(LAYERS),$(BUILD)/lib$(call layer_name,$(m)).a)
CMD_OBJS := $(call module_objs,cmd)

UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TESTLIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/lib/*.c))

.PHONY: all check check-deep unit asan faults fuzz fuzz-bins fuzz-replay deps demo install uninstall clean help testguest testguest-generic testguest-esp format

all: $(BUILD)/vmrun

help:
	@echo "make            build $(BUILD)/vmrun"
	@echo "make check      build and run every test (final line: N passed, N failed, N skipped)"
	@echo "make check-deep ASan/UBSan and valgrind runs, long fuzzing, every fault case, soak,"
	@echo "                the integration suites without /dev/kvm, tests/deep/ (tests/deep.sh; slow)"
	@echo "make demo       install what is missing, build, boot the example guests"
	@echo "make deps       install the Debian packages the build and tests need"
	@echo "make asan       ASan+UBSan build and test run (in build/asan)"
	@echo "make faults     build/fault/vmrun with the fault-injection points (tests/faults/)"
	@echo "make fuzz       run each fuzz target for FUZZ_SECONDS (clang, libFuzzer)"
	@echo "make testguest  build the small test/demo guest (kernel + initramfs)"
	@echo "make testguest-generic  the same on Debian's generic kernel (USB, watchdog)"
	@echo "make testguest-esp  an ESP with Debian's signed shim and GRUB for it (secure boot)"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR="

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(foreach m,$(LAYERS),$(eval $(BUILD)/lib$(call layer_name,$(m)).a: $(call module_objs,$(m)) ; @mkdir -p $$(dir $$@); rm -f $$@; $$(AR) rcs $$@ $$^))

$(BUILD)/vmrun: $(CMD_OBJS) $(ARCHIVES)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJS) $(ARCHIVES) $(LIBS)

# test objects are intermediate files of a pattern chain: keep them
.SECONDARY:
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TESTLIB_OBJS) $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TESTLIB_OBJS) $(ARCHIVES) $(LIBS)

unit: $(UNIT_BINS)

testguest:
	@images/testguest/build.sh $(BUILD)/testguest

# the same guest on Debian's generic kernel: USB (the tablet) and the
# i6300esb watchdog, which the cloud kernel lacks
testguest-generic:
	@VMRUN_TESTGUEST_KERNEL_PKG=linux-image-amd64 images/testguest/build.sh $(BUILD)/testguest-generic

# an ESP booting the test guest through Debian's signed shim and GRUB (secure_boot)
testguest-esp: testguest
	@images/testguest/esp.sh $(BUILD)/testguest $(BUILD)/testguest-esp

# the integration suites boot the test guest: build it (cached) first; the
# quick fault suite needs the fault build, the corpus replay its drivers
check: all unit testguest faults fuzz-replay
	@BUILD=$(BUILD) tests/run.sh

# everything slow (tests/deep.sh says what): sanitizers, valgrind, long
# fuzzing, every fault case, the soak, the suites without /dev/kvm, and the
# long suites of tests/deep/ (real guests and backends, minutes: these also
# boot the generic kernel, for USB and the watchdog, and the secure boot ESP)
check-deep: all unit testguest testguest-generic testguest-esp faults fuzz-replay
	@tests/deep.sh

asan:
	$(MAKE) BUILD=build/asan SAN=1 check

# vmrun with the fault-injection points (tests/faults/): build/fault/vmrun,
# or under another BUILD (make asan) $(BUILD)/fault/vmrun, built as that one is
faults:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fault FAULT=1 all

FUZZ_SECONDS ?= 30
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
fuzz:
	$(MAKE) BUILD=build/fuzz CC=clang SAN=1 CFLAGS="-fsanitize=fuzzer-no-link" fuzz-bins
	@BUILD=build/fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh
fuzz-bins: $(FUZZ_BINS)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(ARCHIVES) $(LIBS)

# each fuzz target with a plain main() that replays its corpus once
# (tests/fuzz/replay.c): any compiler, part of make check
REPLAY_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/replay/%,$(FUZZ_SRCS))
fuzz-replay: $(REPLAY_BINS)
$(BUILD)/replay/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay.o $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/obj/tests/fuzz/replay.o $(ARCHIVES) $(LIBS)

deps:
	@.ci/deps.sh

# a sub-make after deps: on a fresh machine pkg-config and the -dev packages
# only exist once deps has run, and this make's flags were computed before
demo: deps
	@$(MAKE) --no-print-directory all testguest
	@BUILD=$(BUILD) examples/demo.sh

install: $(BUILD)/vmrun
	install -D -m 0755 $(BUILD)/vmrun $(DESTDIR)$(PREFIX)/bin/vmrun
	install -d $(DESTDIR)$(DOCDIR)
	install -m 0644 README.md docs/*.md docs/vmrun.conf.example $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/vmrun
	rm -rf $(DESTDIR)$(DOCDIR)

# every C file as .clang-format says; make check fails on one that is not (tests/lint)
format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
