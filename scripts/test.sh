#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script).
# Needs Go 1.26; installs its other dependencies (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "== gofmt, go vet, pure-Go build"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
CGO_ENABLED=0 go build ./...
CGO_ENABLED=0 GOARCH=arm64 go vet ./...

echo "== tests (every kernel the CPU has is tested inside internal/gemm)"
go test -timeout 40m ./...

echo "== ONNX backend conformance, per operator"
go test -count=1 -run '^TestONNXConformance$' -v ./graph | grep -E ' passed, '

echo "== tests under the race detector (-short skips the largest model runs)"
go test -race -short -timeout 30m ./...

echo "== the engine as an AVX2 machine runs it (GODEBUG=cpu.avx512f=off)"
# On an AVX-512 machine the tests above run the avx2 GEMM kernel only where
# they ask for every kernel (all of internal/gemm's do); with AVX-512
# hidden it is the default that convolutions, plans and dreams choose.
# Elsewhere the runs above were that already.
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  GODEBUG=cpu.avx512f=off go test -count=1 ./ops ./graph
  GODEBUG=cpu.avx512f=off go test -count=1 -run '^(TestWinogradRequest|TestNotebookStep)$' ./dream
else
  echo "no AVX-512 here: the runs above were on the AVX2 path"
fi

echo "== the engine on the pure-Go kernel (-tags purego)"
go test -tags purego -short -timeout 30m ./internal/gemm ./ops ./graph

echo "== fuzzing the parsers briefly"
# Budgets count executions (about 10-20 s each here), not seconds: with a
# duration, Go 1.26's fuzz coordinator can fail a target with a bare
# "context deadline exceeded" when a loaded machine delays a worker at the
# deadline (golang/go#75804, fixed in Go 1.27).
go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 600000x ./onnx
go test -run '^$' -fuzz '^FuzzDecodeTensor$' -fuzztime 300000x ./onnx
go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 400000x ./internal/npy
go test -run '^$' -fuzz '^FuzzDecodeField$' -fuzztime 200000x ./flow
go test -run '^$' -fuzz '^FuzzParseRate$' -fuzztime 50000x ./video
go test -run '^$' -fuzz '^FuzzParseProbe$' -fuzztime 50000x ./video
go test -run '^$' -fuzz '^FuzzGIFComment$' -fuzztime 50000x ./video
go test -run '^$' -fuzz '^FuzzParseTime$' -fuzztime 20000x ./motion
go test -run '^$' -fuzz '^FuzzOptions$' -fuzztime 20000x ./motion
go test -run '^$' -fuzz '^FuzzCarry$' -fuzztime 100000x ./imageio
go test -run '^$' -fuzz '^FuzzUprightEXIF$' -fuzztime 200000x ./imageio
go test -run '^$' -fuzz '^FuzzRecord$' -fuzztime 10000x ./dream
go test -run '^$' -fuzz '^FuzzDreamFrom$' -fuzztime 3000x ./cmd/deepdream
go test -run '^$' -fuzz '^FuzzUpload$' -fuzztime 200000x ./server
go test -run '^$' -fuzz '^FuzzDecodeTask$' -fuzztime 20000x ./queue
go test -run '^$' -fuzz '^FuzzParseEntry$' -fuzztime 20000x ./server

echo "== the machine the tests ran on (which GEMM kernels they covered)"
go run ./cmd/deepdream version

echo "all checks passed"
