#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark: a hosting gateway's relay (Documentation/switchbox.md) in
# funnel.ko vs in funneld, in one VM run.  Three netns: provider fp ->
# gateway fg -> hoster fh, TCP carriers, funneld on all three with the
# kernel data path on fp and fh; the gateway runs --datapath kernel
# (funnel.ko relays: relay streams paired across its two carriers) or
# --datapath user (funneld relays), plaintext and sealed (Kerberos, a
# throwaway KDC in fg).  Each row: udp_pump request/response with 16
# outstanding (answers/s), and a one-way blast (datagrams/s received at
# the hoster's sink), 64-byte datagrams; then the ratios kernel/user.
# The rows run BENCH_ROUNDS times (default 2), interleaved, and each
# keeps its best round (a busy host slows single rows of a run: the
# rounds show how much).
# TCG emulates the CPUs: read the ratios between rows of one run, never
# the absolute rates.  Not a test: it never fails on a number.
#
#   bench/relay.sh [-k KVER] [-t SECONDS]     (on the host: boots the VM)
set -u
secs=5
if [ -z "${FUNNEL_TOP:-}" ]; then
	# shellcheck source-path=SCRIPTDIR source=lib.sh
	. "$(dirname "$0")/lib.sh"
	bench_boot bench/relay.sh 900 "$secs" "$@"
fi

secs=${BENCH_SECS:-5}
export PATH=$FUNNEL_TOP/build/tools:$FUNNEL_TOP/ctl/bin:$PATH
# shellcheck source=lib.sh
. "$FUNNEL_TOP/bench/lib.sh"
# shellcheck source=../selftests/lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"
# shellcheck source=../selftests/lib/kdc.sh
. "$FUNNEL_TOP/selftests/lib/kdc.sh"
W=$(mktemp -d)
net_down() {
	local n
	for n in fp fg fh; do ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null; done
	sleep 0.3
	for n in fp fg fh; do ip netns del $n 2>/dev/null; done
}
cleanup() { svc_stop_all; kdc_stop; net_down; rm -rf "$W"; }
trap cleanup EXIT
modprobe funnel
for n in fp fg fh; do ip netns add $n; ip -n $n link set lo up; done
ip link add pg netns fp type veth peer name gp netns fg
ip link add gh netns fg type veth peer name hg netns fh
ip -n fp addr add 10.98.0.1/24 dev pg
ip -n fg addr add 10.98.0.2/24 dev gp
ip -n fg addr add 10.97.0.1/24 dev gh
ip -n fh addr add 10.97.0.2/24 dev hg
for l in "fp pg" "fg gp" "fg gh" "fh hg"; do set -- $l; ip -n "$1" link set "$2" up; done
ip netns exec fg sysctl -qw net.ipv4.ip_forward=1
ip -n fh route add 10.98.0.0/24 via 10.97.0.1
svc_init
ip netns exec fh udp_pump echo 127.0.0.1 7401 -q &
svc_register echo $!
if ! { kdc_start "$W/krb" 10.98.0.2 fg && kdc_addprinc funnel/gw &&
       kdc_addprinc funnel/hoster && kdc_addprinc alice &&
       kdc_keytab "$W/gw.kt" funnel/gw && kdc_keytab "$W/h.kt" funnel/hoster &&
       kdc_keytab "$W/a.kt" alice; } >"$W/kdc.out" 2>&1; then
	echo "bench: KDC set-up failed: sealed rows will be empty"; cat "$W/kdc.out"
fi

declare -A R
ROWS=()

