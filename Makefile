# The test command of README.md and .ci/run: formatting, vet, then every test under
# the race detector. Long simulations and soak tests are behind -long (see docs/).
GO ?= go

.PHONY: test fmt vet bench

test: fmt vet
	$(GO) test -race -count=1 -timeout 15m ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
