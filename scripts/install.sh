#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install a built Funnel tree.
#
#   scripts/install.sh [DESTDIR]
#
# Installs, under DESTDIR (default: the running system, which needs root):
#
#   ctl/bin/funneld, funnelctl      -> /usr/local/sbin/
#   build/KVER/kmod/funnel.ko       -> /lib/modules/KVER/extra/funnel.ko
#                                      (then depmod, when DESTDIR is empty)
#   Documentation/man/*.5, *.8      -> /usr/local/share/man/man5, man8
#   ctl/funneld/funneld.service             -> /etc/systemd/system/funneld.service
#   ctl/funneld/funnel.sysusers             -> /etc/sysusers.d/funnel.conf, and the
#                                      user "funnel" it names is created
#                                      (systemd-sysusers, when DESTDIR is empty)
#   ctl/funneld/funnel.conf.example -> /etc/funnel/funnel.conf,
#                                      only if that file does not exist
#   funnelctl completion bash       -> /usr/local/share/bash-completion/
#                                      completions/funnelctl
#
# Environment:
#   KVER=VERSION   the kernel to install funnel.ko for (default: uname -r);
#                  build it first with "make KVER=VERSION"
#   KVER=none      install without funnel.ko (funneld then runs its
#                  userspace data path, e.g. in a container)
#   DESTDIR=DIR    the same as the argument
#
# Nothing is built here: run "make" (or "make KVER=...") first.  Every
# missing piece is reported before anything is copied.

set -euo pipefail

prog=install.sh
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
	sed -n '4,28s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 1
}

case "${1:-}" in
-h|--help)
	usage
	exit 0
	;;
-*)
	printf '%s: unknown option %s (usage: %s [DESTDIR])\n' "$prog" "$1" "$prog" >&2
	exit 2
	;;
esac
if [ $# -gt 1 ]; then
	printf '%s: too many arguments (usage: %s [DESTDIR])\n' "$prog" "$prog" >&2
	exit 2
fi

destdir=${1:-${DESTDIR:-}}
destdir=${destdir%/}
if [ -n "$destdir" ] && [ "${destdir#/}" = "$destdir" ]; then
	destdir=$PWD/$destdir
fi
kver=${KVER:-$(uname -r)}

# ---- check that everything is there before copying anything ----

missing=()
need() {	# need FILE WHY
	[ -f "$top/$1" ] || missing+=("$1: $2")
}

need ctl/bin/funneld "not built (run: make ctl)"
need ctl/bin/funnelctl "not built (run: make ctl)"
need ctl/funneld/funneld.service "missing from the source tree"
need ctl/funneld/funnel.conf.example "missing from the source tree"
for m in funneld.8 funnelctl.8 funnel.conf.5; do
	need "Documentation/man/$m" "missing from the source tree"
done

ko=
if [ "$kver" != none ]; then
	ko=build/$kver/kmod/funnel.ko
	if [ ! -f "$top/$ko" ]; then
		built=
		for f in "$top"/build/*/kmod/funnel.ko; do
			[ -f "$f" ] || continue
			f=${f%/kmod/funnel.ko}
			built="$built ${f##*/}"
		done
		built=${built# }
		nl=$'\n    '
		why="not built for kernel $kver (run: make KVER=$kver)"
		[ -e "/lib/modules/$kver/build/Makefile" ] ||
			why="$why${nl}no headers for $kver: /lib/modules/$kver/build is missing"
		[ -n "$built" ] &&
			why="$why${nl}built for: $built (choose one with KVER=...)"
		why="$why${nl}KVER=none installs without the module"
		missing+=("$ko: $why")
	fi
fi

if [ ${#missing[@]} -gt 0 ]; then
	printf '%s: not built or missing in %s:\n' "$prog" "$top" >&2
	printf '  %s\n' "${missing[@]}" >&2
	exit 1
fi

if [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
	die "installing into / needs root (or give a DESTDIR)"
fi

# ---- copy ----

say() {
	printf '  %s\n' "$*"
}

put() {	# put SOURCE MODE DEST
	install -D -m "$2" "$top/$1" "$destdir$3"
	say "$destdir$3"
}

echo "$prog: installing from $top${destdir:+ into $destdir}"

put ctl/bin/funneld 0755 /usr/local/sbin/funneld
put ctl/bin/funnelctl 0755 /usr/local/sbin/funnelctl
put Documentation/man/funneld.8 0644 /usr/local/share/man/man8/funneld.8
put Documentation/man/funnelctl.8 0644 /usr/local/share/man/man8/funnelctl.8
put Documentation/man/funnel.conf.5 0644 /usr/local/share/man/man5/funnel.conf.5
put ctl/funneld/funneld.service 0644 /etc/systemd/system/funneld.service
put ctl/funneld/funnel.sysusers 0644 /etc/sysusers.d/funnel.conf
comp=/usr/local/share/bash-completion/completions/funnelctl
install -d "$destdir${comp%/*}"
"$top/ctl/bin/funnelctl" completion bash >"$destdir$comp"
say "$destdir$comp"
if [ -z "$destdir" ]; then
	# the unit runs funneld as "funnel"
	systemd-sysusers /etc/sysusers.d/funnel.conf ||
		die "cannot create the user funnel (systemd-sysusers)"
	say "user funnel: $(id funnel)"
fi

if [ -n "$ko" ]; then
	put "$ko" 0644 "/lib/modules/$kver/extra/funnel.ko"
fi

conf=$destdir/etc/funnel/funnel.conf
if [ -e "$conf" ]; then
	say "$conf exists: left as it is"
else
	install -d -m 0755 "$destdir/etc/funnel"
	install -m 0644 "$top/ctl/funneld/funnel.conf.example" "$conf"
	say "$conf (example, everything commented out)"
fi

# ---- after the copy ----

if [ -n "$ko" ]; then
	if [ -z "$destdir" ]; then
		depmod -a "$kver"
		say "depmod -a $kver"
	else
		say "not running depmod (DESTDIR is set): run 'depmod -a $kver' on the target"
	fi
fi

cat <<EOF
$prog: done. Next${destdir:+, on the target system}:
  modprobe funnel                  # the kernel data path (optional)
  \$EDITOR /etc/funnel/funnel.conf  # see funnel.conf(5)
  systemctl daemon-reload
  systemctl enable --now funneld
  funnelctl show
EOF
