#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The packages the package test (t_pkg.sh) installs, built on the host:
#
#   selftests/pkg/build.sh [OUTDIR]        (default build/deb-test)
#
# scripts/deb.sh -b (funnel and funnel-dkms, lintian), then funnel again
# as version V+pkgtest1, higher than V: the same package with another
# version in its control file, for the upgrade.  Prints TAP.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/build/deb-test}
# shellcheck source=../lib/tap.sh
. "$top/selftests/lib/tap.sh"
trap 'echo "1..$T_N"; exit $(( T_FAIL > 0 ))' EXIT

rm -rf "$out"
mkdir -p "$out"
s=$(date +%s)
if msg=$("$top/scripts/deb.sh" -b "$out" 2>&1); then
	ok "make deb: funnel and funnel-dkms built, $(echo "$msg" | grep -o 'lintian: .*') ($(( $(date +%s) - s ))s)"
else
	not_ok "make deb: funnel and funnel-dkms built, lintian clean"
	echo "$msg" | tail -n 30 | diag
	exit 1
fi
v1=$(ls "$out"/funnel_*.deb)
ver1=$(dpkg-deb -f "$v1" Version)
ver2=$ver1+pkgtest1
tmp=$(mktemp -d)
dpkg-deb -R "$v1" "$tmp/p" &&
	sed -i "s/^Version: .*/Version: $ver2/" "$tmp/p/DEBIAN/control" &&
	dpkg-deb -Zgzip -b "$tmp/p" "$out/funnel_${ver2}_$(dpkg --print-architecture).deb" >/dev/null
st=$?
rm -rf "$tmp"
[ $st = 0 ] && dpkg --compare-versions "$ver2" gt "$ver1"
if [ $? = 0 ]; then ok "funnel $ver2 (> $ver1) for the upgrade"
else not_ok "funnel $ver2 for the upgrade"; exit 1; fi
