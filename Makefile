# Drover — the two commands of the README are `make run` and `make test`.
GO        ?= go
BIN       := bin/drover
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/drover/drover/internal/version.Build=$(VERSION)
export CGO_ENABLED = 0
RACE_PKGS := ./internal/guard/ ./internal/process/ ./internal/logs/ ./internal/events/ \
	./internal/eventlistener/ ./internal/supervisor/ ./internal/rpc/ ./internal/web/

.PHONY: build run test fuzz conformance bench deb clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/drover
	ln -sf drover bin/supervisord
	ln -sf drover bin/supervisorctl

# Runs the daemon in the foreground on the example config (Ctrl-C stops it).
run: build
	$(BIN) daemon -n -c examples/supervisord.conf

# Installs what the tests need (idempotent), then runs every test; then the
# concurrent packages again under the race detector, which needs cgo for
# that step only (the release build stays static); -short bounds it.
test: build
	sh scripts/install-test-deps.sh
	$(GO) vet ./...
	@test -z "$$(gofmt -l cmd internal tools tests packaging)" || { echo "gofmt needed:"; gofmt -l cmd internal tools tests packaging; exit 1; }
	$(GO) test -count=1 -timeout 25m ./...
	CGO_ENABLED=1 $(GO) test -race -short -count=1 -timeout 10m $(RACE_PKGS)
	$(MAKE) fuzz

# Short runs of the fuzz targets of the parsers that read untrusted bytes
# (docs/robustness.md); FUZZTIME=10m for a real search. The default is a
# count, not a duration: Go 1.26's coordinator can fail a duration run with
# "context deadline exceeded" and no crasher when the deadline meets a busy
# worker (golang/go#75804, fixed in 1.27); a count has no deadline to race.
FUZZ_TARGETS := config:FuzzINI config:FuzzExpand config:FuzzEnvironment xmlrpc:FuzzDecodeCall rpc:FuzzHandler eventlistener:FuzzProtocol xmlrpc:FuzzScanResponse xmlrpc:FuzzDecodeStructArray \
	pool:FuzzJobLines fleet:FuzzOpenCommand ctl:FuzzFleetStatus \
	handover:FuzzReadState
FUZZTIME     ?= 100000x
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $$t for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$${t#*:}\$$" -fuzztime=$(FUZZTIME) ./internal/$${t%%:*}/ || exit 1; \
	done

# A long random run of the differential tester against Debian's Supervisor
# (docs/conformance.md); the seed is printed, CONFORMANCE_SEED=n repeats it.
CONFORMANCE_CASES    ?= 500
CONFORMANCE_PARALLEL ?= 4
conformance: build
	sh scripts/install-test-deps.sh
	@seed=$${CONFORMANCE_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "CONFORMANCE_SEED=$$seed CONFORMANCE_CASES=$(CONFORMANCE_CASES)"; \
	CONFORMANCE_SEED=$$seed CONFORMANCE_CASES=$(CONFORMANCE_CASES) CONFORMANCE_BUDGET=0 CONFORMANCE_DROVER=$(CURDIR)/$(BIN) \
		$(GO) test -v -count=1 -timeout 0 -parallel $(CONFORMANCE_PARALLEL) -run TestConformance ./tests/conformance/

bench: build
	$(GO) run ./tools/bench --drover $(BIN) $(BENCHFLAGS)

deb: build
	sh packaging/build-deb.sh $(BIN) $(VERSION) dist

clean:
	rm -rf bin dist
