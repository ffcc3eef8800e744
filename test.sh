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

# The end-to-end tests start private Postfix instances (Debian's postfix, Cyrus SASL) as root; the dashboard tests
# drive Debian's headless chromium through Debian's chromedriver; the cluster tests start private redis-server
# instances on free loopback ports; the packaging test builds the .deb with dpkg-deb and checks it with lintian.
# Floodgate itself needs ICU (identities are compared in Unicode NFC); libicu-dev is the name that brings whichever
# libicuNN the release has.
packages=(postfix sasl2-bin libsasl2-modules swaks chromium chromium-driver redis-server dpkg-dev lintian libicu-dev)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "test.sh: the tests need the Debian packages ${missing[*]}; run as root or: apt-get install ${missing[*]}" >&2
        exit 1
    fi
    echo "== installing ${missing[*]} from Debian"
    # The tests run private Postfix and Redis instances: keep the packages from starting the system ones.
    policy=/usr/sbin/policy-rc.d
    made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod +x "$policy"
        made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    installed=0
    apt-get install -y -q "${missing[@]}" && installed=1
    if [ $installed -eq 0 ]; then
        apt-get update -q && apt-get install -y -q "${missing[@]}" && installed=1
    fi
    [ $made_policy -eq 1 ] && rm -f "$policy"
    if [ $installed -eq 0 ]; then
        echo "test.sh: could not install ${missing[*]} from Debian" >&2
        exit 1
    fi
fi

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
echo "dashboard screenshots: ${FLOODGATE_TEST_OUTPUT:-$PWD/artifacts/test-output}/screenshots/"
echo "$passed passed, $failed failed, $((total - executed)) skipped"
exit "$status"
