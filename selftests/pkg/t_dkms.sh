#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# funnel-dkms on the host, as root, in a chroot whose root is an overlay
# of the host's with a tmpfs on top (the host itself is not changed; the
# mounts live in a mount namespace of their own):
#
#   selftests/pkg/t_dkms.sh [DEBDIR]      (default build/deb-test)
#
#   1. dpkg -i funnel-dkms: DKMS builds funnel.ko for every kernel whose
#      headers are installed (dkms status; each module's vermagic is its
#      kernel's); the modules are kept in DEBDIR/dkms/KVER/funnel.ko for
#      the VM test (t_pkg.sh loads them on each kernel)
#   2. a kernel installed later: the hook its package runs
#      (/etc/kernel/postinst.d/dkms KVER) builds and installs the module
#      for a kernel that does not have it
#      a kernel with broken headers (its build fails) is named and
#      does not stop the others nor the package's configuration
#   3. upgrade to V2 (FUNNEL_CHECK_LONG=1 selftests/pkg/build.sh): V1's
#      prerm removes its modules, V2 is installed for every kernel again
#   4. dpkg --purge funnel-dkms: nothing of it is left, nothing else
#      changed
#
# Native builds here, not in the TCG guest, where one build of the
# module for one kernel took 10 minutes.  Prints TAP.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
debs=${1:-$top/build/deb-test}
debs=$(cd "$debs" 2>/dev/null && pwd) || debs=${1:-$top/build/deb-test}
if [ -z "${PKG_IN_NS:-}" ]; then
	exec unshare -m --propagation private env PKG_IN_NS=1 "$0" "$debs"
fi
# shellcheck source=../lib/tap.sh
. "$top/selftests/lib/tap.sh"
# shellcheck source=lib.sh
. "$top/selftests/pkg/lib.sh"

work=$(mktemp -d /tmp/funnel-dkms.XXXXXX)
cleanup() {
	umount -R "$work" 2>/dev/null
	rmdir "$work" 2>/dev/null
	echo "1..$T_N"
	echo "# funnel-dkms: $((T_N - T_FAIL)) passed, $T_FAIL failed ($(( $(date +%s) - T_START ))s)"
	exit $(( T_FAIL > 0 ))
}
trap cleanup EXIT

# funnel-dkms's versions, lowest first: V1 installed, V2 (make check-long's
# selftests/pkg/build.sh rebuilds it) the upgrade
vers=$(for f in "$debs"/funnel-dkms_*.deb; do [ -f "$f" ] && dpkg-deb -f "$f" Version; done |
	sort -V)
ver=$(echo "$vers" | head -n 1) ver2=$(echo "$vers" | sed -n 2p)
deb=$(ls "$debs"/funnel-dkms_"$ver"_*.deb 2>/dev/null)
if [ -z "$ver" ] || [ -z "$deb" ]; then
	not_ok "funnel-dkms in $debs (selftests/pkg/build.sh)"
	exit 1
fi
if ! pkg_root "$work"; then
	not_ok "overlay root over the host's in $work"
	exit 1
fi
cp "$debs"/funnel-dkms_*.deb "$PKG_R/tmp/"
kernels=$(for b in "$PKG_R"/lib/modules/*/build; do
	[ -e "$b/Makefile" ] && basename "$(dirname "$b")"; done | sort -V)
# a kernel whose headers are broken (its build fails), sorted before the
# others: the real kernels still get the module, the package configures
broken=0.0.1-broken
mkdir -p "$PKG_R/lib/modules/$broken/build/include"
printf '$(error broken headers of the test)\n' >"$PKG_R/lib/modules/$broken/build/Makefile"
pkg_changes >"$work/before"

# ---- 1. install
s=$(date +%s)
if in_root env DEBIAN_FRONTEND=noninteractive dpkg -i "/tmp/${deb##*/}" \
	>"$work/install.log" 2>&1; then
	ok "install: dpkg -i funnel-dkms $ver ($(( $(date +%s) - s ))s)"
else
	not_ok "install: dpkg -i funnel-dkms $ver"
	tail -n 30 "$work/install.log" | diag
	exit 1
