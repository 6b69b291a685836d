# shortd — a URL-shortener HTTP daemon.
#   make          build build/shortd
#   make check    install missing Debian packages, build, run every test
#                 (the admin page's in chromium too: make check-browser;
#                 doc/openapi.json against a validator and the daemon's
#                 answers: make openapi-run)
#   make check-load  the long load cases (tests/load), run by .ci/run
#   make check-pg the API, redirect and click suites with every daemon on
#                 PostgreSQL (a throw-away cluster), and the several-node tests
#   make check-mhd1  make check's tests against libmicrohttpd 1.0 (Debian 13's)
#   make asan     the same tests built with AddressSanitizer and UBSan
#   make coverage make check's tests built with --coverage; gcovr's summary per
#                 file, HTML under build/coverage/html, and a floor for src/
#   make torture  every allocation failed in turn (tests/torture)
#   make run      install, build, serve on $SHORTD_LISTEN (default
#                 127.0.0.1:8080) with $SHORTD_DB (default ./shortd.db)
#   make install  PREFIX=/usr/local DESTDIR= (binary, man page, systemd unit,
#                 logrotate file); make uninstall removes exactly those

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# systemd's unit directory for this prefix (/usr/local/lib/systemd/system for
# /usr/local, /usr/lib/systemd/system for /usr), from systemd.pc when there.
UNITDIR ?= $(or $(shell pkg-config --define-variable=rootprefix=$(PREFIX) --variable=systemdsystemunitdir systemd 2>/dev/null),$(PREFIX)/lib/systemd/system)
BUILD   ?= build
CC      ?= cc

PKGS      := libmicrohttpd sqlite3 jansson libsodium libqrencode libpng libpq
# libpq is loaded at run time, by the first PostgreSQL database
# (store_pg_lib.c): the daemon compiles against its header and does not link
# it. The tests link it (their throw-away cluster speaks to it directly).
LINK_PKGS := $(filter-out libpq,$(PKGS))
TEST_PKGS := check libcurl libpq

CFLAGS  ?= -O2 -g
# Warnings are errors in a git checkout (developers, CI) and only warnings in
# a release tarball built with another compiler; WERROR= turns them off.
WERROR  ?= $(if $(wildcard .git),-Werror)
WARN    := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wformat=2 -Wno-format-nonliteral
# Hardening on by default, as distributions build: HARDEN= turns it off.
# The sanitizer and fuzz builds clear it (FORTIFY and ASan get in each
# other's way).
HARDEN_CFLAGS  ?= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LDFLAGS ?= -pie -Wl,-z,relro,-z,now
CPPFLAGS += -Iinclude -I$(BUILD) -D_GNU_SOURCE
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(HARDEN_CFLAGS) $(SANFLAGS) -MMD -MP -pthread
ALL_LDFLAGS = $(HARDEN_LDFLAGS) $(LDFLAGS)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(LINK_PKGS)) -ldl
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS))
TEST_LIBS   = $(shell pkg-config --libs $(TEST_PKGS))

# Every module but main.c goes into a static library that the tests link too.
LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/migrations_data.o $(BUILD)/obj/migrations_pg_data.o \
	   $(BUILD)/obj/admin_assets.o $(BUILD)/obj/openapi_doc.o
