# runit-rs: build, test, demo, benchmark and install.
#
#   make            release build of every program
#   make check      every test (unit, CLI, end-to-end, differential vs runit 2.1.2)
#   make demo       supervise the bundled examples/ tree, show it working, clean up
#   make bench      benchmarks side by side with the reference binaries
#   make soak       the fault matrix against runit, table to docs/reliability.md
#   make fuzz       every fuzz target for FUZZ_SECONDS (60) each (nightly)
#   make install    PREFIX=/usr/local DESTDIR= BINDIR= SBINDIR= MANDIR=
#   make static     statically linked, stripped binaries in dist/
#   make multicall  one static binary for every program, with links, in
#                   dist-multicall/ (make check-multicall tests it)
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

TARGET_DIR = $(or $(CARGO_TARGET_DIR),target)
RELEASE = $(TARGET_DIR)/release
TRIPLE  ?= $(shell rustc -vV | sed -n 's/^host: //p')

.PHONY: all musl-bins check check-libc check-multicall check-static demo bench soak fuzz install install-files uninstall static multicall clean settings

# Linked statically (glibc, crt-static) in the release build: runsv runs
# once per service for the machine's whole life, and static linking saves
# each process the private pages of the dynamic loader and libc's
# relocations (runsv: ~87 kB PSS instead of ~129 kB); the short-lived
# tools start faster. chpst stays dynamic: it looks users up through NSS.
# svlogd is static only with musl (below): glibc's static start-up
# allocates before main and dies of SIGSEGV when that fails (a tight
# RLIMIT_AS), where svlogd must say "out of memory" and exit 111.
# runsvdir and runit (process 1) stay dynamic too: there is one of each, so
# a static copy of the C library's code would be theirs alone, where the
# shared one costs them little (runsvdir's PSS with 1,000 services is less
# than half; `make static` still builds them static for rescue systems).
# Each entry is CRATE:BINARY.
STATIC_BINS = runsv:runsv sv:sv svok:svok \
	svstat:svstat svc:svc tai64n:tai64n tai64n:tai64nlocal \
	utmpset:utmpset runsvchdir:runsvchdir

# runsv, one per service, is also linked as a fixed-address (non-PIE)
# executable: a static PIE relocates itself at start-up, which turns ~28 kB
# of its read-only data into private pages in every runsv process (PSS
# ~85 kB instead of ~67 kB). The price is that runsv's own code is not
# randomised (its stack, heap and mappings still are); RUNSV_PIE=yes keeps
# PIE for distributions whose policy requires it.
RUNSV_PIE ?= no
RUNSV_FLAGS = $(if $(filter no,$(RUNSV_PIE)),-C relocation-model=static)

# runsv, sv and svlogd are linked against musl instead of glibc when
# Rust's musl target is installed (rustup target add
# x86_64-unknown-linux-musl): glibc's start-up probes the CPU with cpuid,
# which traps to the hypervisor on a virtual machine, so with musl they
# start in half the time (a faster fan-out of a whole services directory,
# a faster `sv up`), and runsv and svlogd, one each per service, take half
# the memory (runsv PSS ~27 kB instead of ~53 kB; svlogd peak RSS ~540 kB
# instead of ~1,080 kB). svlogd gives up a sixth of its throughput for it
# (~570 instead of ~680 MB/s; runit's: ~50) and, unlike a static glibc,
# starts without allocating, so a tight RLIMIT_AS ends in its "out of
# memory" message. RUNIT_LIBC=glibc keeps glibc (svlogd then dynamic);
# without the target it is glibc. The rest stay with glibc: chpst needs
# NSS, utmpset needs glibc's utmp.
MUSL       ?= $(shell uname -m)-unknown-linux-musl
MUSL_STD    = $(wildcard $(shell rustc --print target-libdir --target $(MUSL) 2>/dev/null)/libstd-*.rlib)
RUNIT_LIBC ?= $(if $(MUSL_STD),musl,glibc)
MUSL_BINS   = runsv sv svlogd

