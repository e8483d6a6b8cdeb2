# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The set-up of the relay tests (t_86_relay.sh, t_87_relay_ops.sh): three
# netns, provider fp -> gateway fg -> hoster fh, and a KDC in fg.
#   fp pg fd98::1 10.98.0.1  <->  fg gp fd98::2 10.98.0.2
#   fg gh 10.97.0.1          <->  fh hg 10.97.0.2 (fh reaches 10.98.0.0/24 via fg)
# Sourcing it loads funnel.ko and the AES-NI/GHASH drivers and sources
# services.sh and kdc.sh.
modprobe funnel
modprobe aesni_intel 2>/dev/null
modprobe ghash_clmulni_intel 2>/dev/null
# shellcheck source=../lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"
# shellcheck source=../lib/kdc.sh
. "$FUNNEL_TOP/selftests/lib/kdc.sh"

# shellcheck disable=SC2034 # used by the tests that source this
relay_R=FUNNEL.TEST

# relay_k NAME: the keytab of principal .../NAME (alice, gw, hoster...)
relay_k() { echo "$SVC_DIR/krb/$1.keytab"; }

relay_net_up() {
	local n
	for n in fp fg fh; do ip netns add $n || return 1; done
	ip link add pg netns fp type veth peer name gp netns fg || return 1
	ip link add gh netns fg type veth peer name hg netns fh || return 1
	ip -n fp addr add fd98::1/64 dev pg nodad
	ip -n fg addr add fd98::2/64 dev gp nodad
	ip -n fp addr add 10.98.0.1/24 dev pg
	ip -n fg addr add 10.98.0.2/24 dev gp
	ip -n fg addr add 10.97.0.1/24 dev gh
	ip -n fh addr add 10.97.0.2/24 dev hg
	for n in fp fg fh; do ip -n $n link set lo up; done
	ip -n fp link set pg up && ip -n fg link set gp up &&
	ip -n fg link set gh up && ip -n fh link set hg up || return 1
	# fh reaches the KDC at 10.98.0.2 through fg
	ip netns exec fg sysctl -qw net.ipv4.ip_forward=1
	ip -n fh route add 10.98.0.0/24 via 10.97.0.1
}

relay_net_down() {
	local n
	for n in fp fg fh; do
		ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null
	done
	sleep 0.3
	for n in fp fg fh; do ip netns del $n 2>/dev/null; done
	true
}

# relay_kdc PRINC...: svc_init, the KDC in fg at 10.98.0.2, each
# principal with its keytab $(relay_k NAME), NAME the part after the /
relay_kdc() {
	local p
	svc_init
	kdc_start "$SVC_DIR/krb" 10.98.0.2 fg || return 1
	for p in "$@"; do
		kdc_addprinc "$p" && kdc_keytab "$(relay_k "${p##*/}")" "$p" || return 1
	done
}

# relay_logs NAME...: the last lines of funneld NAME's logs
relay_logs() {
	local n
	for n in "$@"; do
		echo "# ---- $n.log (last 25 lines)"
		tail -n 25 "$SVC_DIR/$n.log" | sed 's/^/#   /'
	done
}