LIB     := $(BUILD)/libshortd.a
SQLITE_MIGRATIONS := $(sort $(wildcard sql/sqlite/*.sql))
PG_MIGRATIONS     := $(sort $(wildcard sql/postgres/*.sql))
WEB_FILES  := web/admin.html web/admin.css web/admin.js

UNIT_SRC := $(wildcard tests/unit/*.c)
INT_SRC  := $(wildcard tests/integration/*.c)
LOAD_SRC := $(wildcard tests/load/*.c)
SUP_SRC  := $(wildcard tests/support/*.c)

.PHONY: FORCE all check check-browser browser-run openapi-run check-load check-mhd1 mhd1 load-run pg-run pg-suites-run check-pg test-run docs-run asan run install uninstall deps clean fuzz fuzz-build bench format format-check coverage coverage-run torture torture-ci
all: $(BUILD)/shortd

$(BUILD)/shortd: $(BUILD)/obj/main.o $(LIB) $(EXTRA_OBJ)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
	$(if $(LIB_SYMS),objcopy $(LIB_SYMS) $@)

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# Migrations are embedded in the binary, one table per SQL dialect:
# sql/sqlite/NNN_name.sql -> sqlite_migrations[], sql/postgres/NNN_name.sql
# -> postgres_migrations[].
# Each table also depends on the list of its files, rewritten only when it
# changes, so that a file taken away rebuilds the table too.
$(BUILD)/migrations_data.c: $(SQLITE_MIGRATIONS) $(BUILD)/migrations.list tools/embed_sql.sh | $(BUILD)/obj
	sh tools/embed_sql.sh sqlite $(SQLITE_MIGRATIONS) > $@.tmp && mv $@.tmp $@
$(BUILD)/migrations_pg_data.c: $(PG_MIGRATIONS) $(BUILD)/migrations.list tools/embed_sql.sh | $(BUILD)/obj
	sh tools/embed_sql.sh postgres $(PG_MIGRATIONS) > $@.tmp && mv $@.tmp $@
$(BUILD)/migrations.list: FORCE | $(BUILD)/obj
	@list='$(SQLITE_MIGRATIONS) $(PG_MIGRATIONS)'; echo "$$list" | cmp -s - $@ || echo "$$list" > $@
FORCE:
$(BUILD)/obj/migrations_data.o: $(BUILD)/migrations_data.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<
$(BUILD)/obj/migrations_pg_data.o: $(BUILD)/migrations_pg_data.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The admin page (web/) is embedded the same way, as admin_page.h's table.
$(BUILD)/admin_assets.c: $(WEB_FILES) tools/embed_web.sh | $(BUILD)/obj
	sh tools/embed_web.sh $(WEB_FILES) > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/admin_assets.o: $(BUILD)/admin_assets.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The API's OpenAPI document (doc/openapi.json), served at
# /api/v1/openapi.json as api.h's api_openapi_json.
$(BUILD)/openapi_doc.c: doc/openapi.json tools/embed_openapi.sh | $(BUILD)/obj
	sh tools/embed_openapi.sh doc/openapi.json > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/openapi_doc.o: $(BUILD)/openapi_doc.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# A test file's NAME_suite() is declared only in the generated runner, and a
# fuzz driver's entry point only by libFuzzer, hence no prototype for them.
TEST_WARN := -Wno-missing-prototypes

$(BUILD)/obj/test_%.o: tests/%.c | $(BUILD)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/support $(ALL_CFLAGS) $(TEST_WARN) $(PKG_CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

UNIT_OBJ := $(UNIT_SRC:tests/%.c=$(BUILD)/obj/test_%.o)
INT_OBJ  := $(INT_SRC:tests/%.c=$(BUILD)/obj/test_%.o)
LOAD_OBJ := $(LOAD_SRC:tests/%.c=$(BUILD)/obj/test_%.o)
SUP_OBJ  := $(SUP_SRC:tests/%.c=$(BUILD)/obj/test_%.o)

# Each tests/<kind>/test_NAME.c exports Suite *NAME_suite(void); the runner
# that adds them all is generated, so adding a test file needs no other edit.
$(BUILD)/%_main.c: tools/gen_runner.sh $(wildcard tests/unit/test_*.c tests/integration/test_*.c tests/load/test_*.c) | $(BUILD)/obj
	sh tools/gen_runner.sh $* $(sort $(wildcard tests/$*/test_*.c)) > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/%_main.o: $(BUILD)/%_main.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

$(BUILD)/unit_tests: $(BUILD)/obj/unit_main.o $(UNIT_OBJ) $(SUP_OBJ) $(LIB) $(EXTRA_OBJ)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lm
$(BUILD)/integration_tests: $(BUILD)/obj/integration_main.o $(INT_OBJ) $(SUP_OBJ) $(LIB) $(EXTRA_OBJ)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lm

