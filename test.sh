#!/usr/bin/env bash
# Runs Floodgate's whole test suite on a fresh Debian machine with the .NET SDK:
# checks formatting and code style, builds everything (benchmarks included) and runs every test.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
    echo "test.sh: the .NET SDK is required (dotnet was not found on PATH)" >&2
    exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "== format and style (dotnet format --verify-no-changes)"
dotnet format Floodgate.slnx --verify-no-changes

echo "== build and test"
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
dotnet test Floodgate.slnx -c Release --logger "trx;LogFileName=floodgate.trx" --results-directory "$results" || status=$?

trx="$results/floodgate.trx"
if [ ! -f "$trx" ]; then
    echo "test.sh: no test results were written (the build failed?)" >&2
    exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx")
count() { printf '%s' "$counters" | sed -E "s/.* $1=\"([0-9]+)\".*/\1/"; }
passed=$(count passed)
failed=$(count failed)
executed=$(count executed)
total=$(count total)
if [ "$executed" -eq 0 ]; then
    echo "test.sh: no test was executed" >&2
    exit 1
fi
echo "$passed passed, $failed failed, $((total - executed)) skipped"
exit "$status"
