#!/usr/bin/env bash
# Builds the Debian package of mssd (docs/packaging.md): the release binary, the man pages
# generated from its command line (`mssd manpage`, gzip -9n), then `cargo deb` on what was
# built. Prints the path of the .deb on its last line. Installs cargo-deb when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked --quiet

cargo build --release --locked -p mssd

# The target directory as cargo sees it (CARGO_TARGET_DIR, .cargo/config.toml), since the
# package's assets are looked up there.
target=$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

rm -rf "$target/release/man"
"$target/release/mssd" manpage "$target/release/man" >/dev/null
# -n: no name or timestamp inside, so the same pages give the same bytes.
gzip -9n "$target"/release/man/*.8

# A reproducible package: file dates from the last commit when there is one.
if [[ -z ${SOURCE_DATE_EPOCH:-} ]] && epoch=$(git log -1 --format=%ct 2>/dev/null); then
  export SOURCE_DATE_EPOCH=$epoch
fi

# --strip: the release profile keeps line tables (backtraces in development); the packaged
# binary goes from about 150 MB to a fraction of it without them.
deb=$(cargo deb -p mssd --no-build --locked --strip --quiet)
echo "$deb"