$(BUILD)/load_tests: $(BUILD)/obj/load_main.o $(LOAD_OBJ) $(SUP_OBJ) $(LIB) $(EXTRA_OBJ)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lm

$(BUILD)/obj:
	@mkdir -p $@ $@/unit $@/integration $@/load $@/support

# check: set-up first (a separate make, so pkg-config runs after deps).
check: deps
	$(MAKE) --no-print-directory test-run docs-run browser-run openapi-run

# check-browser: the admin page driven in Debian's chromium by playwright-core,
# installed by npm ci from tests/browser/package-lock.json (no browser is
# downloaded); screenshots go to build/browser/ and doc/admin-page.png.
BROWSER_DIR := tests/browser
BROWSER_MODULES := $(BROWSER_DIR)/node_modules/.package-lock.json

check-browser: deps
	$(MAKE) --no-print-directory browser-run

$(BROWSER_MODULES): $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	cd $(BROWSER_DIR) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 \
	  npm ci --no-audit --no-fund --ignore-scripts
	touch $@

browser-run: $(BUILD)/shortd $(BROWSER_MODULES)
	node $(BROWSER_DIR)/admin.test.js $(BUILD)/shortd

# openapi-run: doc/openapi.json validated by @apidevtools/swagger-parser, and
# the real daemon's answers to a walk through every operation checked
# against its schemas with ajv; both installed by npm ci from
# tests/openapi/package-lock.json.
OPENAPI_DIR := tests/openapi
OPENAPI_MODULES := $(OPENAPI_DIR)/node_modules/.package-lock.json

$(OPENAPI_MODULES): $(OPENAPI_DIR)/package.json $(OPENAPI_DIR)/package-lock.json
	cd $(OPENAPI_DIR) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

openapi-run: $(BUILD)/shortd $(OPENAPI_MODULES)
	node $(OPENAPI_DIR)/openapi.test.js $(BUILD)/shortd

# docs-run: the README's marked examples, run in order against a fresh daemon
# and compared with what the README shows; make install/uninstall, the
# installed unit (systemd-analyze verify), make run and the man page.
docs-run: $(BUILD)/shortd
	python3 tests/readme/run.py --self-test
	python3 tests/readme/run.py README.md $(BUILD)/shortd
	sh tests/packaging/install.sh

# test-run: the unit and integration suites, TEST_JOBS at a time
# (tools/run_suites.sh), the slowest first. TEST_JOBS=1 runs them one by one.
TEST_JOBS   ?= 4
SLOW_SUITES := store hostile cli_errors api_errors redirect_hostile io linkcache_it http_conns

test-run: $(BUILD)/shortd $(BUILD)/unit_tests $(BUILD)/integration_tests
	SHORTD_BIN=$(BUILD)/shortd SLOW_SUITES="$(SLOW_SUITES)" \
	  sh tools/run_suites.sh $(TEST_JOBS) $(BUILD)/unit_tests $(BUILD)/integration_tests

# check-load: the cases that hold thousands of connections or run for
# minutes; kept out of check so that it stays quick for a developer. The
# several-node suite of tests/load (nodes) is make check-pg's.
LOAD_SUITES := api_load crash_load export_load slow_clients slowloris stop_race

check-load: deps
	$(MAKE) --no-print-directory load-run

load-run: $(BUILD)/shortd $(BUILD)/load_tests
	@set -e; for s in $(LOAD_SUITES); do \
	  CK_RUN_SUITE=$$s SHORTD_BIN=$(BUILD)/shortd $(BUILD)/load_tests; \
	done

# check-pg: the integration suites that speak to the daemon through its API,
# the CLI's export and import and its redirects (none that reads SQLite's
# files itself), run again with every daemon on PostgreSQL
# (SHORTD_TEST_DB=postgresql: each test a fresh database in a throw-away
# cluster that each run starts and stops, tests/support/pg_cluster.c), and
# the several-node suite (tests/load/test_nodes.c, which check-load runs as
# well). The store's conformance suite runs on both backends in make check.
# The suites run PG_TEST_JOBS at a time (tools/run_suites.sh), fewer than
# test-run's: each runs a cluster of its own.
PG_TEST_JOBS ?= 2
PG_SUITES := api api_errors api_links api_tokens io qr accesslog redirect redirect_body redirect_life clicks_it db_url

