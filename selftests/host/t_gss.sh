#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# GSS-API contexts and key derivation (ctl/funneld/sec/gss.c, Documentation/
# security.md) against a throwaway MIT KDC in a temp dir: realm
# FUNNEL.TEST, principals funnel/hoster, alice and bob, their keytabs.
# selftests/tools/gss_pair runs initiator and acceptor in one process.
# Checks: both sides derive the same 72 bytes, other ones for another
# generation or stream or context; the names each side sees; flags and
# lifetime; the allow list; the ccache and host-based-name variants; and
# the failures (wrong keytab, missing keytab, unknown target, a required
# flag not requested, KDC down) with a clear message and exit 1, no
# crash.  Every gss_pair run is under valgrind (gss.supp): no error, no
# leak, no unexplained reachable block.
#
# usage: selftests/host/t_gss.sh     (root not needed)
# Prints TAP ("ok N - ...", then "1..N") and a summary; exit 1 on failure.
# SVC_KEEP=1 keeps the temp dir (KDC, keytabs, valgrind logs).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"

t_begin "gss"

GP=$top/selftests/tools/gss_pair
SUPP=$top/selftests/host/gss.supp
REALM=FUNNEL.TEST
[ -x "$GP" ] || { not_ok "prerequisite: $GP not built (make ctl)"; exit 1; }
for p in /usr/sbin/krb5kdc /usr/sbin/kdb5_util /usr/sbin/kadmin.local kinit ktutil valgrind ss; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p not found (krb5-kdc, krb5-admin-server, krb5-user)"; exit 1; }
done

svc_init
K=$SVC_DIR/krb
export KRB5_TRACE=/dev/null

# a realm with three principals, each with its own keytab; bob's tickets
# live 5 minutes at most.  kdc_start points KRB5_CONFIG, KRB5_KDC_PROFILE,
# KRB5CCNAME, KRB5_KTNAME, KRB5_CLIENT_KTNAME and KRB5RCACHEDIR into $K:
# nothing of the user's Kerberos setup is read or written
make_realm() {
	kdc_start "$K" 127.0.0.1 || return 1
	kdc_addprinc funnel/hoster && kdc_addprinc alice && kdc_addprinc bob "5 minutes" &&
	kdc_keytab "$K/hoster.keytab" funnel/hoster &&
	kdc_keytab "$K/alice.keytab" alice &&
	kdc_keytab "$K/bob.keytab" bob || return 1
	# a keytab for carol, whom the KDC does not know
	printf 'addent -password -p carol@%s -k 1 -e aes256-cts-hmac-sha1-96\ncarol-pw\nwkt %s\nquit\n' \
		$REALM "$K/carol.keytab" | ktutil >/dev/null 2>&1
	[ -s "$K/carol.keytab" ]
}

t0=$(date +%s%N)
if make_realm; then
	ok "kdc: realm $REALM on 127.0.0.1:$KDC_PORT, principals funnel/hoster alice bob, keytabs ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
else
	not_ok "kdc: set up realm $REALM and start krb5kdc (kdc_start, kdc_addprinc, kdc_keytab)"
	exit 1
fi

# ---- gss_pair under valgrind: every run, its log checked at the end
VG=(valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all
	--error-exitcode=99 --num-callers=40 --suppressions="$SUPP")
VG_N=0
OUT=""
RC=0
# gp ARGS...: run gss_pair; OUT = stdout and stderr, RC = exit status
gp() {
	VG_N=$((VG_N + 1))
	OUT=$("${VG[@]}" --log-file="$SVC_DIR/vg-$VG_N.txt" "$GP" "$@" 2>&1)
	RC=$?
	echo "gss_pair $*" >"$SVC_DIR/vg-$VG_N.cmd"
}
field() { echo "$OUT" | awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }'; }
key()   { echo "$OUT" | awk -v s="$1" -v d="$2" '$1 == s && $2 == d { print $3; exit }'; }

# expect_fail NAME PATTERN ARGS...: gss_pair exits 1 and says PATTERN
expect_fail() {
	local name=$1 pat=$2
	shift 2
	gp "$@"
	if [ $RC = 1 ] && echo "$OUT" | grep -qE -- "$pat"; then
		ok "$name (exit 1: $(echo "$OUT" | grep -E -- "$pat" | head -n 1 | cut -c1-220))"
	else
		not_ok "$name (exit $RC, wanted 1 and /$pat/)"
		echo "$OUT" | diag
	fi
}

AK=$K/alice.keytab BK=$K/bob.keytab HK=$K/hoster.keytab

# ---- the happy path
gp -c "$AK" -k "$HK" -d 1:1 -d 1:2 -d 2:1 -d 0:1
if [ $RC = 0 ]; then
	ok "happy path: alice -> funnel/hoster established in $(field tokens) tokens"
