#!/usr/bin/env bash
# The Debian package, end to end (issue #16, "Packaging"; docs/packaging.md): builds it with
# build-deb.sh, installs it with dpkg -i on this machine, checks what it installed (binary,
# mssd user, owner-only /var/lib/mssd, conffile, man page, a unit `systemd-analyze verify`
# accepts, `mssd --version` and `mssd doctor` from /usr/sbin), starts `mssd serve` on the
# privileged ports under the unit's restrictions as far as they hold without systemd
# (unit-sandbox.sh), then purges the package. Root only: skipped (exit 0) otherwise.
# Refuses to run where mssd is installed or /var/lib/mssd holds anything: it would be purged.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

if [[ $(id -u) -ne 0 ]]; then
  echo "test-deb.sh: skipped: installing the package (dpkg -i, a system user) needs root"
  exit 0
fi

fail() {
  echo "test-deb.sh: FAIL: $*" >&2
  exit 1
}
step() { echo "test-deb.sh: $*"; }

if dpkg-query -W -f='${Status}' mssd 2>/dev/null | grep -q ' installed$'; then
  fail "mssd is already installed here; this test would purge it (dpkg --purge mssd first)"
fi
if [[ -d /var/lib/mssd ]] && [[ -n $(ls -A /var/lib/mssd) ]]; then
  fail "/var/lib/mssd holds data; this test would delete it (move it away first)"
fi

# Commands the checks run, and their Debian packages.
declare -A needs=([systemd-analyze]=systemd [man]=man-db [setpriv]=util-linux [unshare]=util-linux)
missing=()
for cmd in "${!needs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${needs[$cmd]}")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi

