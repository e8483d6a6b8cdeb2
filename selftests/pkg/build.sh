#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The packages the package test (t_pkg.sh) installs, built on the host:
#
#   selftests/pkg/build.sh [OUTDIR]        (default build/deb-test)
#
# scripts/deb.sh -b (funnel and funnel-dkms, lintian), their maintainer
# scripts, then the version V+pkgtest1 (higher than V) for the upgrade:
# with FUNNEL_CHECK_LONG=1 (make check-long) both packages rebuilt with
# deb.sh -b OUTDIR V+pkgtest1, else funnel repacked with that version in
# its control file.  Prints TAP.
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
arch=$(dpkg --print-architecture)

# the maintainer scripts: the Prometheus timer (not enabled by the
# package) restarted by an upgrade and stopped by a removal like funneld;
# funnel-dkms's own scripts with dh_dkms's version, not DKMS's snippet
tmp=$(mktemp -d)
dpkg-deb -e "$v1" "$tmp/funnel" && dpkg-deb -e "$out"/funnel-dkms_*.deb "$tmp/dkms"
dver=$(dpkg-deb -f "$out"/funnel-dkms_*.deb Version)
if grep -q "deb-systemd-invoke \$_dh_action .*'funnel-prometheus.timer'" "$tmp/funnel/postinst" &&
   grep -q "deb-systemd-invoke stop .*'funnel-prometheus.timer'" "$tmp/funnel/prerm" &&
   grep -q 'funnel.prom' "$tmp/funnel/postrm" &&
   grep -qx "ver=$dver" "$tmp/dkms/postinst" && grep -qx "ver=$dver" "$tmp/dkms/prerm" &&
   ! grep -q /usr/lib/dkms/common.postinst "$tmp/dkms/postinst"; then
	ok "maintainer scripts: the Prometheus timer restarted on upgrade, stopped on remove; funnel.prom removed; funnel-dkms's own, DKMS version $dver"
else
	not_ok "maintainer scripts: the Prometheus timer restarted on upgrade, stopped on remove; funnel.prom removed; funnel-dkms's own scripts"
fi
rm -rf "$tmp"

# the higher version: make check-long rebuilds both packages from the
# tree as V2 (what an upgrade installs); make check, which only installs
# V1 when FUNNEL_PKG_TEST asks it to, repacks funnel with V2 in its
# control file (seconds instead of a second build)
if [ "${FUNNEL_CHECK_LONG:-}" = 1 ]; then
	s=$(date +%s)
	mkdir -p "$out/v2"
	if msg=$("$top/scripts/deb.sh" -b "$out/v2" "$ver2" 2>&1) &&
	   mv "$out"/v2/*_"$ver2"_*.deb "$out/"; then
		ok "funnel and funnel-dkms $ver2 (> $ver1) rebuilt for the upgrade ($(( $(date +%s) - s ))s)"
	else
		not_ok "funnel and funnel-dkms $ver2 rebuilt for the upgrade"
		echo "$msg" | tail -n 30 | diag
		exit 1
	fi
	rm -rf "$out/v2"
	exit 0
fi
tmp=$(mktemp -d)
dpkg-deb -R "$v1" "$tmp/p" &&
	sed -i "s/^Version: .*/Version: $ver2/" "$tmp/p/DEBIAN/control" &&
	dpkg-deb -Zgzip -b "$tmp/p" "$out/funnel_${ver2}_$arch.deb" >/dev/null
st=$?
rm -rf "$tmp"
[ $st = 0 ] && dpkg --compare-versions "$ver2" gt "$ver1"
if [ $? = 0 ]; then ok "funnel $ver2 (> $ver1) for the upgrade"
else not_ok "funnel $ver2 for the upgrade"; exit 1; fi