all: settings
	$(CARGO) build --release --workspace --bins
	for cb in $(STATIC_BINS); do \
	  extra=; [ "$${cb}" = runsv:runsv ] && extra="$(RUNSV_FLAGS)"; \
	  $(CARGO) rustc -q --release -p $${cb%%:*} --bin $${cb##*:} -- -C target-feature=+crt-static $$extra || exit 1; \
	done
ifeq ($(RUNIT_LIBC),musl)
	$(MAKE) --no-print-directory musl-bins OUT="$(RELEASE)"
endif

# The MUSL_BINS, built for musl (static; runsv at a fixed address unless
# RUNSV_PIE=yes) and copied to OUT.
musl-bins:
	for p in $(MUSL_BINS); do \
	  RUSTFLAGS="$(S_RUST)" $(S_CARGO) rustc -q $(S_ZFLAGS) --release -p $$p --bin $$p --target $(MUSL) -- \
	    $$([ $$p = runsv ] && echo "$(RUNSV_FLAGS)") || exit 1; \
	  cp "$(S_OUT)/$(MUSL)/release/$$p" "$(OUT)/$$p" || exit 1; \
	done

settings:
	@echo "sv default service directory (SVDIR): $(SVDIR)"
	@echo "C library of $(MUSL_BINS) (RUNIT_LIBC): $(RUNIT_LIBC)"

# The end-to-end tests drive the built binaries, so build them first (the
# tests refuse binaries older than their sources). Every test that did not
# run is logged to SKIPS; the sum is printed at the end, pass or fail.
# RUNIT_RS_REQUIRE_REFERENCE=1 makes a skip a failure, except where the
# machine itself was shown unable (e.g. no PID namespaces).
SKIPS = $(abspath $(TARGET_DIR))/test-skips.log
check: export RUNIT_RS_SKIP_LOG = $(SKIPS)
check:
	$(CARGO) build --workspace --bins
	mkdir -p "$(dir $(SKIPS))" && : > "$(SKIPS)"
	st=0; RUNIT_RS_REQUIRE_REFERENCE=1 $(CARGO) test --workspace --no-fail-fast || st=$$?; \
	if [ $$st = 0 ]; then $(MAKE) --no-print-directory check-libc || st=$$?; fi; \
	if [ $$st = 0 ]; then $(CARGO) run -q -p xtask -- soak --short --bins "$(TARGET_DIR)/debug" || st=$$?; fi; \
	echo "$$(cut -f1 "$(SKIPS)" | sort -u | wc -l) tests skipped"; \
	sed 's/^/  /' "$(SKIPS)"; \
	exit $$st

# When make all would ship musl builds of MUSL_BINS, the end-to-end tests
# that run them (runsv's, sv's, svlogd's, runsvdir's, readiness) run again with those
# builds beside the other programs, so what is installed is what was tested.
MIX = $(TARGET_DIR)/musl-mix
check-libc:
ifeq ($(RUNIT_LIBC),musl)
	for p in $(MUSL_BINS); do $(CARGO) build -p $$p --bin $$p --target $(MUSL) || exit 1; done
	rm -rf "$(MIX)" && mkdir -p "$(MIX)"
	for f in $(TARGET_DIR)/debug/*; do \
	  [ -f "$$f" ] && [ -x "$$f" ] && ln -f "$$f" "$(MIX)/"; \
	done; for p in $(MUSL_BINS); do ln -f "$(TARGET_DIR)/$(MUSL)/debug/$$p" "$(MIX)/$$p"; done
	RUNIT_RS_BIN_DIR="$(abspath $(MIX))" RUNIT_RS_REQUIRE_REFERENCE=1 \
	  $(CARGO) test -p runit-tests --test runsv --test sv --test runsvdir --test readiness \
	    --test svlogd --test svlogd_limits --no-fail-fast
else
	@echo "*** musl builds of $(MUSL_BINS) not tested: Rust's $(MUSL) target is not installed,"
	@echo "*** so make all builds them with glibc (tested above)."
endif

demo: all
	sh examples/demo.sh $(RELEASE)

bench: all
	$(CARGO) run --release -p xtask -- bench

# The fault matrix (xtask/src/soak), full form, against the release
# build and runit 2.1.2; the table goes to docs/reliability.md. make check
# runs its short form.
soak: all
	$(CARGO) run --release -p xtask -- soak --write docs/reliability.md

# libFuzzer through cargo-fuzz, on the nightly toolchain (both installed
# when missing). FUZZ_TARGETS= picks some of fuzz/fuzz_targets; the
# summary lists runs and crashes per target (docs/reliability.md).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz:
	rustup run nightly rustc --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
	cargo fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	sh fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

install: all install-files

# Installs what is in $(RELEASE) without building (packaging scripts and
# the install test use it with RELEASE= pointing at their build).
install-files:
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(SBINDIR)" "$(DESTDIR)$(MANDIR)/man8"
	for p in $(BIN_PROGS); do install -m 0755 "$(RELEASE)/$$p" "$(DESTDIR)$(BINDIR)/$$p"; done
	for p in $(SBIN_PROGS); do install -m 0755 "$(RELEASE)/$$p" "$(DESTDIR)$(SBINDIR)/$$p"; done
	for p in $(PERSONALITIES); do ln -sf chpst "$(DESTDIR)$(BINDIR)/$$p"; done
	for m in docs/man/*.8; do install -m 0644 "$$m" "$(DESTDIR)$(MANDIR)/man8/"; done

uninstall:
	for p in $(BIN_PROGS) $(PERSONALITIES); do rm -f "$(DESTDIR)$(BINDIR)/$$p"; done
	for p in $(SBIN_PROGS); do rm -f "$(DESTDIR)$(SBINDIR)/$$p"; done
	for m in docs/man/*.8; do rm -f "$(DESTDIR)$(MANDIR)/man8/$${m##*/}"; done

