#!/usr/bin/env bash
# Installs every Debian 12 package that building and testing keycard needs.
# Does nothing (and needs no root) when all of them are already installed.
set -euo pipefail

packages=(
	build-essential autoconf automake libtool pkg-config   # toolchain, autotools
	libssl-dev openssl                                      # OpenSSL >= 3.0 (and openssl speed)
	libjansson-dev libfcgi-dev libcurl4-openssl-dev         # libraries
	flex bison                                              # policy grammar
	libcriterion-dev                                        # unit tests
	python3 python3-jwt python3-cryptography                # PyJWT interop tests
	clang libclang-rt-14-dev                                # libFuzzer target
	jq ca-certificates curl groff-base                      # scripts, man page render check
	lighttpd apache2 nginx fcgiwrap spawn-fcgi              # end-to-end tests, demo
	lighttpd-modules-lua                                    # mod_magnet: header stripping
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages already installed"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	echo "install-deps: missing packages and not root (and no sudo): run as root" >&2
	exit 2
fi

export DEBIAN_FRONTEND=noninteractive
# The web servers are for the tests, which start their own instances on high
# ports: keep the packages from starting (and enabling) their system daemons,
# which would also fight over port 80. A policy-rc.d already present is left
# alone.
policy_rc=/usr/sbin/policy-rc.d
own_policy_rc=0
if [ ! -e "$policy_rc" ]; then
	printf '#!/bin/sh\n# temporary, from keycard tests/install-deps.sh\nexit 101\n' |
		"${as_root[@]}" tee "$policy_rc" >/dev/null
	"${as_root[@]}" chmod 755 "$policy_rc"
	own_policy_rc=1
fi
rc=0
"${as_root[@]}" apt-get update -q || rc=$?
[ "$rc" -ne 0 ] || "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}" || rc=$?
[ "$own_policy_rc" = 0 ] || "${as_root[@]}" rm -f "$policy_rc"
[ "$rc" -eq 0 ] || exit "$rc"
echo "install-deps: done"