check-pg: deps
	$(MAKE) --no-print-directory pg-run

pg-run: pg-suites-run $(BUILD)/load_tests
	SHORTD_BIN=$(BUILD)/shortd $(BUILD)/load_tests nodes

pg-suites-run: $(BUILD)/shortd $(BUILD)/integration_tests
	SHORTD_TEST_DB=postgresql SHORTD_BIN=$(BUILD)/shortd SUITES="$(PG_SUITES)" SLOW_SUITES="$(SLOW_SUITES)" \
	  sh tools/run_suites.sh $(PG_TEST_JOBS) $(BUILD)/integration_tests

# check-mhd1: the same tests, with shortd and the tests built against
# libmicrohttpd 1.0 from Debian 13's source package (tools/mhd_build.sh),
# kept in MHD1_PREFIX: a second run builds nothing there again.
MHD1_SUITE   := trixie
MHD1_VERSION := 1.0.1-4
MHD1_PREFIX  := $(CURDIR)/build/mhd-1.0.1
MHD1_STAMP   := $(MHD1_PREFIX)/debian-version

mhd1: $(MHD1_STAMP)
$(MHD1_STAMP): tools/mhd_build.sh
	sh tools/mhd_build.sh $(MHD1_SUITE) $(MHD1_VERSION) $(MHD1_PREFIX)

check-mhd1: deps
	$(MAKE) --no-print-directory mhd1
	PKG_CONFIG_PATH=$(MHD1_PREFIX)/lib/pkgconfig $(MAKE) --no-print-directory BUILD=build/mhd1 \
	  LDFLAGS="-Wl,-rpath,$(MHD1_PREFIX)/lib" test-run

asan: deps
	$(MAKE) --no-print-directory BUILD=build/asan CC=clang HARDEN_CFLAGS= HARDEN_LDFLAGS= \
	  SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  test-run

# coverage: the tests of make check (and the README's examples), and those
# of make check-pg (PostgreSQL, several nodes), built with
# --coverage into build/cov, and part of make torture: the daemon scenarios
# with every other allocation of its requests failed in turn (every 10th of
# start-up's) and each of its storage calls, the unit tests of
# COV_ALLOC_SUITES with each of their first 10 allocations failed, and the
# store's tests with each of their first 10 storage calls failed (tests/torture/torture.c is linked
# in, and does nothing unless asked); then gcovr's line and branch summary
# per file and an HTML report in build/coverage/html. The daemons that the
# tests start may run as nobody (test_faults.c) and in a private mount
# namespace: every process writes its .gcda under COV_DATA (GCOV_PREFIX),
# where each file is made beforehand, empty and writable by all, and they
# are copied back to the objects afterwards. Fails when src/ as a whole
# falls under COV_LINE_FLOOR or COV_BRANCH_FLOOR percent (measured: 95.17
# and 87.94): the floors only ever rise.
COV_BUILD        := build/cov
COV_DATA         ?= /tmp/shortd-coverage$(CURDIR)
COV_LINE_FLOOR   ?= 95
COV_BRANCH_FLOOR ?= 87.5
# The unit suites make coverage runs with each of their first 10 allocations
# failed: the modules that allocate what they hold when they start.
COV_ALLOC_SUITES := accesslog,accesslog_faults,api,clicks,csv,http_respcache,http_resppool,link_admin,link_cache,link_io,link_json,metrics,qr,redirect,store_sqlite_trigram,thread_registry
GCOVR_FLAGS := --root . --filter 'src/' --exclude-unreachable-branches --exclude-throw-branches

coverage: deps
	$(MAKE) --no-print-directory BUILD=$(COV_BUILD) CFLAGS="-O0 -g --coverage" LDFLAGS=--coverage \
	  HARDEN_CFLAGS= HARDEN_LDFLAGS= LIB_SYMS="$(TORTURE_SYMS)" EXTRA_OBJ=$(COV_BUILD)/obj/test_torture/torture.o \
	  coverage-run

