# nxretry: the map of the build.
#
#   make               build/libnxretry.so (the preload) and its engine
#   make check         unit tests (cmocka) and lab tests (real DNS servers)
#   make demo          the stale-cache scenario, bypassed live in the DNS lab
#   make bench         benchmarks
#   make check SANITIZE=address|undefined|thread
#   make BUILD=DIR     build into DIR instead of build/ (or build-SANITIZER)
#   make install PREFIX=/usr/local DESTDIR=

PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib/nxretry
BINDIR   ?= $(PREFIX)/bin
DOCDIR   ?= $(PREFIX)/share/doc/nxretry
MANDIR   ?= $(PREFIX)/share/man
SANITIZE ?=

CC       ?= cc
# CARES_PREFIX=DIR: the c-ares in DIR/include and DIR/lib/libcares.a (e.g.
# Debian 13's, from scripts/cares-trixie DIR) instead of the system's.
ifeq ($(CARES_PREFIX),)
  PKGS     = libcares
  CARES_A := $(shell pkg-config --variable=libdir libcares 2>/dev/null)/libcares.a
else
  PKGS     =
  CARES_A := $(CARES_PREFIX)/lib/libcares.a
  CARES_CFLAGS := -I$(CARES_PREFIX)/include
endif
WARN      = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wvla
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -fPIC -fvisibility=hidden -D_GNU_SOURCE \
            -ffunction-sections -fdata-sections \
            -fno-strict-aliasing $(CARES_CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  += -Wl,-z,relro -Wl,--as-needed -Wl,--gc-sections

ifneq ($(SANITIZE),)
  BUILD ?= build-$(SANITIZE)
  CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=$(SANITIZE)
else
  BUILD ?= build
  ifneq ($(FLAVOR),musl)
    CFLAGS  += -D_FORTIFY_SOURCE=2
  endif
endif
B := $(BUILD)

# libconfig, and for musl c-ares too, as static PIC archives built for this
# compiler from Debian's source packages (scripts/build-deps) into
# $(B)/deps: the engine then needs no library but libc's.
DEPS_DIR    = $(B)/deps
LIBCONFIG_A = $(DEPS_DIR)/lib/libconfig.a
DEPS_LIBS   = $(LIBCONFIG_A)
CFLAGS     += -I$(DEPS_DIR)/include -Ishim
# make musl: the same build with musl-gcc into build-musl/. The shared
# objects name libc.so.6, which musl's loader maps onto itself, instead of
# musl's libc.so (on glibc a linker script: fatal to load).
ifeq ($(FLAVOR),musl)
  PKGS       =
  CARES_A    = $(DEPS_DIR)/lib/libcares.a
  DEPS_LIBS += $(CARES_A)
  DEPS_OPTS  = --cares
  MUSL_LIBC  = $(B)/musl/libc.so.6
  SHARED_LIBC = -nodefaultlibs -L$(B)/musl -l:libc.so.6 -lgcc
endif

# shim/ is one engine (shim/engine/) under its front ends: the preload
# (shim/preload/), the nxretry program (shim/cli/) and the stub resolver
# (shim/stub/). shim/nxretry.h is the interface they share.
ENGINE_SRC = $(wildcard shim/engine/*.c)
ENGINE_OBJ = $(ENGINE_SRC:shim/engine/%.c=$(B)/obj/%.o)

# glibc >= 2.17 for everything shipped (docs/portability.md): the engine and
# the programs bind each libc function to its oldest version at or below
# the baseline (a generated header of .symver lines), the engine names
# libpthread and libdl, where glibc < 2.34 keeps pthread_* and dl*, and the
# programs start through shim/cli/start.c. Sanitizer builds, and builds on
# another c-ares (CARES_PREFIX), are not shipped.
ifeq ($(SANITIZE)$(filter musl,$(FLAVOR))$(CARES_PREFIX),)
  COMPAT_H    = $(B)/glibc-compat.h
  COMPAT      = -include $(COMPAT_H)
  ENGINE_LIBS = -Wl,--no-as-needed -l:libpthread.so.0 -l:libdl.so.2 -Wl,--as-needed
  PROG_START  = $(B)/obj/start.o -Wl,--wrap=__libc_start_main
  PORTABLE    = $(B)/portable.ok
endif
# The preload's own files, and the engine files it shares (built
# apart, without FORTIFY).
HOOK_OBJ   = $(addprefix $(B)/obj/preload/,hooks.o loader.o policy.o escape.o log.o once.o)
UNIT_TESTS = $(patsubst tests/unit/%.c,$(B)/%,$(filter-out tests/unit/util.c,$(wildcard tests/unit/test_*.c)))

LIB        = $(B)/libnxretry.so
ENGINE     = $(B)/libnxretry-engine.so

.PHONY: all musl unit-tests check unit lab demo bench install uninstall clean deps lint dist deb pkg-stage rpm
all: $(LIB) $(ENGINE) $(B)/nxretry $(PORTABLE) $(B)/gai $(B)/faultdns $(B)/threads $(B)/cancel $(B)/hostent $(B)/dnsq \
	$(if $(filter musl,$(FLAVOR)),,$(B)/conform $(B)/hostile)

$(B)/obj/%.o: shim/engine/%.c shim/nxretry.h $(COMPAT_H) | $(B)/obj
	$(CC) $(CFLAGS) $(COMPAT) -c -o $@ $<

$(B)/obj/start.o: shim/cli/start.c $(COMPAT_H) | $(B)/obj
	$(CC) $(CFLAGS) $(COMPAT) -c -o $@ $<

$(COMPAT_H): scripts/glibc-compat | $(B)/obj
	CC="$(CC)" scripts/glibc-compat >$@.tmp && mv $@.tmp $@

# Fails the build when a shipped file needs more than glibc 2.17 (or, for
# the preload, anything a musl process lacks).
$(PORTABLE): $(LIB) $(ENGINE) $(B)/nxretry scripts/check-portable
	scripts/check-portable --preload $(LIB)
	scripts/check-portable $(ENGINE) $(B)/nxretry
	touch $@

$(B)/obj:
	mkdir -p $@

# The thin preload's objects: no FORTIFY, whose __*_chk functions musl
# lacks (a glibc-built preload must not kill a musl process). NX_PRELOAD:
# an engine file built for the preload (once.c's TLS model). On aarch64,
# atomics inline: GCC's outline atomics bring libgcc's constructor, which
# calls __getauxval (musl lacks it) at every process start.
ifneq ($(filter aarch64%,$(shell $(CC) -dumpmachine 2>/dev/null)),)
  PRELOAD_CFLAGS = -mno-outline-atomics
endif
$(B)/obj/preload/%.o: shim/preload/%.c shim/nxretry.h | $(B)/obj
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PRELOAD_CFLAGS) -U_FORTIFY_SOURCE -c -o $@ $<
$(B)/obj/preload/%.o: shim/engine/%.c shim/nxretry.h | $(B)/obj
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PRELOAD_CFLAGS) -U_FORTIFY_SOURCE -DNX_PRELOAD -c -o $@ $<

# The thin preload: no c-ares, no libconfig, lazy binding.
$(LIB): $(HOOK_OBJ) shim/preload/libnxretry.map
	$(CC) -shared $(LDFLAGS) -Wl,--version-script=shim/preload/libnxretry.map -o $@ $(HOOK_OBJ) \
		$(SHARED_LIBC)

# The engine: c-ares linked in statically and hidden (Node exports its own
# ares_* symbols; a dynamic libcares would bind to Node's inside Node).
$(ENGINE): $(ENGINE_OBJ) shim/engine/engine.map
	$(CC) -shared $(LDFLAGS) -Wl,--version-script=shim/engine/engine.map -Wl,--exclude-libs,ALL \
		-o $@ $(ENGINE_OBJ) $(CARES_A) $(LIBCONFIG_A) $(ENGINE_LIBS) $(SHARED_LIBC)

# Built once per build directory (scripts/build-deps keeps what exists,
# unless the script changed how it builds them); the engine's objects need
# their headers.
$(DEPS_LIBS) &: scripts/build-deps | $(COMPAT_H)
	scripts/build-deps $(DEPS_OPTS) --cc "$(CC)" --cflags "$(COMPAT)" $(DEPS_DIR)

$(ENGINE_OBJ): | $(DEPS_LIBS)

# musl's libc.so, as the linker finds it (-print-file-name gives glibc's).
$(MUSL_LIBC): | $(B)/obj
	mkdir -p $(@D) && echo 'int f(void);' >$(@D)/empty.c && \
	libc=$$($(CC) -shared -o $(@D)/empty.so $(@D)/empty.c -Wl,--trace | grep -m1 -E '(^|/)libc\.so$$') && \
	ln -sf "$$libc" $@

$(LIB) $(ENGINE): $(MUSL_LIBC)

$(B)/engine.a: $(ENGINE_OBJ)
	rm -f $@ && ar rcs $@ $^

# The nxretry program (no shell needed), --check linked in.
# The stub resolver (shim/stub/, nxretry --serve) is linked into it.
CLI_SRC = $(filter-out shim/cli/start.c,$(wildcard shim/cli/*.c))
STUB_SRC = $(wildcard shim/stub/*.c)
$(B)/nxretry: $(CLI_SRC) $(STUB_SRC) $(wildcard shim/cli/*.h shim/stub/*.h) $(B)/engine.a $(COMPAT_H) \
		$(if $(PROG_START),$(B)/obj/start.o)
	$(CC) $(CFLAGS) $(COMPAT) -o $@ $(CLI_SRC) $(STUB_SRC) $(B)/engine.a $(CARES_A) $(LIBCONFIG_A) $(LDFLAGS) -Wl,-z,now $(PROG_START) \
		$(ENGINE_LIBS) -lm

$(B)/gai: tests/lab/gai.c tests/lab/client.h | $(B)/obj
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

# Lab tools: the misbehaving DNS server, the threaded getaddrinfo client, the
# client whose lookup thread is cancelled, the gethostbyname* client, the
# programs that fork, cancel, siglongjmp or reuse fd 2 around a lookup
# (tests/lab/t-hostile.sh), the conformance matrix (tests/lab/t-conform.sh)
# and the raw DNS client of the stub resolver's tests (dnsq: byte
# comparisons, load, garbage).
$(B)/faultdns $(B)/threads $(B)/cancel $(B)/hostent $(B)/hostile $(B)/conform $(B)/dnsq: $(B)/%: tests/lab/%.c tests/lab/client.h | $(B)/obj
	$(CC) $(CFLAGS) -pthread -o $@ $< $(LDFLAGS)

$(B)/test_%: tests/unit/test_%.c tests/unit/util.c tests/unit/util.h $(B)/engine.a
	$(CC) $(CFLAGS) -o $@ $< tests/unit/util.c $(B)/engine.a $(CARES_A) $(LIBCONFIG_A) \
		$(LDFLAGS) $(shell pkg-config --libs cmocka) -lm -ldl -lpthread

# loader.c is the preload's, not the engine's: its test compiles it in.
$(B)/test_loader: tests/unit/test_loader.c shim/preload/loader.c tests/unit/util.c tests/unit/util.h $(B)/engine.a
	$(CC) $(CFLAGS) -o $@ $< shim/preload/loader.c tests/unit/util.c $(B)/engine.a $(CARES_A) \
		$(LIBCONFIG_A) $(LDFLAGS) $(shell pkg-config --libs cmocka) -lm -ldl -lpthread

# The stub's tests build its sources with them.
$(B)/test_stub_%: tests/unit/test_stub_%.c tests/unit/util.c tests/unit/util.h $(STUB_SRC) shim/stub/stub.h $(B)/engine.a
	$(CC) $(CFLAGS) -Ishim/stub -o $@ $< tests/unit/util.c $(STUB_SRC) $(B)/engine.a $(CARES_A) $(LIBCONFIG_A) \
		$(LDFLAGS) $(shell pkg-config --libs cmocka) -lm -ldl -lpthread

deps:
	@scripts/install-deps --check || scripts/install-deps

# deps runs first and alone: the flags above come from pkg-config, so the
# build itself is a fresh make that reads them after the packages exist.
check: deps
	@$(MAKE) --no-print-directory all unit-tests
	@if [ -z "$(SANITIZE)" ] && command -v musl-gcc >/dev/null; then \
		$(MAKE) --no-print-directory musl; fi
	@scripts/old-glibc .cache/glibc-2.31
	@scripts/run-tests $(B) $(SANITIZE)

unit-tests: $(UNIT_TESTS)

# The musl flavor (Alpine...): build-musl/, every file built with musl-gcc
# (tests/lab/t-musl.sh runs its clients).
musl:
	@$(MAKE) --no-print-directory FLAVOR=musl CC=musl-gcc BUILD=$(MUSL_BUILD) SANITIZE= \
		CARES_PREFIX= $(or $(MUSL_GOALS),all)

unit: all $(UNIT_TESTS)
	@scripts/run-tests --unit-only $(B) $(SANITIZE)

lab: all
	@NXRETRY_LIB=$(LIB) GAI=$(B)/gai tests/lab/run

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo $(B)

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/run $(B)

# make dist: dist/nxretry-VERSION-ARCH-linux-gnu.tar.gz from $(B) and, when
# musl-gcc is installed, -linux-musl.tar.gz from $(MUSL_BUILD): what `make
# install` puts under a prefix, stripped, relocatable (scripts/dist).
# make deb: dist/nxretry_VERSION_ARCH.deb, the same under /usr (scripts/deb).
VERSION    := $(shell cat VERSION)
MUSL_BUILD ?= build-musl
DIST       ?= dist
STAGE       = $(abspath $(B)/stage)

dist: all
	rm -rf $(STAGE)/gnu $(STAGE)/musl
	@$(MAKE) --no-print-directory install BUILD=$(B) DESTDIR=$(STAGE)/gnu PREFIX=
	@if command -v musl-gcc >/dev/null; then \
		$(MAKE) --no-print-directory musl MUSL_GOALS=install DESTDIR=$(STAGE)/musl PREFIX=; \
	else echo "make dist: no musl-gcc (apt-get install musl-tools): no musl tarball" >&2; fi
	scripts/dist $(VERSION) $(DIST) $(STAGE)/gnu $$(test ! -d $(STAGE)/musl || echo $(STAGE)/musl)

# The packages' tree (make deb, make rpm): make install under /usr, the
# host's systemd unit and the systemd-resolved drop-in (installed disabled:
# README, "A host"). Each package script works on a copy of it.
pkg-stage: all
	rm -rf $(STAGE)/pkg
	@$(MAKE) --no-print-directory install BUILD=$(B) DESTDIR=$(STAGE)/pkg PREFIX=/usr
	install -D -m 0644 config/systemd/nxretry.service $(STAGE)/pkg/usr/lib/systemd/system/nxretry.service
	install -D -m 0644 config/systemd/nxretry-resolved.conf \
		$(STAGE)/pkg/usr/share/nxretry/resolved.conf.d/nxretry.conf

deb: pkg-stage
	rm -rf $(STAGE)/deb && cp -a $(STAGE)/pkg $(STAGE)/deb
	scripts/deb $(VERSION) $(DIST) $(STAGE)/deb

# make rpm: dist/nxretry-VERSION-1.x86_64.rpm from the same tree (scripts/rpm).
rpm: pkg-stage
	rm -rf $(STAGE)/rpm && cp -a $(STAGE)/pkg $(STAGE)/rpm
	scripts/rpm $(VERSION) $(DIST) $(STAGE)/rpm

# scripts/github-action.js is the action's JavaScript (node --check).
lint:
	shellcheck -x $(filter-out %.js %.toml,$(wildcard scripts/*)) tests/lab/*.sh tests/lab/run \
		tests/lab/overlay-root tests/lab/unit-exec bench/run bench/stub-soak
	node --check scripts/github-action.js

# make fuzz FUZZ_SECONDS=N: the libFuzzer targets tests/fuzz/fuzz_*.c and
# the engine's objects built with clang, ASan and UBSan into build-fuzz/,
# then each target run N seconds on a scratch copy of its corpus
# (tests/fuzz/run: any crash, leak, UB or broken invariant fails, with the
# reproducer's path). FUZZ_TARGETS=fuzz_reply runs one.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: fuzz fuzz-build
fuzz: deps
	@$(MAKE) --no-print-directory CC=clang BUILD=$(FUZZ_BUILD) \
		SANITIZE=fuzzer-no-link,address,undefined fuzz-build
	@tests/fuzz/run $(FUZZ_BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_TARGETS:%=$(B)/fuzz/%) $(B)/fuzz/seeds

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(B)/engine.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(B)/engine.a $(CARES_A) \
		$(LIBCONFIG_A) $(LDFLAGS) -lm -ldl -lpthread

$(B)/fuzz/fuzz_config: shim/cli/check.c shim/cli/check.h # included: --check's host table

# The stub's targets build its sources with them.
$(B)/fuzz/fuzz_query $(B)/fuzz/fuzz_answer: $(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(STUB_SRC) shim/stub/stub.h $(B)/engine.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ishim/stub -fsanitize=fuzzer -o $@ $< $(STUB_SRC) $(B)/engine.a $(CARES_A) \
		$(LIBCONFIG_A) $(LDFLAGS) -lm -ldl -lpthread

# The seed writer (tests/fuzz/seeds.c: build-fuzz/fuzz/seeds tests/fuzz/corpus).
$(B)/fuzz/seeds: tests/fuzz/seeds.c tests/unit/util.c tests/unit/util.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< tests/unit/util.c $(LDFLAGS) $(shell pkg-config --libs cmocka)

install: $(LIB) $(ENGINE) $(B)/nxretry $(PORTABLE)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 $(LIB) $(ENGINE) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(B)/nxretry $(DESTDIR)$(BINDIR)/nxretry
	install -m 0644 config/nxretry.conf README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/nxretry.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/nxretry.conf.5 $(DESTDIR)$(MANDIR)/man5/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libnxretry.so $(DESTDIR)$(LIBDIR)/libnxretry-engine.so \
		$(DESTDIR)$(BINDIR)/nxretry \
		$(DESTDIR)$(DOCDIR)/nxretry.conf $(DESTDIR)$(DOCDIR)/README.md \
		$(DESTDIR)$(MANDIR)/man1/nxretry.1 $(DESTDIR)$(MANDIR)/man5/nxretry.conf.5
	-rmdir $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build build-*
