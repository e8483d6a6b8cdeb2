#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Tests of scripts/deps.sh without apt: FUNNEL_DEPS_ROOT points it at a
# throwaway tree (etc/, usr/sbin/, var/lib/, a small linux-source tarball)
# and stub apt-get, apt-cache and id come first on PATH.  The stub apt-get
# records its calls and, at "install", what policy-rc.d held then.
#
#   test_deps.sh [DEPS_SH]       (default: scripts/deps.sh of this tree)
#
# Prints TAP; exits non-zero if a test failed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
deps=${1:-$top/scripts/deps.sh}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
err=$tmp/err
stubs=$tmp/stubs
R=$tmp/root

n=0
failed=0

tap() { # STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
		for f in "$out" "$err" "$tmp/apt.log"; do
			[ -s "$f" ] && sed "s|^|# $(basename "$f"): |" "$f"
		done
	fi
	return 0
}

# ---- stubs ----

mkdir -p "$stubs"
cat >"$stubs/id" <<'EOF'
#!/bin/sh
echo 0
EOF
# apt-get: log the call; at "install", note policy-rc.d and act on
# STUB_INSTALL (fail: exit 100; term: SIGTERM the caller, as a Ctrl-C would)
cat >"$stubs/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $*" >>"$STUB_LOG"
[ "$1" = install ] || exit 0
prc=$FUNNEL_DEPS_ROOT/usr/sbin/policy-rc.d
if [ -x "$prc" ]; then
	echo "policy-rc.d during install: exit $("$prc" start x >/dev/null 2>&1; echo $?)" >>"$STUB_LOG"
else
	echo "policy-rc.d during install: none" >>"$STUB_LOG"