# Every program linked statically and stripped, in dist/: with musl when
# RUNIT_LIBC is musl, else with a static glibc (but chpst, dynamic). runsv, sv, svlogd: as make
# all builds them. chpst is musl too: it then reads users and groups from
# /etc/passwd and /etc/group only, not the LDAP, sssd or systemd users an
# nsswitch.conf names (make all's chpst, dynamic glibc, does); a static
# glibc chpst loads those modules into a static program, which crashed
# (SIGSEGV) on an unknown user with "passwd: files systemd".
# utmpset built with musl keeps to glibc's record layout on a glibc host
# (feature glibc-utmp): the files are the system's, whatever utmpset links.
#
# STATIC_STD=rebuilt builds them with Rust's standard library rebuilt
# for them (nightly: -Z build-std, installed when missing) and panics
# aborting at once: each program then carries only the parts of std it
# uses, not the prebuilt runtime's formatting, panic hook and backtrace
# symbolizer (~390 kB a program). The price: a bug that panics dies of
# SIGILL without a message. `make check-static` tests dist/.
STATIC_STD ?= prebuilt
ifeq ($(STATIC_STD),rebuilt)
S_CARGO  = $(CARGO) +nightly
S_OUT    = $(TARGET_DIR)/std-rebuilt
S_ZFLAGS = -Z build-std=std,panic_abort --target-dir $(S_OUT)
S_RUST   = -Zunstable-options -Cpanic=immediate-abort
S_SETUP  = { rustup run nightly rustc --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal; } && \
	rustup component add rust-src --toolchain nightly && rustup target add $(MUSL) --toolchain nightly
else
S_CARGO  = $(CARGO)
S_OUT    = $(TARGET_DIR)
S_ZFLAGS =
S_RUST   =
S_SETUP  = :
endif
GLIBC_UTMP  = $(if $(filter %-linux-gnu,$(TRIPLE)),--features utmpset/glibc-utmp)
MULTI_UTMP  = $(if $(GLIBC_UTMP),--features glibc-utmp)
static:
	$(S_SETUP)
	rm -rf dist && mkdir -p dist
