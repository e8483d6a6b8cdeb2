#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# funneld refuses an identity whose keytab others could read or change:
# a keytab made by the test KDC (selftests/lib/kdc.sh, as the demo and
# the VM tests make theirs) is accepted as it is (0600); with mode 0640
# or 0604, owned by another user (when run as root), a directory, a
# symbolic link to a good keytab, in a directory writable by others
# (0777, even the link), by its group (0770) or owned by another user
# (when run as root) it is refused, in the configuration file (funneld
# exits 1 naming the file, the line, the keytab and its mode) and from
# funnelctl (exit 1, the identity unchanged); a keytab in a sticky 1777
# directory and one that does not exist yet are accepted.  The funnelctl
# part runs under valgrind.
#
# usage: selftests/host/t_keytab.sh     (root not needed)
# Prints TAP; exit 1 on failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"

t_begin "keytab"

for p in funneld funnelctl valgrind python3; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p not found (make ctl; make deps)"; exit 1; }
done
svc_init
L=127.0.0.1
svc_pick_port P_CAR
K=$SVC_DIR/site.keytab
if kdc_start "$SVC_DIR/krb" && kdc_addprinc funnel/site && kdc_keytab "$K" funnel/site; then
	ok "kdc: keytab $K made by kdc_keytab, mode $(stat -c %a "$K")"
else
	not_ok "kdc: set up"; exit 1
fi

# start_with KEYTAB: funneld -f with "identity funnel/site keytab KEYTAB"
# on line 2 of its configuration; 0 iff its control socket comes up
start_with() {
	svc_stop S TERM 2>/dev/null
	fd_start S "" "# keytab test
identity funnel/site keytab $1
listen $L:$P_CAR" --datapath user 2>/dev/null
}
# refused_at_start NAME KEYTAB PATTERN: funneld exits 1 naming S.conf:2
# and PATTERN
refused_at_start() {
	local out rc
	svc_stop S TERM 2>/dev/null
	printf '# keytab test\nidentity funnel/site keytab %s\nlisten %s:%s\n' \
		"$2" $L "$P_CAR" >"$SVC_DIR/bad.conf"
	out=$(timeout 10 funneld -f -c "$SVC_DIR/bad.conf" -s "$SVC_DIR/bad.sock" \
		--datapath user 2>&1); rc=$?
	if [ $rc = 1 ] && echo "$out" | grep -q "bad.conf:2" &&
	   echo "$out" | grep -qE -- "$3" && [ ! -e "$SVC_DIR/bad.sock" ]; then
		ok "$1: funneld exits 1: $(echo "$out" | grep 'bad.conf:2' | head -n 1 | sed 's/^.*bad.conf/bad.conf/')"
	else
		not_ok "$1: funneld exit $rc, wanted 1 with bad.conf:2 and /$3/"
		echo "$out" | diag
	fi
}

if start_with "$K" && fd_json S "j['identity'].startswith('funnel/site')" >/dev/null; then
	ok "mode 0600, owned by $(id -un): accepted, identity $(fd_json S "j['identity']")"
else
	not_ok "mode 0600: funneld starts with the kdc_keytab keytab"
	tail -n 5 "$SVC_DIR/S.log" | diag
fi

chmod 0640 "$K"
refused_at_start "mode 0640" "$K" "UNPROTECTED KEYTAB: $K has mode 0640: .*chmod 0600 $K"
chmod 0604 "$K"
refused_at_start "mode 0604" "$K" "UNPROTECTED KEYTAB: $K has mode 0604"
chmod 0600 "$K"
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$K"
	refused_at_start "owned by uid 65534" "$K" "UNPROTECTED KEYTAB: $K is owned by uid 65534, not by root or funneld's user root \\(uid 0\\).*; chown root $K"
	chown 0 "$K"
else
	ok "owned by another user # SKIP needs root to chown"
fi
mkdir -p "$SVC_DIR/dir.keytab"
refused_at_start "a directory" "$SVC_DIR/dir.keytab" "keytab $SVC_DIR/dir.keytab: not a regular file"
ln -sf "$K" "$SVC_DIR/link.keytab"
refused_at_start "a symbolic link to the 0600 keytab" "$SVC_DIR/link.keytab" \
	"keytab $SVC_DIR/link.keytab is a symbolic link: funneld does not follow one"
