#!/usr/bin/env bash
# Builds the Debian package floodgate_VERSION_amd64.deb from a self-contained, single-file `dotnet publish` (the mail
# server needs no .NET runtime), with Debian's dpkg-deb.
#   deploy/debian/build-deb.sh [OUTPUT_DIR]      (default: artifacts/deb; prints the .deb's path as its last line)
# Needs the .NET SDK, and dpkg-deb and gzip (installed with apt-get when missing and run as root).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$(mkdir -p "${1:-$repo/artifacts/deb}" && cd "${1:-$repo/artifacts/deb}" && pwd)

if ! command -v dpkg-deb >/dev/null 2>&1 || ! command -v strip >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "build-deb.sh: dpkg-deb and strip are required: apt-get install dpkg-dev" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q dpkg-dev >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Its own artifacts path, so the publish shares no obj/ or bin/ with the repository's ordinary builds.
echo "== dotnet publish (self-contained, single file, linux-x64)" >&2
dotnet publish "$repo/src/Floodgate" -c Release -r linux-x64 --self-contained true -p:PublishSingleFile=true \
    -p:DebugType=none --artifacts-path "$work/build" -o "$work/publish" >&2
bin="$work/publish/floodgate"
version=$("$bin" --version | sed 's/+.*//')
case "$version" in
    [0-9]*.[0-9]*) ;;
    *) echo "build-deb.sh: floodgate --version printed '$version', not a version" >&2; exit 1 ;;
esac

root="$work/root"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/lib/floodgate" "$root/etc/floodgate" "$root/lib/systemd/system" \
    "$root/usr/share/man/man8" "$root/usr/share/bash-completion/completions" "$root/usr/share/doc/floodgate" \
    "$root/usr/share/lintian/overrides"
# The bundle finds libe_sqlite3.so beside its real path, so the executable lives in /usr/lib/floodgate.
install -m 0755 "$bin" "$root/usr/lib/floodgate/floodgate"
install -m 0644 "$work/publish/libe_sqlite3.so" "$root/usr/lib/floodgate/libe_sqlite3.so"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/lib/floodgate/libe_sqlite3.so"
ln -s ../lib/floodgate/floodgate "$root/usr/bin/floodgate"

# The embedded default, commented, with the state in /var/lib/floodgate and the policy socket in the unit's
# RuntimeDirectory. Every replacement must apply: a changed default fails the build instead of shipping stale paths.
"$bin" default-config > "$work/floodgate.yml"
replace() {
    grep -qF -- "$1" "$work/floodgate.yml" || { echo "build-deb.sh: the embedded default no longer contains: $1" >&2; exit 1; }
    sed -i "s|$1|$2|" "$work/floodgate.yml"
}
replace '"unix:./data/policy.sock"' '"unix:/run/floodgate/policy.sock"'
replace 'data_dir: ./data' 'data_dir: /var/lib/floodgate'
replace "# \`floodgate serve\` runs with exactly this when no --config is given; copy it to start your own." \
    "# Installed by the floodgate package as /etc/floodgate/floodgate.yml; after a change: systemctl reload floodgate (mode), else restart."
install -m 0644 "$work/floodgate.yml" "$root/etc/floodgate/floodgate.yml"
install -m 0644 "$repo/deploy/systemd/floodgate.service" "$root/lib/systemd/system/floodgate.service"

"$bin" man > "$work/floodgate.8"
gzip -9n -c "$work/floodgate.8" > "$root/usr/share/man/man8/floodgate.8.gz"
chmod 0644 "$root/usr/share/man/man8/floodgate.8.gz"
"$bin" completion bash > "$root/usr/share/bash-completion/completions/floodgate"
chmod 0644 "$root/usr/share/bash-completion/completions/floodgate"

install -m 0644 "$here/copyright" "$root/usr/share/doc/floodgate/copyright"
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
date=$(git -C "$repo" log -1 --format=%aD 2>/dev/null || date -R)
printf 'floodgate (%s) unstable; urgency=medium\n\n  * Built from the Floodgate repository at commit %s.\n\n -- Floodgate maintainers <floodgate@users.noreply.github.com>  %s\n' \
    "$version" "$commit" "$date" | gzip -9n > "$root/usr/share/doc/floodgate/changelog.gz"
chmod 0644 "$root/usr/share/doc/floodgate/changelog.gz"
install -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/floodgate"

install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$root/DEBIAN/"
echo /etc/floodgate/floodgate.yml > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" "$here/control" > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

deb="$out/floodgate_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
echo "$deb"
