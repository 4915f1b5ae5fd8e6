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
# the release tarball's VERSION file (make dist), else git describe
VERSION  := $(shell cat VERSION 2>/dev/null || git describe --tags --always --dirty 2>/dev/null || echo unknown)

PKGS := yaml-0.1 jansson libmnl libcap
# their headers only: loaded with dlopen by what needs them (lib/base/dlib.h), not by every
# vmrun process: libnl (net/nl_dl.h), libseccomp (lib/runtime/sandbox_filter.c, which builds
# the filter at build time and in tests), libisofs (images/isofs.c), libpci (net/devices.c), libmicrohttpd
# (lib/runtime/exporter.c)
DLOPEN_PKGS := libnl-3.0 libnl-route-3.0 libseccomp libisofs-1 libpci libmicrohttpd
# unit tests that build links themselves (a veth pair) call libnl directly, the sandbox's
# inspect the filter with libseccomp
UNIT_LIBS  := $(shell $(PKG_CONFIG) --libs libnl-3.0 libnl-route-3.0 libseccomp 2>/dev/null)
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) $(DLOPEN_PKGS) 2>/dev/null)
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
MANDIR   ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
SYSCONFDIR ?= /etc
BINDIR   ?= $(PREFIX)/bin
CPPFLAGS += -D_GNU_SOURCE -DVMR_DOCDIR='"$(DOCDIR)"' -I. -I$(BUILD)/gen $(PKG_CFLAGS) $(INI_CFLAGS)
ALL_CFLAGS = -std=gnu11 $(OPT) $(WARN) $(HARDEN) -MMD -MP $(CPPFLAGS) $(CFLAGS)
LDFLAGS ?=
ALL_LDFLAGS = $(HARDEN) -pie -Wl,-z,relro,-z,now $(LDFLAGS)
# libc first among the shared objects: the dynamic linker looks every symbol up in them in
# this order, and most of vmrun's symbols are libc's (a start of vmrun 16% cheaper,
# docs/performance.md)
LIBS = -lc $(PKG_LIBS) $(INI_LIBS)
# STATIC_LIBS=1 (the default): the libraries Debian ships as archives (.a) linked in
# statically, the others (libmnl, libc) shared: a start of vmrun 0.4 ms of CPU cheaper, a
# sixth of what a guest's start costs its launcher (docs/performance.md), at the price of a
# rebuild for a security update of those libraries.  STATIC_LIBS=0 links them all shared,
# as the Debian package does (debian/rules), where the security team rebuilds nothing.
STATIC_LIBS ?= 1
ifeq ($(STATIC_LIBS),1)
STATIC_PKGS := yaml-0.1 jansson libcap
LIBS = -lc -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs $(STATIC_PKGS) 2>/dev/null) $(INI_LIBS) \
	-Wl,-Bdynamic $(shell $(PKG_CONFIG) --libs libmnl 2>/dev/null)
endif

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

.PHONY: all check check-deep check-long check-ecosystem unit asan faults fuzz fuzz-bins fuzz-replay deps demo lab2 check-lab2 \
	install uninstall clean help testguest testguest-generic testguest-esp format man dist \
	deb FORCE

# kbuild style: "  CC      cmd/main.o"; V=1 prints the full command lines
V ?= 0
ifeq ($(V),1)
quiet =
Q =
else
quiet = @printf '  %-7s %s\n' '$(1)' '$(2)';
Q = @
endif

all: $(BUILD)/vmrun