# the keytab's directory: whoever can write it can swap the keytab
mkdir -m 0777 "$SVC_DIR/open"
chmod 0777 "$SVC_DIR/open"
ln -s "$K" "$SVC_DIR/open/link.keytab"
refused_at_start "a symbolic link to the 0600 keytab in a 0777 directory" "$SVC_DIR/open/link.keytab" \
	"UNPROTECTED KEYTAB DIRECTORY: $SVC_DIR/open, the directory of keytab $SVC_DIR/open/link.keytab, has mode 0777: .*chmod go-w $SVC_DIR/open"
mkdir "$SVC_DIR/grp"
chmod 0770 "$SVC_DIR/grp"
cp -p "$K" "$SVC_DIR/grp/site.keytab"
refused_at_start "a 0600 keytab in a group-writable (0770) directory" "$SVC_DIR/grp/site.keytab" \
	"UNPROTECTED KEYTAB DIRECTORY: $SVC_DIR/grp, the directory of keytab $SVC_DIR/grp/site.keytab, has mode 0770"
refused_at_start "a keytab that does not exist yet, in a 0777 directory" "$SVC_DIR/open/not-yet.keytab" \
	"UNPROTECTED KEYTAB DIRECTORY: $SVC_DIR/open, .* has mode 0777"
chmod 1777 "$SVC_DIR/grp"
if start_with "$SVC_DIR/grp/site.keytab"; then
	ok "a 0600 keytab in a sticky 1777 directory (as /tmp): accepted"
else
	not_ok "a 0600 keytab in a sticky 1777 directory: accepted"
	tail -n 3 "$SVC_DIR/S.log" | diag
fi
if [ "$(id -u)" = 0 ]; then
	svc_stop S TERM
	chmod 0755 "$SVC_DIR/grp"
	chown 65534 "$SVC_DIR/grp"
	refused_at_start "a keytab in a directory owned by uid 65534" "$SVC_DIR/grp/site.keytab" \
		"UNPROTECTED KEYTAB DIRECTORY: $SVC_DIR/grp, the directory of keytab $SVC_DIR/grp/site.keytab, is owned by uid 65534, not by root"
else
	ok "a keytab in a directory of another user # SKIP needs root to chown"
fi
if start_with "$SVC_DIR/not-yet.keytab"; then
	ok "a keytab that does not exist yet: accepted (used when it is there)"
else
	not_ok "a keytab that does not exist yet: accepted"
fi

# ---- from funnelctl, under valgrind
svc_stop S TERM
cp -p "$K" "$SVC_DIR/open.keytab"
chmod 0640 "$SVC_DIR/open.keytab"
VG="valgrind --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99
	--track-fds=no --num-callers=30 --log-file=$SVC_DIR/vg-S.txt"
FD_START_TIMEOUT=30 FD_WRAP=$VG start_with "$K" || not_ok "valgrind: funneld starts"
out=$(fd_ctl S identity bob keytab "$SVC_DIR/open.keytab" 2>&1); rc=$?
if [ $rc = 1 ] && echo "$out" | grep -q "UNPROTECTED KEYTAB: $SVC_DIR/open.keytab has mode 0640" &&
   fd_json S "j['identity'].startswith('funnel/site')" >/dev/null; then
	ok "funnelctl identity with a 0640 keytab: exit 1, identity unchanged: $out"
else
	not_ok "funnelctl identity with a 0640 keytab: exit $rc: $out; identity $(fd_json S "j['identity']")"
fi
chmod 0600 "$SVC_DIR/open.keytab"
out=$(fd_ctl S identity bob keytab "$SVC_DIR/open.keytab" 2>&1); rc=$?
if [ $rc = 0 ] && fd_json S "j['identity'].startswith('bob')" >/dev/null; then
	ok "funnelctl identity once it is 0600: accepted"
else
	not_ok "funnelctl identity once it is 0600: exit $rc: $out"
fi
svc_stop S TERM; rc=$?
sumline=$(grep -E 'ERROR SUMMARY' "$SVC_DIR/vg-S.txt" | tail -n 1 | sed 's/^==[0-9]*== //')
if [ $rc = 0 ] && grep -q 'ERROR SUMMARY: 0 errors' "$SVC_DIR/vg-S.txt"; then
	ok "valgrind: SIGTERM, exit 0, $sumline"
else
	not_ok "valgrind: exit $rc, ${sumline:-no summary}"
	grep -E -A 12 'Invalid|uninitialised|definitely lost|indirectly lost' \
		"$SVC_DIR/vg-S.txt" | head -n 40 | diag
fi
[ "$T_FAIL" = 0 ]