ifeq ($(RUNIT_LIBC),musl)
	RUSTFLAGS="$(S_RUST)" $(S_CARGO) build $(S_ZFLAGS) --release --workspace --bins --target $(MUSL) $(GLIBC_UTMP) \
	  --exclude multicall --exclude xtask --exclude runit-tests
	for p in $(BIN_PROGS) $(SBIN_PROGS); do cp "$(S_OUT)/$(MUSL)/release/$$p" dist/ && strip dist/$$p || exit 1; done
	$(MAKE) --no-print-directory musl-bins OUT=dist
else
	RUSTFLAGS="-C target-feature=+crt-static $(S_RUST)" $(S_CARGO) build $(S_ZFLAGS) --release --workspace --bins --target $(TRIPLE) \
	  --exclude chpst --exclude multicall --exclude xtask --exclude runit-tests
	RUSTFLAGS="$(S_RUST)" $(S_CARGO) build $(S_ZFLAGS) --release -p chpst --bin chpst --target $(TRIPLE)
	for p in $(BIN_PROGS) $(SBIN_PROGS); do cp "$(S_OUT)/$(TRIPLE)/release/$$p" dist/ && strip dist/$$p || exit 1; done
endif
	ls -l dist && du -cb dist/* | tail -1

# The end-to-end tests, run against dist/ (built with the STATIC_STD
# given), the personalities as links to its chpst. Not part of make check.
SMIX = $(TARGET_DIR)/static-mix
check-static: static
	$(CARGO) build -p runit-tests --bins
	rm -rf "$(SMIX)" && mkdir -p "$(SMIX)" && cp dist/* "$(SMIX)/"
	for p in $(PERSONALITIES); do ln -s chpst "$(SMIX)/$$p" || exit 1; done
	for f in tests/src/bin/*.rs; do \
	  b=$$(basename "$$f" .rs); ln -f "$(TARGET_DIR)/debug/$$b" "$(SMIX)/$$b" || exit 1; \
	done
	RUNIT_RS_BIN_DIR="$(abspath $(SMIX))" RUNIT_RS_REQUIRE_REFERENCE=1 \
	  $(CARGO) test -p runit-tests --no-fail-fast

# One static musl binary, runit-rs, for every program (see
# crates/multicall), built for size (profile multicall), and a symlink
# to it by each program's name, in dist-multicall/.
MULTI = dist-multicall
multicall:
	$(CARGO) build --profile multicall -p multicall --bin runit-rs --target $(MUSL) $(MULTI_UTMP)
	rm -rf $(MULTI) && mkdir -p $(MULTI)
	cp "$(TARGET_DIR)/$(MUSL)/multicall/runit-rs" $(MULTI)/ && strip $(MULTI)/runit-rs
	for p in $(BIN_PROGS) $(SBIN_PROGS) $(PERSONALITIES); do ln -s runit-rs $(MULTI)/$$p || exit 1; done
	ls -l $(MULTI)/runit-rs

# Not part of make check, which must stay within ~15 minutes on 2 cores
# (this adds 3.5 minutes).
# The end-to-end tests, run against dist-multicall/.
# The tests' own helper programs (tests/src/bin) sit beside the links in
# a directory of their own, so dist-multicall/ stays what is shipped.
MMIX = $(TARGET_DIR)/multicall-mix
check-multicall: multicall
	$(CARGO) build -p runit-tests --bins
	rm -rf "$(MMIX)" && mkdir -p "$(MMIX)" && cp -P $(MULTI)/* "$(MMIX)/"
	for f in tests/src/bin/*.rs; do \
	  b=$$(basename "$$f" .rs); ln -f "$(TARGET_DIR)/debug/$$b" "$(MMIX)/$$b" || exit 1; \
	done
	RUNIT_RS_BIN_DIR="$(abspath $(MMIX))" RUNIT_RS_REQUIRE_REFERENCE=1 \
	  $(CARGO) test -p runit-tests --no-fail-fast

clean:
	$(CARGO) clean
	rm -rf dist $(MULTI)
