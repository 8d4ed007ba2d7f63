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
	jq ca-certificates                                      # scripts
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
"${as_root[@]}" apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