help:
	@echo "make            build $(BUILD)/vmrun (V=1: full command lines)"
	@echo "make check      build and run every test (final line: N passed, N failed, N skipped)"
	@echo "make check-deep ASan/UBSan and valgrind runs, long fuzzing, every fault case, soak,"
	@echo "                the integration suites without /dev/kvm (tests/deep.sh; slow; CI runs it)"
	@echo "make check-long the long real-guest suites of tests/deep/ (an hour or more)"
	@echo "make check-ecosystem  the packaging suites of check-long alone (tests/deep/eco_*.sh):"
	@echo "                the .deb in a debootstrap chroot, the units under a booted systemd,"
	@echo "                the kube manifests under podman kube play"
	@echo "make demo       install what is missing, build, boot the example guests"
	@echo "make lab2       a multi-host lab on one machine: two hosts (namespaces, dockerd, sshd),"
	@echo "                5gdeploy's README lab deployed with compose.sh (docs/compose.md)"
	@echo "make check-lab2 the same as a test (long: an image build, two deployments)"
	@echo "make deps       install the Debian packages the build and tests need"
	@echo "make asan       ASan+UBSan build and test run (in build/asan)"
	@echo "make faults     build/fault/vmrun with the fault-injection points (tests/faults/)"
	@echo "make fuzz       run each fuzz target for FUZZ_SECONDS (clang, libFuzzer)"
	@echo "make testguest  build the small test/demo guest (kernel + initramfs)"
	@echo "make testguest-generic  the same on Debian's generic kernel (USB, watchdog)"
	@echo "make testguest-esp  an ESP with Debian's signed shim and GRUB for it (secure boot)"
	@echo "make man        the manual pages in $(BUILD)/man (docs/packaging.md)"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=: binary, manual pages, completion, units, docs"
	@echo "make dist       $(BUILD)/vmrun-VERSION.tar.gz with a VERSION file"
	@echo "make deb        $(BUILD)/deb/vmrun_*.deb with dpkg-buildpackage, checked by lintian"

# the version in one generated header, rewritten only when it changes
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define VMR_VERSION "%s"\n' '$(VERSION)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/obj/cmd/main.o $(BUILD)/obj/cmd/help.o: $(BUILD)/gen/version.h

# the supervisor's seccomp filter: libseccomp compiles the rules of
# lib/runtime/sandbox_filter.c to BPF here, at build time, and the supervisor
# loads that program (lib/runtime/sandbox.c) without mapping libseccomp
SANDBOX_GEN := $(BUILD)/gen/sandbox-bpf-gen
$(SANDBOX_GEN): $(BUILD)/obj/lib/runtime/gen/sandbox_bpf.o \
		$(BUILD)/obj/lib/runtime/sandbox_filter.o $(BUILD)/liblib-base.a
	@mkdir -p $(dir $@)
	$(call quiet,LD,$(notdir $@))$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
$(BUILD)/gen/sandbox_bpf.h: $(SANDBOX_GEN)
	$(call quiet,GEN,$(notdir $@))$(SANDBOX_GEN) >$@.tmp && mv $@.tmp $@
$(BUILD)/obj/lib/runtime/sandbox.o: $(BUILD)/gen/sandbox_bpf.h

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$*.o)$(CC) $(ALL_CFLAGS) -c -o $@ $<

define archive_rule
$(BUILD)/lib$(call layer_name,$(1)).a: $(call module_objs,$(1))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$$(call quiet,AR,$$(notdir $$@))$$(AR) rcs $$@ $$^
endef
$(foreach m,$(LAYERS),$(eval $(call archive_rule,$(m))))

$(BUILD)/vmrun: $(CMD_OBJS) $(ARCHIVES)
	$(call quiet,LD,$(notdir $@))$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJS) $(ARCHIVES) $(LIBS)

# test objects are intermediate files of a pattern chain: keep them
.SECONDARY:
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TESTLIB_OBJS) $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(call quiet,LD,tests/$*)$(CC) $(ALL_LDFLAGS) -o $@ $< $(TESTLIB_OBJS) $(ARCHIVES) $(LIBS) $(UNIT_LIBS)

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
# quick fault suite needs the fault build, the corpus replay its drivers;
# tests/ecosystem renders the manual pages
check: all unit testguest faults fuzz-replay man
	@BUILD=$(BUILD) tests/run.sh

