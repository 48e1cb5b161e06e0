# runit-rs: build, test, demo, benchmark and install.
#
#   make            release build of every program
#   make check      every test (unit, CLI, end-to-end, differential vs runit 2.1.2)
#   make demo       supervise the bundled examples/ tree, show it working, clean up
#   make bench      benchmarks side by side with the reference binaries
#   make install    PREFIX=/usr/local DESTDIR= BINDIR= SBINDIR=
#
# Build-time settings (distro paths):
#   SVDIR           sv's default service directory: upstream /service,
#                   Debian /etc/service (the default here), Void /var/service.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
SVDIR   ?= /etc/service
CARGO   ?= cargo

export RUNIT_SVDIR := $(SVDIR)

# Programs by runit's names: BIN_PROGS go to BINDIR, SBIN_PROGS to SBINDIR.
BIN_PROGS  = runsv sv chpst svok svstat svc tai64n tai64nlocal svlogd runsvdir
SBIN_PROGS = runit runit-init utmpset runsvchdir
# chpst's daemontools names: symlinks to chpst in BINDIR (it acts by argv[0]).
PERSONALITIES = envdir envuidgid pgrphack setlock setuidgid softlimit

RELEASE = target/release

.PHONY: all check demo bench install uninstall clean settings

all: settings
	$(CARGO) build --release --workspace --bins

settings:
	@echo "sv default service directory (SVDIR): $(SVDIR)"

# The end-to-end tests drive the built binaries, so build them first.
check:
	$(CARGO) build --workspace --bins
	RUNIT_RS_REQUIRE_REFERENCE=1 $(CARGO) test --workspace

demo: all
	sh examples/demo.sh $(RELEASE)

bench: all
	$(CARGO) run --release -p xtask -- bench

install: all
	install -d "$(DESTDIR)$(BINDIR)"
	for p in $(BIN_PROGS); do install -m 0755 "$(RELEASE)/$$p" "$(DESTDIR)$(BINDIR)/$$p"; done
	test -z "$(SBIN_PROGS)" || install -d "$(DESTDIR)$(SBINDIR)"
	for p in $(SBIN_PROGS); do install -m 0755 "$(RELEASE)/$$p" "$(DESTDIR)$(SBINDIR)/$$p"; done
	for p in $(PERSONALITIES); do ln -sf chpst "$(DESTDIR)$(BINDIR)/$$p"; done

uninstall:
	for p in $(BIN_PROGS); do rm -f "$(DESTDIR)$(BINDIR)/$$p"; done
	for p in $(SBIN_PROGS); do rm -f "$(DESTDIR)$(SBINDIR)/$$p"; done
	for p in $(PERSONALITIES); do rm -f "$(DESTDIR)$(BINDIR)/$$p"; done

clean:
	$(CARGO) clean
	rm -rf dist
