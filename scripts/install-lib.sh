#!/usr/bin/env bash
# Install steps of ensure-test-deps.sh that must behave the same on every host, kept apart so
# a test can run them with stand-ins for apt-get and npm (tests/integration/install_script.rs).

# Runs a command as root: directly, or through sudo; fails when neither is possible.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi; }

# Installs Debian packages without letting them start a daemon. Debian's `prometheus` would
# otherwise start a system service on :9090 at once (and at every boot). invoke-rc.d and
# deb-systemd-invoke both ask policy-rc.d first; exit 101 means "action forbidden". An
# existing policy-rc.d (a container's) is left as it is. On a systemd host the units the
# packages bring are disabled afterwards, so a reboot does not start them either.
# POLICY_RC_D overrides the path (tests only).
apt_install_without_daemons() {
  local policy="${POLICY_RC_D:-/usr/sbin/policy-rc.d}" created="" status=0
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\n# written by gatecheck ensure-test-deps: no daemon starts during the install\nexit 101\n' > '$policy' && chmod 755 '$policy'" \
      && created=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" || status=$?
  if [ -n "$created" ]; then as_root rm -f "$policy"; fi
  if [ "$status" = 0 ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    for unit in "$@"; do as_root systemctl disable --now "$unit" >/dev/null 2>&1 || true; done
  fi
  return "$status"
}

# npm install into a project-local prefix that honours the machine's npm configuration. npm
# reads its global config from {prefix}/etc/npmrc, so `--prefix` alone silently drops a CA or a
# mirror set globally; the global config path is read before the prefix changes it.
npm_install_into() {
  local prefix="$1"; shift
  local globalconfig
  globalconfig="$(npm config get globalconfig 2>/dev/null || true)"
  mkdir -p "$prefix"
  if [ -n "$globalconfig" ] && [ -f "$globalconfig" ]; then
    npm install --prefix "$prefix" --globalconfig "$globalconfig" --no-audit --no-fund --loglevel=warn "$@"
  else
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=warn "$@"
  fi
}