# everything slow that CI runs too (tests/deep.sh says what): sanitizers,
# valgrind, long fuzzing, every fault case, the soak, the suites without
# /dev/kvm
check-deep: all unit testguest faults fuzz-replay
	@tests/deep.sh

# the long suites of tests/deep/ (real guests booted for minutes and real
# backends: a Debian guest configured by cloud-init, UEFI and secure boot,
# the watchdog, USB media, vhost-user with dpdk-testpmd, the two-host lab, the
# Debian package, systemd, podman kube play); they boot the generic kernel,
# for USB and the watchdog, and the secure boot ESP.  Not part of CI: together
# they take longer than its budget (docs/reliability.md)
check-long: all unit testguest testguest-generic testguest-esp
	@STEPS=suites tests/deep.sh

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
	$(call quiet,LD,fuzz/$*)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(ARCHIVES) $(LIBS)

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

# the two-host bed and 5gdeploy's README lab on it (examples/lab2/run.sh)
lab2: deps
	@$(MAKE) --no-print-directory all testguest
	@BUILD=$(BUILD) examples/lab2/run.sh

# long: not in check, part of check-long (tests/deep/*.sh); this one alone
check-lab2: all testguest
	@BUILD=$(BUILD) tests/run.sh tests/deep/lab2.sh

# ---- manual pages: vmrun(1) and vmrun-VERB(1) from the verbs' tables
# (vmrun help --man), vmrun.yaml(5) and vmrun.conf(5) from docs/ (pandoc)
PANDOC ?= pandoc
MAN_SOURCE := vmrun $(VERSION)
# pandoc_page DOC NAME SECTION SUMMARY SEEALSO
define pandoc_page
	$(call quiet,PANDOC,man/$(2).$(3))$(PANDOC) -s -f gfm -t man --lua-filter man/docpage.lua \
		-V adjusting=l -M title=$(2) -M section=$(3) -M header="vmrun manual" \
		-M footer="$(MAN_SOURCE)" -M name=$(2) -M summary="$(4)" -M seealso="$(5)" \
		-o $(BUILD)/man/$(2).$(3) $(1)
endef
man: $(BUILD)/man/.stamp
$(BUILD)/man/.stamp: $(BUILD)/vmrun docs/topology.md docs/configuration.md man/docpage.lua
	@command -v $(PANDOC) >/dev/null || { echo "make man: needs pandoc (make deps)" >&2; exit 1; }
	@rm -rf $(BUILD)/man
	@mkdir -p $(BUILD)/man
	$(call quiet,MAN,man/vmrun.1)$(BUILD)/vmrun help --man >$(BUILD)/man/vmrun.1
	$(Q)for v in $$($(BUILD)/vmrun __complete 1 vmrun "" | cut -f1); do \
		$(if $(quiet),printf '  %-7s %s\n' MAN man/vmrun-$$v.1;) \
		$(BUILD)/vmrun help --man $$v >$(BUILD)/man/vmrun-$$v.1 || exit 1; \
	done
	$(call pandoc_page,docs/topology.md,vmrun.yaml,5,the topology file of vmrun guests,vmrun(1) vmrun-validate(1) vmrun.conf(5))
	$(call pandoc_page,docs/configuration.md,vmrun.conf,5,the host configuration of vmrun,vmrun(1) vmrun.yaml(5))
	@touch $@

