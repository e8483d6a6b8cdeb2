# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The writable root the package tests install into (sourced): an overlay
# of the read-only (VM) or untouched (host) root with a tmpfs on top, so
# that dpkg writes only to the upper layer and what the packages leave
# behind is exactly what that layer holds.

# pkg_root DIR: DIR/root over /, upper layer DIR/upper (tmpfs); proc, sys
# and dev bound, tmpfs on run, tmp and var/tmp; in_root runs a command in
# it.  Call in a mount namespace of its own on the host (unshare -m).
pkg_root() {
	PKG_R=$1/root PKG_U=$1/upper
	mkdir -p "$1" || return 1
	mount -t tmpfs tmpfs "$1" || return 1
	mkdir -p "$PKG_R" "$PKG_U" "$1/work"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$PKG_U,workdir=$1/work" "$PKG_R" || return 1
	local d
	for d in proc sys dev; do mount --rbind "/$d" "$PKG_R/$d" || return 1; done
	for d in run tmp var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "$PKG_R/$d" || return 1; done
	# man-db's trigger would index every manual page at each dpkg run
	rm -f "$PKG_R/var/lib/man-db/auto-update"
}

in_root() { chroot "$PKG_R" "$@"; }

# pkg_changes: the files of the upper layer that differ from the lower
# root's: "deleted PATH" (a whiteout) or "changed PATH" (new or not the
# same bytes); directories do not count
pkg_changes() {
	local f
	(cd "$PKG_U" && find . ! -type d | sort) | while IFS= read -r f; do
		f=${f#.}
		if [ -c "$PKG_U$f" ] && [ "$(stat -c %t:%T "$PKG_U$f")" = 0:0 ]; then
			echo "deleted $f"
		elif [ -e "$f" ] && cmp -s "$PKG_U$f" "$f"; then
			continue
		else
			echo "changed $f"
		fi
	done
}

# pkg_left BEFORE AFTER: what pkg_changes had at AFTER and not at BEFORE,
# less what dpkg itself keeps (its database, logs, debconf's cache) and
# what an operator made (EXTRA: a grep -E pattern of paths, may be empty)
pkg_left() {
	diff "$1" "$2" | sed -n 's/^> //p' |
		grep -vE '^changed /var/(lib/dpkg|log|cache/debconf)/' |
		grep -vE "^changed (${3:-^$})\$"
}
