#!/usr/bin/env bash
# Runs a command the way packaging/debian/mssd.service runs mssd, where no systemd is PID 1
# to do it (CI containers): test-deb.sh starts `mssd serve` with it to show that the unit's
# restrictions leave the server working. As root:
#
#   unshare --mount --propagation private -- packaging/unit-sandbox.sh COMMAND [ARG...]
#
# What it reproduces, and with what:
#   ProtectSystem=strict + ReadWritePaths=/var/lib/mssd  every mount read-only (bind
#                                            remount), /var/lib/mssd its own writable mount
#   ProtectKernelTunables (its /sys part)    /sys read-only, and /proc/sys
#   PrivateTmp=yes                           fresh tmpfs on /tmp and /var/tmp
#   ProtectHome=yes                          empty read-only tmpfs on /home, /root, /run/user
#   PrivateDevices=yes                       a /dev holding null, zero, full, random,
#                                            urandom and tty only
#   User=mssd Group=mssd, UMask=0077         setpriv --reuid/--regid --init-groups, umask
#   NoNewPrivileges=yes                      setpriv --no-new-privs
#   AmbientCapabilities=CAP_NET_BIND_SERVICE, CapabilityBoundingSet=CAP_NET_BIND_SERVICE
#                                            setpriv --inh-caps, --ambient-caps, --bounding-set
# What it does not (systemd alone sets them up): the seccomp filters (SystemCallFilter,
# RestrictAddressFamilies, MemoryDenyWriteExecute, LockPersonality, RestrictRealtime,
# RestrictNamespaces, RestrictSUIDSGID, SystemCallArchitectures), ProtectProc/ProcSubset,
# ProtectKernelModules/Logs, ProtectClock, ProtectHostname, PrivateIPC, LimitNOFILE.
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: unshare --mount --propagation private -- $0 COMMAND [ARG...]" >&2
  exit 2
fi
if [[ $(readlink /proc/self/ns/mnt) == $(readlink /proc/1/ns/mnt) ]]; then
  echo "unit-sandbox.sh: run it under unshare --mount: it would remount this machine read-only" >&2
  exit 2
fi

data=/var/lib/mssd

# PrivateDevices: a minimal /dev, staged in the new private /tmp, then moved over /dev.
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mkdir /tmp/.dev
mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs /tmp/.dev
for node in null zero full random urandom tty; do
  touch "/tmp/.dev/$node"
  mount --bind "/dev/$node" "/tmp/.dev/$node"
done
ln -s /proc/self/fd /tmp/.dev/fd
mkdir /tmp/.dev/shm
mount --move /tmp/.dev /dev

# ReadWritePaths: the data dir becomes a mount of its own before everything goes read-only.
mount --bind "$data" "$data"
mount --bind /proc/sys /proc/sys

# ProtectSystem=strict: every mount read-only except the data dir, /dev and /proc (whose
# /proc/sys was made a separate mount just above, and is covered here).
while read -r mnt; do
  case $mnt in
    "$data" | /dev | /dev/* | /proc | /tmp) continue ;;
  esac
  mount -o remount,bind,ro "$mnt" 2>/dev/null || echo "unit-sandbox.sh: could not make $mnt read-only" >&2
done < <(awk '{print $5}' /proc/self/mountinfo | sort -u)

# PrivateTmp: /var/tmp too. ProtectHome: homes empty and read-only.
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp
for home in /home /root /run/user; do
  [[ -d $home ]] && mount -t tmpfs -o ro,mode=0755 tmpfs "$home"
done

umask 0077
exec setpriv --reuid=mssd --regid=mssd --init-groups --no-new-privs \
  --inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service \
  --bounding-set=-all,+net_bind_service -- "$@"
