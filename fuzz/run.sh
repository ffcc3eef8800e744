#!/usr/bin/env bash
# Fuzzes one Floodgate component with AFL++ (Debian's afl++) and SharpFuzz for a fixed budget:
#   fuzz/run.sh TARGET SECONDS      TARGET: policy, smtp, data, config
# Installs what is missing (afl++ from Debian, the sharpfuzz instrumenter from NuGet), builds and instruments
# floodgate.dll in fuzz/.out/, runs afl-fuzz from fuzz/corpus/TARGET, then keeps what it found in the repository:
# new corpus entries in fuzz/corpus/TARGET/ and every crash or hang in fuzz/crashes/TARGET/ (both are fed to the
# components by tests/Floodgate.Tests/Fuzz/FuzzRegressionTests.cs on every ./test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-}
seconds=${2:-60}
case "$target" in
    policy|smtp|data|config) ;;
    *) echo "usage: fuzz/run.sh policy|smtp|data|config SECONDS" >&2; exit 2 ;;
esac

if ! command -v afl-fuzz >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "fuzz/run.sh: needs Debian's afl++; run as root or: apt-get install afl++" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q afl++ || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q afl++; }
fi

tools=fuzz/.out/tools
if [ ! -x "$tools/sharpfuzz" ]; then
    dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools"
fi

bin=fuzz/.out/bin
rm -rf "$bin"
dotnet build fuzz/Floodgate.Fuzz -c Release -o "$bin" -v quiet -nologo
"$tools/sharpfuzz" "$bin/floodgate.dll"

findings=fuzz/.out/$target
dotnet=$(readlink -f "$(command -v dotnet)")
rm -rf "$findings"
# dotnet is not an AFL-instrumented binary (the managed code is); the two shared cores may all be busy.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
nice -n 10 afl-fuzz -i "fuzz/corpus/$target" -o "$findings" -t 5000 -m none -V "$seconds" -- "$dotnet" "$bin/Floodgate.Fuzz.dll" "$target" || true

# Keep each input once, named by its content, so runs add to the corpus without duplicates.
keep() {
    local from=$1 to=$2 prefix=$3
    mkdir -p "$to"
    for file in "$from"/id:*; do
        [ -f "$file" ] || continue
        local name
        name="$to/$prefix$(sha1sum "$file" | cut -c1-16)"
        # afl-fuzz links the seeds it started from into its queue: those are kept already.
        [ -e "$name" ] || cp "$file" "$name"
    done
}
keep "$findings/default/queue" "fuzz/corpus/$target" ""

# Minimise: of all kept inputs, only those needed to reach every path seen (afl-cmin); the seeds stay.
minimal=fuzz/.out/$target-cmin
rm -rf "$minimal"
if nice -n 10 afl-cmin -i "fuzz/corpus/$target" -o "$minimal" -t 5000 -m none -- "$dotnet" "$bin/Floodgate.Fuzz.dll" "$target" >/dev/null 2>&1 \
    && [ -n "$(ls -A "$minimal")" ]; then
    find "fuzz/corpus/$target" -type f ! -name 'seed-*' -delete
    cp -n "$minimal"/* "fuzz/corpus/$target/"
fi
keep "$findings/default/crashes" "fuzz/crashes/$target" "crash-"
keep "$findings/default/hangs" "fuzz/crashes/$target" "hang-"
grep -E "execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs" "$findings/default/fuzzer_stats" || true
crashes=$(find "fuzz/crashes/$target" -type f 2>/dev/null | wc -l)
echo "fuzz/run.sh: $target: $(find "fuzz/corpus/$target" -type f | wc -l) corpus inputs, $crashes crashes and hangs kept in fuzz/crashes/$target/"
if [ "$crashes" -gt 0 ]; then
    echo "reproduce (uninstrumented): dotnet run -c Release --project fuzz/Floodgate.Fuzz -- $target fuzz/crashes/$target/*"
fi
