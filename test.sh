#!/usr/bin/env bash
# Runs the whole mssd test suite: formatting, lints, unit, integration and end-to-end tests.
# Installs the system packages the tests need when they are missing (Debian, as root).
set -euo pipefail
cd "$(dirname "$0")"

# Commands the tests run, and the Debian package that provides each.
# slapd and ldapmodify: the LDAP sync tests start a real OpenLDAP server (annuaire-sync).
# chromium and chromedriver: the web mailbox tests drive a real browser; npm fetches axe-core.
# openssl: the OCSP tests start a real responder (`openssl ocsp`); libssl-dev: mssd-ocsp links libssl.
declare -A needs=([cc]=gcc [pkg-config]=pkg-config [python3]=python3 [slapd]=slapd [ldapmodify]=ldap-utils
  [chromium]=chromium [chromedriver]=chromium-driver [npm]=npm [openssl]=openssl)
missing=()
for cmd in "${!needs[@]}"; do
  # slapd lives in /usr/sbin, often not on a non-root PATH.
  command -v "$cmd" >/dev/null 2>&1 || [[ -x /usr/sbin/$cmd ]] || missing+=("${needs[$cmd]}")
done
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
# postgresql: the store's PostgreSQL tests start a throwaway cluster (initdb and pg_ctl live in
# /usr/lib/postgresql/<version>/bin, off the PATH); without it they are skipped.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test.sh: missing ${missing[*]}; install them (apt-get install -y ${missing[*]}) and run again" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi

# Python modules of the web tests: selenium drives chromium; openapi-spec-validator (and
# its jsonschema) checks the API against its OpenAPI document.
if ! python3 -c 'import selenium, openapi_spec_validator, jsonschema' 2>/dev/null; then
  python3 -m pip install --quiet selenium openapi-spec-validator 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages selenium openapi-spec-validator
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

# The Debian package: built with cargo-deb, installed with dpkg -i, its unit checked by
# systemd-analyze, mssd run from /usr/sbin in the unit's sandbox, then purged (root only).
packaging/test-deb.sh

# Fuzzing smoke run: every fuzz target for 20 s (fuzz/run.sh long runs them for hours).
./fuzz/run.sh smoke