# ---- systemd units (made by install, for its BINDIR), the vmrun user, the
# configuration file
UNIT_INS := $(wildcard systemd/*.service.in)
# /etc/vmrun/vmrun.conf: the example with every key commented out, so that
# the built-in defaults apply (and a changed default reaches the host)
$(BUILD)/vmrun.conf: docs/vmrun.conf.example
	@mkdir -p $(dir $@)
	$(call quiet,GEN,vmrun.conf)sed -e 's/^\([a-z_]* =\)/;\1/' \
		-e 's/^; Every key is optional; the values below are the built-in defaults./; Every key is optional; the commented values are the built-in defaults./' $< >$@

install: all man $(BUILD)/vmrun.conf
	install -D -m 0755 $(BUILD)/vmrun $(DESTDIR)$(BINDIR)/vmrun
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 $(BUILD)/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(BUILD)/man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -D -m 0644 completion/vmrun.bash $(DESTDIR)$(BASHCOMPDIR)/vmrun
	install -D -m 0644 completion/_vmrun $(DESTDIR)$(ZSHCOMPDIR)/_vmrun
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	@# the units name the installed binary: made here, for this BINDIR
	for u in $(patsubst systemd/%.in,%,$(UNIT_INS)); do \
		sed 's|@BINDIR@|$(BINDIR)|g' systemd/$$u.in >$(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; done
	install -D -m 0644 systemd/vmrun.sysusers $(DESTDIR)$(SYSUSERSDIR)/vmrun.conf
	@# the system user QEMU runs as (qemu_user's default), on this machine only:
	@# a DESTDIR install is a package's, whose postinst makes it
	[ -n "$(DESTDIR)" ] || .ci/vmrun-user.sh
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 README.md docs/*.md docs/vmrun.conf.example $(DESTDIR)$(DOCDIR)/
	install -m 0644 examples/*.yaml $(DESTDIR)$(DOCDIR)/examples/
	@# never overwrite a host's configuration
	[ -e $(DESTDIR)$(SYSCONFDIR)/vmrun/vmrun.conf ] || \
		install -D -m 0644 $(BUILD)/vmrun.conf $(DESTDIR)$(SYSCONFDIR)/vmrun/vmrun.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vmrun $(DESTDIR)$(MANDIR)/man1/vmrun.1 $(DESTDIR)$(MANDIR)/man1/vmrun-*.1
	rm -f $(DESTDIR)$(MANDIR)/man5/vmrun.yaml.5 $(DESTDIR)$(MANDIR)/man5/vmrun.conf.5
	rm -f $(DESTDIR)$(BASHCOMPDIR)/vmrun $(DESTDIR)$(ZSHCOMPDIR)/_vmrun
	rm -f $(patsubst systemd/%.in,$(DESTDIR)$(SYSTEMDUNITDIR)/%,$(UNIT_INS))
	rm -f $(DESTDIR)$(SYSUSERSDIR)/vmrun.conf
	rm -rf $(DESTDIR)$(DOCDIR)

# ---- a release tarball: the tracked files of HEAD and a VERSION file
dist:
	@git rev-parse --git-dir >/dev/null 2>&1 || { echo "make dist: needs a git checkout" >&2; exit 1; }
	@mkdir -p $(BUILD)
	$(call quiet,DIST,vmrun-$(VERSION).tar.gz)rm -rf $(BUILD)/dist && mkdir -p $(BUILD)/dist/vmrun-$(VERSION) && \
		git archive HEAD | tar -x -C $(BUILD)/dist/vmrun-$(VERSION) && \
		echo '$(VERSION)' >$(BUILD)/dist/vmrun-$(VERSION)/VERSION && \
		tar -C $(BUILD)/dist --sort=name --owner=0 --group=0 --numeric-owner \
			-czf $(BUILD)/vmrun-$(VERSION).tar.gz vmrun-$(VERSION) && rm -rf $(BUILD)/dist

# ---- the Debian package, built from a copy of HEAD (git archive) so that
# dpkg-buildpackage writes nothing outside $(BUILD)/deb; lintian checks it
deb:
	@BUILD=$(BUILD) VERSION=$(VERSION) debian/build.sh

# the packaging suites of check-long alone (docs/packaging.md); the package
# is built once, for the suites that install it
check-ecosystem: all testguest deb
	@DEB=$$(ls $(CURDIR)/$(BUILD)/deb/vmrun_*.deb) BUILD=$(BUILD) tests/run.sh $(wildcard tests/deep/eco_*.sh)

# every C file as .clang-format says; make check fails on one that is not (tests/lint)
format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
