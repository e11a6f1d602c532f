# gpuprice: common tasks. `make test` is the README's test command.
GO      ?= go
PKG     := github.com/gpuprice/gpuprice
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REV     ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w \
	-X github.com/prometheus/common/version.Version=$(VERSION) \
	-X github.com/prometheus/common/version.Revision=$(REV) \
	-X github.com/prometheus/common/version.Branch=$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null) \
	-X github.com/prometheus/common/version.BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

# The provider packages that run the collector contract suite (its
# recorded.golden files).
CONTRACT := $(addprefix ./,$(sort $(dir $(shell grep -l 'collectortest\.Run' collectors/*/*_test.go))))

.PHONY: all build test lint bench bench-scale update-golden clean

all: lint test build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o gpuprice ./cmd/gpuprice

test:
	$(GO) test -race ./...
	cd deploy/helm && $(GO) test ./...

lint:
	@test -z "$$(gofmt -l .)" || (echo "gofmt would change:"; gofmt -l .; exit 1)
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./exporter/ ./store/... ./collectors/...

# The daemon against full-scale fakes (README, Benchmarks): refresh and
# scrape times and peak RSS, then every provider answering too large at once.
bench-scale: build
	./gpuprice bench-scale
	./gpuprice bench-scale --bench.huge

update-golden:
	$(GO) test ./exporter/ -run TestGoldenMetrics -update
	$(GO) test $(CONTRACT) -run 'TestContract$$/recorded' -update

clean:
	rm -rf gpuprice data data-demo