user_existed=false
getent passwd mssd >/dev/null && user_existed=true
work=$(mktemp -d)
serve_pid=
installed=false
cleanup() {
  local status=$?
  [[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  if $installed; then
    dpkg --purge mssd >"$work/purge.log" 2>&1 || cat "$work/purge.log" >&2
  fi
  # What the package leaves on purge by design: the store this test made, the user.
  rm -rf /var/lib/mssd
  if ! $user_existed && getent passwd mssd >/dev/null; then
    userdel mssd
    getent group mssd >/dev/null && groupdel mssd
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

started=$SECONDS
step "building the package (packaging/build-deb.sh)"
deb=$(packaging/build-deb.sh | tail -n 1)
[[ -f $deb ]] || fail "build-deb.sh printed no .deb path (got: $deb)"
step "built $deb ($(du -h "$deb" | cut -f1)) in $((SECONDS - started)) s"

step "dpkg -i"
dpkg -i "$deb" >"$work/install.log" 2>&1 || {
  cat "$work/install.log" >&2
  fail "dpkg -i $deb"
}
installed=true

# --- what the package installed ---------------------------------------------------------
[[ -x /usr/sbin/mssd ]] || fail "/usr/sbin/mssd is missing or not executable"
version=$(/usr/sbin/mssd --version) || fail "/usr/sbin/mssd --version exited $?"
package_version=$(dpkg-query -W -f='${Version}' mssd)
[[ $version == "mssd ${package_version%-*}" ]] ||
  fail "mssd --version says '$version', the package is $package_version"
step "ok: $version from /usr/sbin/mssd"

id mssd >/dev/null 2>&1 || fail "no mssd user"
[[ $(getent passwd mssd | cut -d: -f7) == /usr/sbin/nologin ]] || fail "the mssd user has a login shell"
[[ $(stat -c '%a %U %G' /var/lib/mssd) == "700 mssd mssd" ]] ||
  fail "/var/lib/mssd is $(stat -c '%a %U %G' /var/lib/mssd), not 700 mssd mssd"
step "ok: $(id mssd); /var/lib/mssd 700 mssd:mssd"

dpkg-query -W -f='${Conffiles}\n' mssd | grep -q '^ /etc/mssd/mssd.toml ' ||
  fail "/etc/mssd/mssd.toml is not a conffile: $(dpkg-query -W -f='${Conffiles}' mssd)"
[[ $(stat -c '%a %U %G' /etc/mssd/mssd.toml) == "640 root mssd" ]] ||
  fail "/etc/mssd/mssd.toml is $(stat -c '%a %U %G' /etc/mssd/mssd.toml), not 640 root mssd"
step "ok: /etc/mssd/mssd.toml is a conffile, 640 root:mssd"

page=/usr/share/man/man8/mssd.8.gz
[[ -f $page ]] || fail "no man page $page"
zcat "$page" | grep -q '^\.TH mssd 8' || fail "$page is not a section 8 page of mssd"
MANWIDTH=80 man -l "$page" 2>&1 | grep -q 'mssd-serve(8)' || fail "man -l $page does not render"
man -w mssd-doctor >/dev/null 2>&1 || fail "man does not find mssd-doctor(8)"
step "ok: man pages ($(dpkg -L mssd | grep -c '/man8/.*\.8\.gz$') in man8)"

unit=$(dpkg -L mssd | grep '/systemd/system/mssd\.service$') || fail "no mssd.service installed"
systemd-analyze verify "$unit" >"$work/verify.log" 2>&1 || {
  cat "$work/verify.log" >&2
  fail "systemd-analyze verify $unit"
}
# Warnings would be printed even when it exits 0: the unit must have none.
[[ ! -s $work/verify.log ]] || {
  cat "$work/verify.log" >&2
  fail "systemd-analyze verify $unit warned"
}
step "ok: systemd-analyze verify $unit"
exposure=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -n 1) || true
step "info: systemd-analyze security: ${exposure#→ }"

as_mssd() { setpriv --reuid=mssd --regid=mssd --init-groups -- "$@"; }

# doctor on the packaged configuration: it must read it and report. On a fresh install it
# finds no certificate and no store yet (the operator puts them there): exit status 1, the
# failures listed. 2 would be an unreadable configuration.
set +e
as_mssd /usr/sbin/mssd doctor --config /etc/mssd/mssd.toml >"$work/doctor.log" 2>&1
status=$?
set -e
grep -q '^mssd doctor' "$work/doctor.log" && grep -q 'config: /etc/mssd/mssd.toml' "$work/doctor.log" ||
  { cat "$work/doctor.log" >&2; fail "mssd doctor printed no report on /etc/mssd/mssd.toml"; }
[[ $status -eq 1 ]] && grep -q 'FAIL  pki' "$work/doctor.log" ||
  { cat "$work/doctor.log" >&2; fail "mssd doctor on the fresh configuration exited $status (expected 1: no certificate yet)"; }
[[ -z $(ls -A /var/lib/mssd) ]] || fail "mssd doctor created files in /var/lib/mssd"
step "ok: mssd doctor --config /etc/mssd/mssd.toml reports, exit status 1 (no certificate, no store yet)"

# --- serve, as the unit runs it ---------------------------------------------------------
# A test PKI and a copy of the packaged configuration for its domain, on loopback but on
# the standard (privileged) ports: only CAP_NET_BIND_SERVICE lets the mssd user bind them.
sandbox=(unshare --mount --propagation private -- "$repo/packaging/unit-sandbox.sh")
if ! unshare --mount --propagation private -- true 2>/dev/null; then
  # A container without CAP_SYS_ADMIN: user, capabilities and no-new-privs only.
  step "warn: no mount namespace here (unshare --mount refused): mssd runs as mssd with the unit's capabilities, without its read-only file system"
  sandbox=(setpriv --reuid=mssd --regid=mssd --init-groups --no-new-privs
    --inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service
    --bounding-set=-all,+net_bind_service --)
fi
sandbox() { "${sandbox[@]}" "$@"; }
domain=hopital.test.mssante.fr
sandbox /usr/sbin/mssd pki init --dir /var/lib/mssd/pki --domain "$domain" >/dev/null ||
  fail "mssd pki init as mssd in the sandbox"
config=/var/lib/mssd/test-serve.toml
sed -e "s/hopital\.example\.mssante\.fr/$domain/g" -e 's/"0\.0\.0\.0:/"127.0.0.1:/' \
  -e 's|^crls = \[\]|crls = ["pki/crl.pem"]|' -e 's|^http = .*|http = "127.0.0.1:0"|' \
  /etc/mssd/mssd.toml >"$config"
chown mssd:mssd "$config"
chmod 0600 "$config"

# unshare execs the sandbox script, which execs setpriv, which execs mssd: $! is mssd's pid.
"${sandbox[@]}" /usr/sbin/mssd serve --config "$config" >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 120); do
  grep -q '^mssd: ready' "$work/serve.log" && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.5
done
grep -q '^mssd: ready' "$work/serve.log" || {
  cat "$work/serve.log" >&2
  fail "mssd serve did not get ready as mssd under the unit's restrictions"
}
for port in 25 587 465 143 993 443; do
  grep -q "listening on 127.0.0.1:$port\$" "$work/serve.log" || {
    cat "$work/serve.log" >&2
    fail "mssd serve is not listening on 127.0.0.1:$port"
  }
done
exec 3<>/dev/tcp/127.0.0.1/25
read -r -t 10 banner <&3 || true
printf 'QUIT\r\n' >&3
exec 3<&-
[[ $banner == 220* ]] || fail "no SMTP greeting on 127.0.0.1:25 (got: $banner)"
http=$(sed -n 's/^mssd: http listening on //p' "$work/serve.log")
exec 3<>"/dev/tcp/${http%:*}/${http##*:}"
printf 'GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
health=$(timeout 10 cat <&3 | tail -n 1)
exec 3<&-
[[ $health == ok* ]] || fail "GET /healthz answered '$health'"
step "ok: mssd serve as mssd under the unit's restrictions: ports 25 587 465 143 993 443, SMTP 220, /healthz ok"

# What `systemctl reload mssd` sends (ExecReload): the configuration is reread and applied.
kill -HUP "$serve_pid"
for _ in $(seq 1 20); do
  grep -q '^mssd: \(configuration reloaded\|reload failed\)' "$work/serve.log" && break
  sleep 0.5
done
grep -q '^mssd: configuration reloaded' "$work/serve.log" || {
  cat "$work/serve.log" >&2
  fail "SIGHUP (systemctl reload) did not reload the configuration"
}
step "ok: SIGHUP reloads the configuration"

kill -TERM "$serve_pid"
set +e
wait "$serve_pid"
status=$?
set -e
serve_pid=
[[ $status -eq 0 ]] || { cat "$work/serve.log" >&2; fail "mssd serve exited $status on SIGTERM"; }

# Everything mssd wrote is owner-only: files 0600 at most, folders 0700.
loose=$(find /var/lib/mssd \( -type f -perm /077 \) -o \( -type d -perm /077 \) -o ! -user mssd)
[[ -z $loose ]] || fail "not owner-only, or not owned by mssd, in /var/lib/mssd: $loose"
as_mssd /usr/sbin/mssd doctor --config "$config" >"$work/doctor.log" 2>&1 ||
  { cat "$work/doctor.log" >&2; fail "mssd doctor on the served store found a failure"; }
step "ok: stopped on SIGTERM; the store is owner-only; mssd doctor on it: healthy (exit 0)"

# --- purge ------------------------------------------------------------------------------
dpkg --purge mssd >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "dpkg --purge mssd"; }
installed=false
[[ ! -e /usr/sbin/mssd && ! -e /etc/mssd && ! -e $unit ]] || fail "dpkg --purge left files behind"
grep -q 'kept /var/lib/mssd' "$work/purge.log" && [[ -d /var/lib/mssd/pki ]] ||
  fail "dpkg --purge did not keep the store with a notice"
step "ok: purged (the store was kept, as designed; removed by this test)"
step "passed in $((SECONDS - started)) s"
