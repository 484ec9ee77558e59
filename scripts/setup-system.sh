#!/usr/bin/env bash
# Installs the system tools planner's examples and tests use, from Debian's packages, when
# they are missing: nix (offline: no sandbox, no substituters), skopeo, umoci, the CNCF
# distribution registry, Go and a C toolchain for the example services, chromium for the
# HTML report test. As root it installs; otherwise it prints the exact command to run.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have nix || need+=(nix-bin)
have skopeo || need+=(skopeo)
have umoci || need+=(umoci)
have docker-registry || need+=(docker-registry)
have go || need+=(golang-go)
have gcc || need+=(gcc)
[ -x /bin/busybox ] || need+=(busybox-static)
have pigz || need+=(pigz)
have zstd || need+=(zstd)
have openssl || need+=(openssl)
have podman || need+=(podman)
have chromium || need+=(chromium)
have perl || need+=(perl-base)
[ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
[ -f /usr/include/stdio.h ] || need+=(libc6-dev)
ls /usr/lib/*/libpython3.11.so.1.0 >/dev/null 2>&1 || need+=(libpython3.11)
ls /usr/lib/*/libz.so.1 >/dev/null 2>&1 || need+=(zlib1g)
ls /usr/lib/*/libexpat.so.1 >/dev/null 2>&1 || need+=(libexpat1)
[ -e /usr/share/zoneinfo/UTC ] || need+=(tzdata)
[ -f /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
if [ "${PLANNER_SETUP_EXTRA:-}" != "" ]; then
  for pkg in $PLANNER_SETUP_EXTRA; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
fi

if [ ${#need[@]} -gt 0 ]; then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${need[*]}"
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${need[*]} from Debian" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: missing ${need[*]}. Run as root:" >&2
    echo "  sudo sh -c '$cmd'" >&2
    exit 1
  fi
fi

# Nix from Debian is single-user here: no build users, no sandbox (derivations use the
# host's /bin/sh and Debian toolchains), no binary cache (there is no network).
conf=/etc/nix/nix.conf
if ! grep -qs '^sandbox *= *false' "$conf" || ! grep -qs '^substituters *=' "$conf"; then
  if [ "$(id -u)" = 0 ]; then
    mkdir -p /etc/nix
    {
      echo '# written by planner scripts/setup-system.sh: offline single-user Nix'
      echo 'sandbox = false'
      echo 'substituters ='
      echo 'build-users-group ='
    } > "$conf"
  else
    echo "setup: $conf needs 'sandbox = false', 'substituters =' and 'build-users-group ='" >&2
    exit 1
  fi
fi
