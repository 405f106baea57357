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
PKGS      = libcares libconfig
CARES_A  := $(shell pkg-config --variable=libdir libcares 2>/dev/null)/libcares.a
WARN      = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wvla
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -fPIC -fvisibility=hidden -D_GNU_SOURCE \
            -ffunction-sections -fdata-sections \
            -fno-strict-aliasing $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  += -Wl,-z,relro -Wl,--as-needed -Wl,--gc-sections

ifneq ($(SANITIZE),)
  BUILD ?= build-$(SANITIZE)
  CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=$(SANITIZE)
else
  BUILD ?= build
  CFLAGS  += -D_FORTIFY_SOURCE=2
endif
B := $(BUILD)

ENGINE_SRC = shim/engine.c shim/config.c shim/policy.c shim/message.c shim/probe.c \
             shim/wait.c shim/authority.c shim/result.c shim/log.c shim/server.c \
             shim/flight.c
ENGINE_OBJ = $(ENGINE_SRC:shim/%.c=$(B)/obj/%.o)
HOOK_OBJ   = $(B)/obj/hooks.o $(B)/obj/policy.o
UNIT_TESTS = $(patsubst tests/unit/%.c,$(B)/%,$(filter-out tests/unit/util.c,$(wildcard tests/unit/test_*.c)))

LIB        = $(B)/libnxretry.so
ENGINE     = $(B)/libnxretry-engine.so

.PHONY: all unit-tests check unit lab demo bench install uninstall clean deps lint
all: $(LIB) $(ENGINE) $(B)/nxretry-check $(B)/gai $(B)/faultdns $(B)/threads $(B)/cancel

$(B)/obj/%.o: shim/%.c shim/nxretry.h | $(B)/obj
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/obj:
	mkdir -p $@

# The thin preload: no c-ares, no libconfig, lazy binding.
$(LIB): $(HOOK_OBJ) shim/libnxretry.map
	$(CC) -shared $(LDFLAGS) -Wl,--version-script=shim/libnxretry.map -o $@ $(HOOK_OBJ)

# The engine: c-ares linked in statically and hidden (Node exports its own
# ares_* symbols; a dynamic libcares would bind to Node's inside Node).
$(ENGINE): $(ENGINE_OBJ) shim/engine.map
	$(CC) -shared $(LDFLAGS) -Wl,--version-script=shim/engine.map -Wl,--exclude-libs,ALL \
		-o $@ $(ENGINE_OBJ) $(CARES_A)

$(B)/engine.a: $(ENGINE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/nxretry-check: shim/check.c $(B)/engine.a
	$(CC) $(CFLAGS) -o $@ $< $(B)/engine.a $(CARES_A) $(LDFLAGS) -lm

$(B)/gai: tests/lab/gai.c tests/lab/client.h | $(B)/obj
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

# Lab tools: the misbehaving DNS server, the threaded getaddrinfo client and the
# client whose lookup thread is cancelled.
$(B)/faultdns $(B)/threads $(B)/cancel: $(B)/%: tests/lab/%.c tests/lab/client.h | $(B)/obj
	$(CC) $(CFLAGS) -pthread -o $@ $< $(LDFLAGS)

$(B)/test_%: tests/unit/test_%.c tests/unit/util.c tests/unit/util.h $(B)/engine.a
	$(CC) $(CFLAGS) -Ishim -o $@ $< tests/unit/util.c $(B)/engine.a $(CARES_A) \
		$(LDFLAGS) $(shell pkg-config --libs cmocka) -lm -ldl -lpthread

deps:
	@scripts/install-deps --check || scripts/install-deps

# deps runs first and alone: the flags above come from pkg-config, so the
# build itself is a fresh make that reads them after the packages exist.
check: deps
	@$(MAKE) --no-print-directory all unit-tests
	@scripts/run-tests $(B) $(SANITIZE)

unit-tests: $(UNIT_TESTS)

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

lint:
	shellcheck -x scripts/* tests/lab/*.sh tests/lab/run bench/run

install: $(LIB) $(ENGINE) $(B)/nxretry-check
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 $(LIB) $(ENGINE) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(B)/nxretry-check $(DESTDIR)$(LIBDIR)/
	install -m 0755 scripts/nxretry $(DESTDIR)$(BINDIR)/nxretry
	install -m 0644 config/nxretry.conf README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/nxretry.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/nxretry.conf.5 $(DESTDIR)$(MANDIR)/man5/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libnxretry.so $(DESTDIR)$(LIBDIR)/libnxretry-engine.so \
		$(DESTDIR)$(LIBDIR)/nxretry-check $(DESTDIR)$(BINDIR)/nxretry \
		$(DESTDIR)$(DOCDIR)/nxretry.conf $(DESTDIR)$(DOCDIR)/README.md \
		$(DESTDIR)$(MANDIR)/man1/nxretry.1 $(DESTDIR)$(MANDIR)/man5/nxretry.conf.5
	-rmdir $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build build-*