fi
case ${STUB_INSTALL:-ok} in
fail) echo "E: stub failure"; exit 100 ;;
term) kill -TERM "$PPID"; exit 0 ;;
esac
exit 0
EOF
# apt-cache show META/SUITE: a Depends line naming a versioned package
cat >"$stubs/apt-cache" <<'EOF'
#!/bin/sh
echo "apt-cache $*" >>"$STUB_LOG"
[ "$1" = show ] || exit 0
meta=${2%/*}
case $2 in *-backports) v=6.12.9+bpo ;; *) v=6.1.0-9 ;; esac
echo "Package: $meta"
echo "Depends: ${meta%-amd64}-$v-amd64 (= 1), other"
EOF
# systemctl: log the call (its own log: the stamp's early exit calls it)
cat >"$stubs/systemctl" <<'EOF'
#!/bin/sh
echo "systemctl $*" >>"$STUB_LOG.systemctl"
EOF
chmod 755 "$stubs"/*

# fresh_root: a Debian tree without backports, stamp or policy-rc.d
fresh_root() {
	rm -rf "$R" "$tmp/apt.log"
	rm -f "$tmp/apt.log.systemctl"
	mkdir -p "$R/lib/systemd/system"
	: >"$R/lib/systemd/system/prometheus.service"
	mkdir -p "$R/etc/init.d"
	: >"$R/etc/init.d/slapd"
	mkdir -p "$R/etc/apt/sources.list.d" "$R/usr/sbin" "$R/var/lib" \
		"$R/var/log" "$R/usr/src" "$tmp/src/linux-source-6.1/scripts"
	echo 12.0 >"$R/etc/debian_version"
	echo VERSION_CODENAME=bookworm >"$R/etc/os-release"
	echo "deb http://deb.debian.org/debian bookworm main" \
		>"$R/etc/apt/sources.list"
	for f in checkpatch.pl spelling.txt const_structs.checkpatch; do
		echo "$f" >"$tmp/src/linux-source-6.1/scripts/$f"
	done
	chmod 755 "$tmp/src/linux-source-6.1/scripts/checkpatch.pl"
	tar -cJf "$R/usr/src/linux-source-6.1.tar.xz" -C "$tmp/src" \
		linux-source-6.1
}

run_deps() { # [VAR=VALUE...]: run deps.sh in $R; sets $rc
	env FUNNEL_DEPS_ROOT="$R" STUB_LOG="$tmp/apt.log" \
		PATH="$stubs:$PATH" "$@" "$deps" >"$out" 2>"$err"
	rc=$?
}

prc=$R/usr/sbin/policy-rc.d
machine_prc() { # the machine's own policy-rc.d, as in Debian's images
	printf '#!/bin/sh\n# the machine'"'"'s own\nexit 101\n' >"$prc"
	chmod 755 "$prc"
	cp "$prc" "$tmp/prc.orig"
}

# ---- first run, policy-rc.d absent ----

fresh_root
run_deps
[ $rc -eq 0 ] && grep -q '^deps: done' "$out" &&
	[ "$(cat "$R/var/lib/funnel-deps.stamp")" = "$(sed -n 's/^want_rev=//p' "$top/scripts/deps.sh")" ]
tap $? "first run without policy-rc.d exits 0 and writes the stamp"
grep -qx 'policy-rc.d during install: exit 101' "$tmp/apt.log" &&
	[ ! -e "$prc" ]
tap $? "its own policy-rc.d blocks services during install, removed at the end"
grep -q 'bookworm-backports' "$R/etc/apt/sources.list.d/funnel-backports.list" &&
	grep -q '^apt-get install .* linux-image-6.1.0-9-amd64 linux-headers-6.1.0-9-amd64 linux-image-6.12.9+bpo-amd64 linux-headers-6.12.9+bpo-amd64 ' "$tmp/apt.log" &&
	[ -x "$R/usr/local/share/funnel/checkpatch/scripts/checkpatch.pl" ] &&
	[ -f "$R/usr/local/share/funnel/checkpatch/scripts/spelling.txt" ]
tap $? "backports enabled, both kernels' packages installed, checkpatch unpacked"

grep -qx "systemctl --root=$R disable prometheus.service" "$tmp/apt.log.systemctl"
tap $? "the prometheus server (promtool's package) disabled"
grep -qx "systemctl --root=$R disable slapd.service" "$tmp/apt.log.systemctl"
tap $? "the system's slapd (the LDAP tests run their own) disabled"

# ---- second run: the stamp ----

: >"$tmp/apt.log"
run_deps
[ $rc -eq 0 ] && grep -q 'already installed' "$out" && [ ! -s "$tmp/apt.log" ]
tap $? "second run: already installed, apt not called"

# ---- first run, policy-rc.d already there ----

fresh_root
machine_prc
run_deps
[ $rc -eq 0 ] && grep -q '^deps: done' "$out"
tap $? "first run with a policy-rc.d already there exits 0"
cmp -s "$prc" "$tmp/prc.orig" &&
	grep -qx 'policy-rc.d during install: exit 101' "$tmp/apt.log"
tap $? "the machine's policy-rc.d is used and left untouched"

fresh_root
machine_prc
run_deps FORCE=1 STUB_INSTALL=fail
[ $rc -eq 1 ] && grep -q 'apt-get install failed (log: .*/var/log/funnel-deps.log)' "$err" &&
	grep -q 'E: stub failure' "$err" && cmp -s "$prc" "$tmp/prc.orig" &&
	[ ! -e "$R/var/lib/funnel-deps.stamp" ]
tap $? "apt-get install failing: exit 1, the log named, the machine's policy-rc.d kept"

# ---- failures and signals remove our own policy-rc.d ----

fresh_root
run_deps STUB_INSTALL=fail
[ $rc -eq 1 ] && [ ! -e "$prc" ]
tap $? "apt-get install failing: exit 1, own policy-rc.d removed"

fresh_root
run_deps STUB_INSTALL=term
[ $rc -eq 143 ] && [ ! -e "$prc" ] && [ ! -e "$R/var/lib/funnel-deps.stamp" ]
tap $? "SIGTERM during install: exit 143, own policy-rc.d removed"

# one left by a run killed with SIGKILL: recognised by its mark, removed
fresh_root
printf '#!/bin/sh\n# funnel scripts/deps.sh: removed when deps.sh ends\nexit 101\n' >"$prc"
chmod 755 "$prc"
run_deps
[ $rc -eq 0 ] && [ ! -e "$prc" ]
tap $? "a policy-rc.d left by a killed run is removed by the next one"

echo "1..$n"
exit $failed