# row DATAPATH plain|sealed: three funneld, the gateway on DATAPATH
row() {
	local dp=$1 mode=$2 name="$1 $2" h g p out sink
	if [ "$mode" = plain ]; then
		h="plaintext"; g="plaintext"; p="plaintext"
	else
		h="identity funnel/hoster keytab $W/h.kt"
		g="identity funnel/gw keytab $W/gw.kt"
		p="identity alice keytab $W/a.kt"
	fi
	h+=$'\nlisten :9899\nservice add echo udp 127.0.0.1:7401\nservice add sink udp 127.0.0.1:7402'
	g+=$'\nlisten :9899\npeer add h 10.97.0.2 carrier tcp principal funnel/hoster\nrelay add echo udp peer h allow alice@FUNNEL.TEST\nrelay add sink udp peer h allow alice@FUNNEL.TEST'
	p+=$'\npeer add g 10.98.0.2 carrier tcp principal funnel/gw\nmap add udp 127.0.0.1:7400 peer g service echo\nmap add udp 127.0.0.1:7500 peer g service sink'
	case " ${ROWS[*]} " in *" $name "*) ;; *) ROWS+=("$name") ;; esac
	if ! fd_start H fh "$h" --datapath kernel -l warning ||
	   ! fd_start G fg "$g" --datapath "$dp" -l warning ||
	   ! fd_start P fp "$p" --datapath kernel -l warning ||
	   ! fd_wait P 40 "all(m.get('state') == 'open' for m in j['maps'])"; then
		echo "bench: $name: maps did not open"
		tail -n 5 "$SVC_DIR/G.log"
		svc_stop P; svc_stop G; svc_stop H
		return
	fi
	out=$(ip netns exec fp udp_pump rr 127.0.0.1 7400 -t "$secs" -w 16 -T 2000 2>&1 | tail -n 1)
	keep "$name:rr" "$(bench_field rate "$out")"
	R[$name:lost]=$(( ${R[$name:lost]:-0} + $(bench_field lost "$out") ))
	ip netns exec fh udp_pump sink 127.0.0.1 7402 -t $((secs + 2)) >"$W/sink" 2>&1 &
	sink=$!
	sleep 0.5
	ip netns exec fp udp_pump blast 127.0.0.1 7500 -t "$secs" >/dev/null 2>&1
	wait "$sink"	# the sink alone: the echo server runs on
	# datagrams the sink received over the blast's seconds
	keep "$name:ow" "$(awk -v s="$secs" '{ for (i = 1; i < NF; i++) if ($i == "received") n = $(i + 1) } END { printf "%d", n / s }' "$W/sink")"
	R[$name:fd]=$(fd_json G "[v['relayed_frames'] for v in j['services'] if v['name'] == 'echo'][0]")
	svc_stop P; svc_stop G; svc_stop H
}

# keep KEY VALUE: R[KEY] is the best round's value, R[KEY:all] each one's
keep() {
	R[$1:all]="${R[$1:all]:+${R[$1:all]}/}${2:-0}"
	[ "${2:-0}" -gt "${R[$1]:-0}" ] && R[$1]=${2:-0}
	return 0
}

for ((round = 0; round < ${BENCH_ROUNDS:-2}; round++)); do
	for m in plain sealed; do
		for dp in kernel user; do row $dp $m; done
	done
done

printf '%-16s %12s %8s %14s %16s   %s\n' "gateway" "rr/s (w16)" "lost" "one-way pps" "funneld relayed" "rounds rr; one-way"
for r in "${ROWS[@]}"; do
	printf '%-16s %12s %8s %14s %16s   %s\n' "$r" "${R[$r:rr]:-}" "${R[$r:lost]:-}" "${R[$r:ow]:-}" "${R[$r:fd]:-}" "${R[$r:rr:all]:-}; ${R[$r:ow:all]:-}"
done
for m in plain sealed; do
	echo "ratio $m kernel/user: rr $(bench_ratio "${R[kernel $m:rr]:-0}" "${R[user $m:rr]:-0}"), one-way $(bench_ratio "${R[kernel $m:ow]:-0}" "${R[user $m:ow]:-0}")"
done
echo "ratio kernel sealed/plain: rr $(bench_ratio "${R[kernel sealed:rr]:-0}" "${R[kernel plain:rr]:-0}"), one-way $(bench_ratio "${R[kernel sealed:ow]:-0}" "${R[kernel plain:ow]:-0}")"