coverage-run: $(BUILD)/shortd $(BUILD)/unit_tests $(BUILD)/integration_tests
	sh tools/coverage.sh prepare $(BUILD) $(COV_DATA)
	GCOV_PREFIX=$(COV_DATA) GCOV_PREFIX_STRIP=0 $(MAKE) --no-print-directory BUILD=$(BUILD) test-run; \
	  st=$$?; sh tools/coverage.sh collect $(BUILD) $(COV_DATA); exit $$st
	GCOV_PREFIX=$(COV_DATA) GCOV_PREFIX_STRIP=0 $(MAKE) --no-print-directory BUILD=$(BUILD) pg-run; \
	  st=$$?; sh tools/coverage.sh collect $(BUILD) $(COV_DATA); exit $$st
	GCOV_PREFIX=$(COV_DATA) GCOV_PREFIX_STRIP=0 python3 tests/readme/run.py README.md $(BUILD)/shortd; \
	  st=$$?; sh tools/coverage.sh collect $(BUILD) $(COV_DATA); exit $$st
	GCOV_PREFIX=$(COV_DATA) GCOV_PREFIX_STRIP=0 python3 tests/torture/run.py --build $(BUILD) \
	  --phases unit-alloc,unit-io,daemon-alloc,daemon-io --max 10 --unit-suites $(COV_ALLOC_SUITES) \
	  --startup-stride 10 --stride 2; \
	  st=$$?; sh tools/coverage.sh collect $(BUILD) $(COV_DATA); exit $$st
	sh tools/coverage.sh report $(BUILD) $(COV_LINE_FLOOR) $(COV_BRANCH_FLOOR) $(GCOVR_FLAGS)

# torture: every unit test run again with its 1st, 2nd, ... allocation
# failed, then its 1st, 2nd, ... storage call (read, write, sync, lock) of
# SQLite, and the daemon scenarios of tests/torture/run.py (start, create,
# redirect, stats, list, /metrics, SIGTERM) the same way; built with ASan and UBSan and
# tests/torture/torture.c linked in (objcopy renames shortd's own calls in
# libshortd.a, so the tests' and Check's are never failed; Jansson's and
# SQLite's hooks bring theirs). A crash, a sanitizer report, a hang, an
# answer other than the documented ones, or an acknowledged link or click
# missing afterwards fails it. TORTURE_MAX bounds N for each unit test (a
# test makes up to some 670,000 allocations; 0: no bound); the daemon's N
# always goes to the end. run.py runs one N per CPU at a time. torture-ci is
# .ci/run's bounded subset (about 4 minutes once built, on a shared 2-core
# machine): N up to 2 for the unit tests, every 40th of the daemon's
# start-up allocations and every 8th of its requests', each of its storage
# calls.
TORTURE_BUILD := build/torture
TORTURE_MAX   ?= 100
TORTURE_SYMS  := $(foreach f,malloc calloc realloc strdup aligned_alloc,--redefine-sym $(f)=torture_$(f))
TORTURE_MAKE  := $(MAKE) --no-print-directory BUILD=$(TORTURE_BUILD) CC=clang HARDEN_CFLAGS= HARDEN_LDFLAGS= \
	  CFLAGS="-O1 -g" LIB_SYMS="$(TORTURE_SYMS)" EXTRA_OBJ=$(TORTURE_BUILD)/obj/test_torture/torture.o \
	  SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

torture: deps
	$(TORTURE_MAKE) $(TORTURE_BUILD)/shortd $(TORTURE_BUILD)/unit_tests
	python3 tests/torture/run.py --build $(TORTURE_BUILD) --max $(TORTURE_MAX)

torture-ci: deps
	$(TORTURE_MAKE) $(TORTURE_BUILD)/shortd $(TORTURE_BUILD)/unit_tests
	python3 tests/torture/run.py --build $(TORTURE_BUILD) --max 2 --startup-stride 40 --stride 8

