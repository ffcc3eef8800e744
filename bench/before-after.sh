#!/usr/bin/env bash
# Runs the policy load benchmark against two builds of Floodgate alternately, in one invocation, so that the ratio
# between them is measured on the same machine under the same conditions:
#   bench/before-after.sh BASE_COMMIT [RUNS] [REQUESTS]        (NEW=commit to compare with a commit, not the working tree)
# BASE_COMMIT is built in a temporary git worktree; the other build is the working tree, or $NEW. Each build runs as its own
# `floodgate serve` process with the load benchmark's rule (account / messages / 100 per 1h / defer) and no decision
# log; the load tool checks exactness (--check) on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bench/before-after.sh BASE_COMMIT [RUNS] [REQUESTS]}
runs=${2:-3}
requests=${3:-100000}
work=$(mktemp -d)
cleanup() {
    kill "${pids[@]}" 2>/dev/null || true
    git worktree remove --force "$work/base-src" >/dev/null 2>&1 || true
    git worktree remove --force "$work/new-src" >/dev/null 2>&1 || true
    rm -rf "$work"
}
pids=()
trap cleanup EXIT

git worktree add -q --detach "$work/base-src" "$base"
dotnet publish "$work/base-src/src/Floodgate" -c Release -o "$work/base" >/dev/null
if [ -n "${NEW:-}" ]; then
    git worktree add -q --detach "$work/new-src" "$NEW"
    dotnet publish "$work/new-src/src/Floodgate" -c Release -o "$work/new" >/dev/null
else
    dotnet publish src/Floodgate -c Release -o "$work/new" >/dev/null
fi
dotnet build bench/Floodgate.Bench -c Release >/dev/null

port=21040
for build in base new; do
    port=$((port + 1))
    mkdir -p "$work/$build-data"
    cat > "$work/$build.yml" <<YAML
listen: { policy: ["127.0.0.1:$port"], admin: "127.0.0.1:0", relay: [] }
data_dir: $work/$build-data
limits:
  - { name: load, scope: account, unit: messages, max: 100, per: 1h, action: defer }
log: { decisions: none }
YAML
    "$work/$build/floodgate" serve --config "$work/$build.yml" >"$work/$build.log" 2>&1 &
    pids+=($!)
    eval "port_$build=$port"
done
# Wait for both to answer (a cold start on a busy machine takes a few seconds).
for build in base new; do
    eval "p=\$port_$build"
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
        sleep 0.2
    done
done

for run in $(seq 1 "$runs"); do
    for build in base new; do
        eval "target=127.0.0.1:\$port_$build"
        echo "== run $run, build $build ($( [ $build = base ] && echo "$base" || echo "${NEW:-working tree}"))"
        dotnet run -c Release --no-build --project bench/Floodgate.Bench -- load --target "$target" --connections 8,50 \
            --requests "$requests" --check
    done
done
