# cairn — build, run, test, bench, fuzz.
#
#   make run             install what is missing, build, init a demo store, serve
#   make test            the same set-up, then every test suite
#   make test SANITIZE=1 the same under ASan + UBSan
#   make bench           benchmark table, cairn beside its peers
#   make fuzz            short libFuzzer runs over every parser

CC       ?= cc
SANITIZE ?=
DATA     ?= ./cairn-data
LISTEN   ?= 127.0.0.1:8080

ifeq ($(SANITIZE),1)
# leaks inside libraries, listed with their reason (tests/lsan.supp); the
# unit tests unwind malloc stacks fully so a suppression can see the
# library frame (libcrypto has no frame pointers)
export LSAN_OPTIONS := suppressions=$(abspath tests/lsan.supp):print_suppressions=0
UNIT_ENV := ASAN_OPTIONS=fast_unwind_on_malloc=0
BUILD    := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      := -O1 -g
else
BUILD    := build
SANFLAGS :=
OPT      := -O2 -g
endif

PKGS     := libmicrohttpd jansson sqlite3 libsodium zlib icu-uc icu-i18n libcurl \
            gmime-3.0 gumbo opendkim openssl
CPPFLAGS := -Isrc -D_GNU_SOURCE
CFLAGS   := -std=c11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -pthread $(OPT) $(SANFLAGS) \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread
LDFLAGS  := $(SANFLAGS)