# run: serve's own defaults, so SHORTD_LISTEN, SHORTD_DB and the other
# SHORTD_* variables apply (127.0.0.1:8080 and ./shortd.db without them).
run: deps
	$(MAKE) --no-print-directory all
	$(BUILD)/shortd serve

deps:
	@sh tools/deps.sh

install: $(BUILD)/shortd
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 0755 $(BUILD)/shortd $(DESTDIR)$(BINDIR)/shortd
	install -m 0644 doc/shortd.1 $(DESTDIR)$(MANDIR)/man1/shortd.1
	sed 's|@BINDIR@|$(BINDIR)|g' contrib/shortd.service.in > $(DESTDIR)$(UNITDIR)/shortd.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/shortd.service.tmp
	mv $(DESTDIR)$(UNITDIR)/shortd.service.tmp $(DESTDIR)$(UNITDIR)/shortd.service
	install -m 0644 contrib/shortd.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/shortd

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/shortd $(DESTDIR)$(MANDIR)/man1/shortd.1 \
	  $(DESTDIR)$(UNITDIR)/shortd.service $(DESTDIR)$(SYSCONFDIR)/logrotate.d/shortd

# fuzz: the libFuzzer drivers tests/fuzz/fuzz_NAME.c, built with clang into
# FUZZ_BUILD (the library again, instrumented) and each run for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_BUILD   ?= build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

fuzz: deps
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang HARDEN_CFLAGS= HARDEN_LDFLAGS= \
	  SANFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-build: $(FUZZ_NAMES:%=$(BUILD)/fuzz_%)

# The drivers may link the parts of tests/support that need neither Check
# nor libcurl (a reference model, say), built without libFuzzer's coverage,
# which belongs to the code under test.
FUZZ_SUP_SRC := tests/support/link_cache_model.c
FUZZ_SUP_OBJ := $(FUZZ_SUP_SRC:tests/support/%.c=$(BUILD)/obj/fuzz_support/%.o)

$(BUILD)/obj/fuzz_support/%.o: tests/support/%.c | $(BUILD)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(filter-out -fsanitize=fuzzer-no-link,$(ALL_CFLAGS)) $(TEST_WARN) -c -o $@ $<

# The API drivers' fixture (a store and an API made once per process).
FUZZ_API_FIXTURE := $(BUILD)/obj/fuzz_support/api_fixture.o
FUZZ_API_DRIVERS := api_cursor api_link_body api_token_body request_target

$(FUZZ_API_FIXTURE): tests/fuzz/api_fixture.c tests/fuzz/api_fixture.h tests/fuzz/fuzz.h | $(BUILD)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(filter-out -fsanitize=fuzzer-no-link,$(ALL_CFLAGS)) $(PKG_CFLAGS) -c -o $@ $<

$(FUZZ_API_DRIVERS:%=$(BUILD)/fuzz_%): $(FUZZ_API_FIXTURE)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SUP_OBJ) $(wildcard tests/fuzz/*.h) $(FUZZ_SUP_SRC:.c=.h) $(LIB)
	$(CC) $(CPPFLAGS) -Itests/support $(ALL_CFLAGS) $(TEST_WARN) -fsanitize=fuzzer $(PKG_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(filter %.o,$^) $(LIB) $(PKG_LIBS) -lm

# bench: the redirect benchmark against nginx and a bare libmicrohttpd 302
# (bench/run.sh; knobs N, ROUNDS, DURATION, THREADS). By hand only, never
# part of check: it needs 2 CPUs, nginx, h2load and wrk.
bench:
	BUILD=$(BUILD) bash bench/run.sh

# format: lay out every C file as .clang-format says; format-check (in
# .ci/run) fails, listing them, when one is not.
FORMAT_FILES = $(wildcard src/*.c include/*.h tests/*/*.c tests/*/*.h)

format:
	clang-format -i $(FORMAT_FILES)

format-check: deps
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/*/*.d)

# Keep generated runners and migrations between builds.
.SECONDARY:
