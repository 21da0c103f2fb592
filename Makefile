# Drover — the two commands of the README are `make run` and `make test`.
GO        ?= go
BIN       := bin/drover
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/drover/drover/internal/version.Build=$(VERSION)
export CGO_ENABLED = 0

.PHONY: build run test fuzz bench deb clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/drover
	ln -sf drover bin/supervisord
	ln -sf drover bin/supervisorctl

# Runs the daemon in the foreground on the example config (Ctrl-C stops it).
run: build
	$(BIN) daemon -n -c examples/supervisord.conf

# Installs what the tests need (idempotent), then runs every test.
test: build
	sh scripts/install-test-deps.sh
	$(GO) vet ./...
	@test -z "$$(gofmt -l cmd internal tools tests packaging)" || { echo "gofmt needed:"; gofmt -l cmd internal tools tests packaging; exit 1; }
	$(GO) test -count=1 -timeout 25m ./...
	$(MAKE) fuzz

# Short runs of the fuzz targets of the parsers that read untrusted bytes
# (docs/robustness.md); FUZZTIME=10m for a real search.
FUZZ_TARGETS := config:FuzzINI config:FuzzExpand config:FuzzEnvironment xmlrpc:FuzzDecodeCall rpc:FuzzHandler eventlistener:FuzzProtocol
FUZZTIME     ?= 10s
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $$t for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$${t#*:}\$$" -fuzztime=$(FUZZTIME) ./internal/$${t%%:*}/ || exit 1; \
	done

bench: build
	$(GO) run ./tools/bench --drover $(BIN) $(BENCHFLAGS)

deb: build
	sh packaging/build-deb.sh $(BIN) $(VERSION) dist

clean:
	rm -rf bin dist