SRCS     := $(sort $(shell find src -name '*.c' ! -name main.c))
OBJS     := $(SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/build/gen/web_assets.o
UNIT_SRCS:= $(sort $(wildcard tests/unit/*_test.c))
UNIT_OBJS:= $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o)
CAIRN    := $(BUILD)/cairn

.PHONY: all run test unit e2e conformance web-test browser bench fuzz deps clean format valgrind
all: $(CAIRN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libcairn.a: $(OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(CAIRN): $(BUILD)/obj/src/main.o $(BUILD)/libcairn.a
	@scripts/check-banned.sh
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_OBJS) $(BUILD)/libcairn.a
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion -lz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- the web app: built by Vite, embedded in the binary ---------------------
WEB_SRCS := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@echo "  NPM     web/"
	@cd web && npm ci --no-audit --no-fund --loglevel=error
web/dist/index.html: $(WEB_SRCS) web/node_modules/.package-lock.json
	@echo "  VITE    web/dist"
	@cd web && npx tsc --noEmit && npx vite build --logLevel warn
build/gen/web_assets.c: web/dist/index.html scripts/embed-web.py
	@mkdir -p build/gen
	@echo "  EMBED   $@"
	@python3 scripts/embed-web.py web/dist $@

# ---- set-up: Debian and npm packages, installed only when missing ----------
APT_PKGS := build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev \
            libcriterion-dev libsodium-dev zlib1g-dev libicu-dev libcurl4-openssl-dev \
            clang wrk sqlite3 jq python3 valgrind \
            libgmime-3.0-dev libgumbo-dev libopendkim-dev libssl-dev python3-dkim python3-aiosmtpd \
            postfix chromium fonts-nanum
deps: .deps-stamp
.deps-stamp: Makefile package.json web/package.json web/package-lock.json
	@missing=$$(for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		echo "postfix postfix/main_mailer_type select No configuration" | $$SUDO debconf-set-selections; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@# node and npm may come from Debian or from NodeSource (which bundles npm): check the commands
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm; \
	fi
	@if [ ! -d node_modules ] || [ package.json -nt node_modules ]; then \
		echo "installing npm packages"; npm install --no-audit --no-fund --loglevel=error && touch node_modules; \
	fi
	@if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then \
		echo "installing the web app's npm packages"; cd web && npm ci --no-audit --no-fund --loglevel=error; \
	fi
	@touch $@

# ---- run ------------------------------------------------------------------
run: deps $(CAIRN)
	@if [ ! -f $(DATA)/credentials.json ]; then \
		mkdir -p $(DATA) && $(CAIRN) init --demo --data $(DATA) --listen $(LISTEN) > $(DATA)/credentials.json.tmp \
		&& mv $(DATA)/credentials.json.tmp $(DATA)/credentials.json; \
	fi
	@echo; echo "cairn is starting with the demo workspace in $(DATA) (credentials in $(DATA)/credentials.json):"
	@jq -r '"  web app:     http://$(LISTEN)/  (log in as \(.owner_email) / \(.owner_password))\n  URL:         http://$(LISTEN)\n  write key:   \(.write_key)   (Tracking API, HTTP Basic user name)\n  secret key:  \(.secret_key)   (management API, Authorization: Bearer)"' $(DATA)/credentials.json
	@echo "  try:         curl -u \"$$(jq -r .write_key $(DATA)/credentials.json):\" http://$(LISTEN)/v1/track -d '{\"userId\":\"u1\",\"event\":\"Signed Up\"}'"; echo
	@exec $(CAIRN) serve --data $(DATA) --listen $(LISTEN)

# ---- tests ----------------------------------------------------------------
test: deps $(CAIRN) $(BUILD)/unit_tests
	@$(MAKE) --no-print-directory unit e2e conformance web-test browser

unit: $(BUILD)/unit_tests
	@echo "== unit tests (Criterion)"
	$(UNIT_ENV) $(BUILD)/unit_tests --jobs 2

e2e: $(CAIRN)
	@echo "== end-to-end tests (node:test against $(CAIRN))"
	CAIRN_BIN=$(abspath $(CAIRN)) node --test --test-concurrency=1 tests/e2e/

# the web app's component tests (Vitest, jsdom)
web-test: web/node_modules/.package-lock.json
	@echo "== web app component tests (Vitest)"
	cd web && npx vitest run

# the web app in Debian's Chromium (playwright-core) against the real binary;
# screenshots of each main screen in build/artifacts/screenshots
browser: $(CAIRN)
	@echo "== browser tests (playwright-core + /usr/bin/chromium against $(CAIRN))"
	CAIRN_BIN=$(abspath $(CAIRN)) ARTIFACTS=$(abspath build/artifacts) node --test --test-concurrency=1 tests/browser/

conformance: $(CAIRN)
	@echo "== Liquid conformance (Shopify Liquid's own cases, ../shared/conformance/liquid)"
	@python3 tests/conformance/filter_suite.py ../shared/conformance/liquid/shopify_cases.json \
		tests/conformance/liquid-skip.json $(BUILD)/liquid_cases.json
	@python3 ../shared/conformance/liquid/run_cases.py --suite $(BUILD)/liquid_cases.json -j 2 -v -- \
		$(CAIRN) template render > $(BUILD)/conformance.txt; \
		rc=$$?; grep -E "^  FAIL |^[0-9]+ passed, [0-9]+ failed|^pass rate" $(BUILD)/conformance.txt; exit $$rc

# valgrind over the unit tests (each test in its own process) and one server run
valgrind: $(BUILD)/unit_tests
	valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 \
		--suppressions=tests/valgrind.supp --num-callers=40 --trace-children-skip='*python*' \
		--trace-children=yes $(BUILD)/unit_tests --jobs 1

# ---- bench ----------------------------------------------------------------
bench: deps $(CAIRN)
	CAIRN_BIN=$(abspath $(CAIRN)) node bench/run.mjs

# ---- fuzz -----------------------------------------------------------------
FUZZ_SRCS := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 20
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -D_GNU_SOURCE \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
build/fuzz/%: tests/fuzz/%.c $(SRCS) build/gen/web_assets.c
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(SRCS) build/gen/web_assets.c $(LDLIBS)
fuzz: deps $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); echo "== fuzz $$n ($(FUZZ_SECONDS)s)"; \
		mkdir -p build/fuzz/corpus-$$n; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=5 build/fuzz/corpus-$$n tests/fuzz/corpus/$$n \
			> build/fuzz/$$n.log 2>&1; rc=$$?; tail -2 build/fuzz/$$n.log; \
		if [ $$rc -ne 0 ]; then echo "fuzz $$n failed (exit $$rc); see build/fuzz/$$n.log"; exit 1; fi; \
	done

format:
	clang-format -i $$(find src tests -name '*.[ch]')

clean:
	rm -rf build