else
	not_ok "happy path: gss_pair -c alice.keytab -k hoster.keytab (exit $RC)"
	echo "$OUT" | diag
fi
same=0
for sg in 1:1 1:2 2:1 0:1; do
	i=$(key initiator "$sg") a=$(key acceptor "$sg")
	[ ${#i} = 144 ] && [ "$i" = "$a" ] && same=$((same + 1))
done
if [ $same = 4 ]; then
	ok "keys: both sides derive the same 72 bytes for stream:gen 1:1 1:2 2:1 0:1 (1:1 i->a key $(key initiator 1:1 | cut -c1-16)...)"
else
	not_ok "keys: initiator and acceptor must derive the same 72 bytes ($same of 4 agree)"
	echo "$OUT" | grep -E '^(initiator|acceptor) ' | diag
fi
k11=$(key initiator 1:1) k12=$(key initiator 1:2) k21=$(key initiator 2:1) k01=$(key initiator 0:1)
if [ -n "$k11" ] && [ "$k11" != "$k12" ]; then
	ok "keys: generation 2 gives other bytes than generation 1 (stream 1)"
else
	not_ok "keys: generation 2 must differ from generation 1"
fi
if [ -n "$k11" ] && [ "$k11" != "$k21" ] && [ "$k11" != "$k01" ] && [ "$k21" != "$k01" ]; then
	ok "keys: streams 0, 1 and 2 get different bytes (generation 1)"
else
	not_ok "keys: streams 0, 1, 2 must get different bytes"
fi
if [ -n "$k11" ] && [ "${k11:0:72}" != "${k11:72:72}" ]; then
	ok "keys: the two directions differ (i->a key+salt != a->i key+salt)"
else
	not_ok "keys: the two directions must differ"
fi
if echo "$OUT" | grep -qx 'label 1:2 "funnel v1 stream 1 gen 2"'; then
	ok "label: stream 1 generation 2 is the PRF input \"funnel v1 stream 1 gen 2\""
else
	not_ok "label: wanted \"funnel v1 stream 1 gen 2\""; echo "$OUT" | grep '^label' | diag
fi
if [ "$(field accepted)" = "alice@$REALM" ] && [ "$(field target)" = "funnel/hoster@$REALM" ]; then
	ok "names: the acceptor sees alice@$REALM, the initiator funnel/hoster@$REALM"
else
	not_ok "names: accepted '$(field accepted)', target '$(field target)'"
fi
# MUTUAL 0x2, REPLAY 0x4, CONF 0x10, INTEG 0x20
read -r _ f_i _ f_a <<<"$(field flags)"
if [ -n "${f_i:-}" ] && [ $(( f_i & 0x36 )) = $((0x36)) ] && [ $(( f_a & 0x36 )) = $((0x36)) ]; then
	ok "flags: mutual, replay, conf, integ on both sides (initiator $f_i, acceptor $f_a)"
else
	not_ok "flags: initiator ${f_i:-?} acceptor ${f_a:-?} lack one of mutual, replay, conf, integ"
fi
read -r _ li _ la <<<"$(field lifetime)"
if [ "${li:-0}" -gt 35000 ] && [ "$li" -le 36000 ] && [ "${la:-0}" -ge "$li" ]; then
	ok "lifetime: alice's context is reported to last ${li}s (initiator) / ${la}s (acceptor, + clock skew); max_life 10h"
else
	not_ok "lifetime: initiator ${li:-?} acceptor ${la:-?}, wanted about 36000"
fi

# ---- another context: fresh session key, other bytes
gp -c "$AK" -k "$HK" -d 1:1
if [ $RC = 0 ] && [ -n "$k11" ] && [ "$(key initiator 1:1)" != "$k11" ] &&
   [ "$(key initiator 1:1)" = "$(key acceptor 1:1)" ]; then
	ok "keys: a second context derives other bytes for the same stream and generation"
else
	not_ok "keys: a second context must derive other bytes (exit $RC)"; echo "$OUT" | diag
fi

# ---- bob: short ticket lifetime, allow lists
gp -c "$BK" -k "$HK" -a "bob@$REALM"
read -r _ li _ la <<<"$(field lifetime)"
if [ $RC = 0 ] && [ "$(field accepted)" = "bob@$REALM" ] && [ "${li:-0}" -gt 200 ] && [ "$li" -le 300 ]; then
	ok "lifetime: bob (maxlife 5 min) gets a context of ${li}s: the ticket bounds it (rekey input)"
else
	not_ok "lifetime: bob's context: exit $RC, lifetime ${li:-?} (wanted 200..300)"; echo "$OUT" | diag
fi
gp -c "$AK" -k "$HK" -a "carol@$REALM" -a "alice@$REALM"
if [ $RC = 0 ] && [ "$(field accepted)" = "alice@$REALM" ]; then
	ok "allow list: alice is in [carol, alice]: accepted"
else
	not_ok "allow list: alice must be accepted by [carol, alice] (exit $RC)"; echo "$OUT" | diag
fi
expect_fail "allow list: bob refused by [alice]" \
	"acceptor: principal bob@$REALM is not authorized" -c "$BK" -k "$HK" -a "alice@$REALM"
expect_fail "allow list: exact match only (ALICE@$REALM does not allow alice)" \
	"principal alice@$REALM is not authorized" -c "$AK" -k "$HK" -a "ALICE@$REALM"

# ---- variants: initiator from the ccache, host-based target name
if kinit -k -t "$AK" alice >/dev/null 2>&1; then
	gp -k "$HK"
	if [ $RC = 0 ] && [ "$(field accepted)" = "alice@$REALM" ] &&
	   [ "$(key initiator 1:1)" = "$(key acceptor 1:1)" ]; then
		ok "ccache: no client keytab: alice's ccache (kinit) is used"
	else
		not_ok "ccache: initiator from the ccache (exit $RC)"; echo "$OUT" | diag
	fi
	kdestroy >/dev/null 2>&1
else
	not_ok "ccache: kinit -k alice failed"
fi
gp -c "$BK" -k "$HK" -t funnel@hoster
if [ $RC = 0 ] && [ "$(field accepted)" = "bob@$REALM" ]; then
	ok "host-based target funnel@hoster reaches funnel/hoster ($(field target))"
else
	not_ok "host-based target funnel@hoster (exit $RC)"; echo "$OUT" | diag
fi
gp -c "$BK" -k "$HK"
if [ $RC = 0 ] && [ "$(field accepted)" = "bob@$REALM" ]; then
	ok "client keytab wins over a ccache of another principal: bob, not alice"
else
	not_ok "bob's client keytab must give bob (exit $RC)"; echo "$OUT" | diag
fi

# ---- failures: exit 1, a message that says what is wrong
expect_fail "wrong keytab: acceptor with bob's key refuses the ticket" \
	"acceptor: gss_accept_sec_context: .*funnel/hoster@$REALM not found in keytab" -c "$AK" -k "$BK"
expect_fail "missing acceptor keytab file" \
	"acceptor: keytab $K/nosuch.keytab: No such file or directory" -c "$AK" -k "$K/nosuch.keytab"
expect_fail "missing client keytab file" \
	"initiator: client keytab $K/nosuch.keytab: No such file or directory" -c "$K/nosuch.keytab" -k "$HK"
expect_fail "client keytab of a principal the KDC does not know" \
	"initiator: initiator credentials from client keytab: .*carol@$REALM.* not found in Kerberos database" \
	-c "$K/carol.keytab" -k "$HK"
expect_fail "unknown target principal" \
	"initiator: gss_init_sec_context: .*funnel/nosuch@$REALM not found in Kerberos database" \
	-c "$AK" -k "$HK" -t funnel/nosuch
expect_fail "mutual authentication not requested: context refused" \
	"context refused: required flag missing: mutual \(GSS_C_MUTUAL_FLAG\)" -c "$AK" -k "$HK" -x mutual
expect_fail "replay detection not requested: context refused" \
	"context refused: required flag missing: replay \(GSS_C_REPLAY_FLAG\)" -c "$AK" -k "$HK" -x replay

# ---- KDC down
kdc_down
s=$(date +%s)
expect_fail "KDC down: clear error, no crash" "Cannot contact any KDC for realm '$REALM'" -c "$AK" -k "$HK"
el=$(( $(date +%s) - s ))
if [ $el -le 10 ]; then ok "KDC down: gave up after ${el}s"; else not_ok "KDC down: took ${el}s"; fi

# ---- valgrind over every run
bad=0
for i in $(seq "$VG_N"); do
	if [ -s "$SVC_DIR/vg-$i.txt" ]; then
		bad=$((bad + 1))
		echo "# ---- $(cat "$SVC_DIR/vg-$i.cmd")"
		head -n 40 "$SVC_DIR/vg-$i.txt" | diag
	fi
done
if [ $bad = 0 ] && [ "$VG_N" -gt 0 ]; then
	ok "valgrind: $VG_N gss_pair runs (success and every failure): no error, no leak, nothing reachable beyond gss.supp's library internals"
else
	not_ok "valgrind: $bad of $VG_N runs reported errors or leaks"
fi
[ "$T_FAIL" = 0 ]
