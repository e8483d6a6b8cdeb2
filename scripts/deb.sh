#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: the Debian packages funnel and funnel-dkms, built with
# dpkg-buildpackage -us -uc in a copy of the source tree (the tree itself
# is left alone), then checked with lintian.
#
#   scripts/deb.sh [-b] [OUTDIR [VERSION]]
#
# -b: binary packages only (dpkg-buildpackage -b), no debug symbols, ctl/
# built with make -j$(nproc): what the package tests of make check use.
#
# OUTDIR (default build/deb) gets the .deb, .dsc, .tar.xz, .buildinfo and
# .changes files and lintian.log.  VERSION (default: debian/changelog's)
# builds another version: a changelog entry for it is added in the copy
# (the package tests install a higher version over the first).  Exit
# status 1 if the build fails or lintian reports an error or a warning
# that debian/*.lintian-overrides does not justify.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bflags=()
if [ "${1:-}" = -b ]; then
	bflags=(-b)
	DEB_BUILD_OPTIONS="parallel=$(nproc) noddebs${DEB_BUILD_OPTIONS:+ $DEB_BUILD_OPTIONS}"
	export DEB_BUILD_OPTIONS
	shift
fi
out=${1:-$top/build/deb}
ver=${2:-}
mkdir -p "$out"
out=$(cd "$out" && pwd)

die() { echo "deb.sh: $*" >&2; exit 1; }
for t in dpkg-buildpackage dh dh_dkms lintian fakeroot; do
	command -v "$t" >/dev/null ||
		die "$t not found (make deps installs dpkg-dev, debhelper, dh-dkms, lintian, fakeroot)"
done

[ -n "$ver" ] || ver=$(cd "$top" && dpkg-parsechangelog -S Version)
work=$(mktemp -d "$out/.src.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/funnel-$ver
mkdir -p "$src"

# The files of the source tree: git's list (committed or not, never
# build products); without git, the directories the packages use.
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -C "$src" -xf -
else
	(cd "$top" && tar --exclude='*.o' --exclude='*.d' --exclude='*.ko' \
		-cf - Makefile Kbuild VERSION dkms.conf debian ctl kmod uapi \
		Documentation scripts) | tar -C "$src" -xf -
fi
rm -rf "$src/ctl/bin"

if [ "$ver" != "$(cd "$src" && dpkg-parsechangelog -S Version)" ]; then
	{
		printf 'funnel (%s) unstable; urgency=medium\n\n' "$ver"
		printf '  * Rebuilt as %s.\n\n' "$ver"
		printf ' -- Funnel developers <funnel@packages.invalid>  %s\n\n' "$(date -R)"
		cat "$src/debian/changelog"
	} >"$work/changelog"
	mv "$work/changelog" "$src/debian/changelog"
fi

echo "deb.sh: building funnel $ver in $src"
(cd "$src" && dpkg-buildpackage -us -uc "${bflags[@]}") >"$out/build.log" 2>&1 ||
	{ tail -n 40 "$out/build.log" >&2; die "dpkg-buildpackage failed (log: $out/build.log)"; }
for f in "$work"/funnel*_"$ver"*; do
	mv "$f" "$out/"
done
changes=$out/funnel_${ver}_$(dpkg --print-architecture).changes
ls "$out"/*_"$ver"_*.deb

# errors and warnings fail; pedantic and info tags are shown
if ! lintian --fail-on error,warning --tag-display-limit 0 -I --pedantic "$changes" \
	>"$out/lintian.log" 2>&1; then
	cat "$out/lintian.log" >&2
	die "lintian: errors or warnings (above; log: $out/lintian.log)"
fi
tags=$(grep -c '^[IPXO]: ' "$out/lintian.log" || true)
echo "deb.sh: lintian: no error or warning, $tags info or pedantic tags (lintian.log)"