fi
st=$(in_root dkms status funnel 2>/dev/null)
rm -rf "$debs/dkms"
bad=""
# the module of kernel $1 that DKMS installed (compressed like the
# kernel's own: funnel.ko.xz for 6.12)
dkms_ko() {
	ls "$PKG_R/lib/modules/$1/updates/dkms/"funnel.ko* 2>/dev/null | head -n 1
}
for k in $kernels; do
	ko=$(dkms_ko "$k")
	if echo "$st" | grep -q "^funnel/$ver, $k, x86_64: installed" && [ -f "$ko" ] &&
	   [ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$k" ]; then
		install -D -m 0644 "$ko" "$debs/dkms/$k/${ko##*/}"
	else
		bad="$bad $k"
	fi
done
if [ -z "$bad" ] && [ -n "$kernels" ]; then
	ok "dkms status: funnel $ver installed for every kernel with headers: $(echo $kernels)"
else
	not_ok "dkms status: funnel $ver not installed for:$bad"
	echo "$st" | diag
	tail -n 20 "$work/install.log" | diag
fi
if grep -q "NOT built for: $broken" "$work/install.log" &&
   [ "$(in_root dpkg-query -W -f '${Status}' funnel-dkms)" = "install ok installed" ] &&
   grep -q "broken headers of the test" "$PKG_R/var/lib/dkms/funnel/$ver/make-$broken.log"; then
	ok "broken headers of $broken: named, its build log kept (make-$broken.log), the package configured, the other kernels built"
else
	not_ok "broken headers of $broken: named, the package configured"
	tail -n 20 "$work/install.log" | diag
fi

# ---- 2. the hook of a kernel installed later
k=$(echo "$kernels" | head -n 1)
in_root dkms uninstall funnel/"$ver" -k "$k" >/dev/null 2>&1
in_root dkms unbuild funnel/"$ver" -k "$k" >/dev/null 2>&1
if [ -n "$(dkms_ko "$k")" ]; then
	not_ok "kernel hook: dkms uninstall removes $k's module first"
elif in_root /etc/kernel/postinst.d/dkms "$k" >"$work/hook.log" 2>&1 &&
     [ -n "$(dkms_ko "$k")" ] &&
     in_root dkms status funnel -k "$k" | grep -q ": installed"; then
	ok "kernel hook: /etc/kernel/postinst.d/dkms $k builds and installs funnel.ko"
else
	not_ok "kernel hook: /etc/kernel/postinst.d/dkms $k builds and installs funnel.ko"
	tail -n 20 "$work/hook.log" | diag
fi

# ---- 3. upgrade: the old version's prerm removes its modules from
# every kernel, the new one's postinst builds them all again
if [ -n "$ver2" ]; then
	s=$(date +%s)
	deb2=$(ls "$debs"/funnel-dkms_"$ver2"_*.deb)
	if in_root env DEBIAN_FRONTEND=noninteractive dpkg -i "/tmp/${deb2##*/}" \
		>"$work/upgrade.log" 2>&1; then
		ok "upgrade: dpkg -i funnel-dkms $ver2 over $ver ($(( $(date +%s) - s ))s)"
	else
		not_ok "upgrade: dpkg -i funnel-dkms $ver2 over $ver"
		tail -n 30 "$work/upgrade.log" | diag
	fi
	st=$(in_root dkms status funnel 2>/dev/null)
	bad=""
	for k in $kernels; do
		ko=$(dkms_ko "$k")
		echo "$st" | grep -q "^funnel/$ver2, $k, x86_64: installed" && [ -f "$ko" ] &&
			[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$k" ] || bad="$bad $k"
	done
	if [ -z "$bad" ] && ! echo "$st" | grep -q "^funnel/$ver,"; then
		ok "upgrade: funnel $ver2 installed for every kernel again, $ver gone from DKMS"
	else
		not_ok "upgrade: funnel $ver2 for every kernel, $ver gone (missing:$bad)"
		echo "$st" | diag
	fi
else
	not_ok "upgrade: a second funnel-dkms in $debs (FUNNEL_CHECK_LONG=1 selftests/pkg/build.sh)"
fi

# ---- 4. purge
if in_root env DEBIAN_FRONTEND=noninteractive dpkg --purge funnel-dkms \
	>"$work/purge.log" 2>&1; then
	ok "purge: dpkg --purge funnel-dkms"
else
	not_ok "purge: dpkg --purge funnel-dkms"
	tail -n 20 "$work/purge.log" | diag
fi
pkg_changes >"$work/after"
# DKMS makes its module signing key at its first build: DKMS's, kept
# for every module it signs
left=$(pkg_left "$work/before" "$work/after" '/var/lib/dkms/mok\.(key|pub)')
if [ -z "$left" ] && [ -z "$(in_root dkms status funnel 2>/dev/null)" ]; then
	ok "purge: no module, source or DKMS state left, nothing else changed"
else
	not_ok "purge: left behind or changed"
	echo "$left" | head -n 30 | diag
fi
