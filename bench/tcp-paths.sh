#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark: TCP through Funnel (issue 14), in one VM run, against the
# other ways of carrying TCP between two sites.
#
# Bulk TCP: iperf3 (client on the provider site fc, server behind the
# hoster's service on fs; the client sends) for SECONDS, one flow and 16
# in parallel (iperf3 -P 16), through
#   direct     no relay: fc connects to fs's address
#   socat      a socat relay on each site (fc listens, one TCP
#              connection per flow between the sites, fs connects to
#              the server): two userspace hops, as Funnel and ssh have
#   ssh -L     OpenSSH's client on fc forwarding to a dropbear server on
#              fs (one SSH connection, a channel per flow, sealed:
#              chacha20-poly1305, what OpenSSH and dropbear agree on)
#   funnel     a TCP map on fc to a TCP service on fs, for each carrier
#              kind (tcp, sctp), data path (funneld --datapath kernel:
#              the TCP streams are user streams that funneld relays and
#              funnel.ko carries; --datapath user: funneld carries them
#              too) and plaintext or sealed (Kerberos, a throwaway KDC
#              in the VM; funneld seals TCP streams on both paths)
# UDP under a bulk flow: a paced UDP request/response stream (udp_pump
# rr, 50/s, one outstanding: bench/fair.sh's) through a UDP map on the
# same carrier, alone and while one bulk iperf3 flow runs through the
# TCP map, on the TCP carrier (bench/fair.sh has SCTP too); and the same
# directly between the sites (iperf3 and the UDP stream on the same
# veth).  The link is not shaped: the bulk flow is as fast as the two
# emulated CPUs allow, so what it saturates is the carrier's queues and
# the CPUs (bench/fair.sh has a shaped link).  p50 under the bulk flow
# often comes out below p50 alone (a busy emulated CPU seems to answer
# sooner than a halted one wakes): read p99, across rows.
#
# Prints one table (Mbit/s as iperf3's receiver counted them; UDP p50
# and p99 in microseconds alone and under the bulk flow, "p99 x" their
# ratio, and the bulk flow's rate meanwhile), then the ratios that
# compare the paths: kernel/user, Funnel/direct, Funnel/ssh -L,
# Funnel/socat, sealed/plaintext, sctp/tcp.  TCG emulates the CPUs
# (slowly, and AES-NI very slowly): read ratios between the rows of one
# run, never the absolute rates; rows swing with the host's load.  Not a
# test: it never fails on a number.  A "0" rate means the path did not
# work: the raw lines at the end show iperf3's last words.  The sanity
# lines show that the sealed rows had keys and the servers refused no
# frame.
#
#   bench/tcp-paths.sh [-k KVER] [-t SECONDS]     (on the host: boots the VM)
#   BENCH_BIN=DIR: run DIR's funneld and funnelctl (e.g. an older build)
#   BENCH_KINDS="tcp": the Funnel rows of these carrier kinds only
#
# With -t 5 the VM ran 460-475 s on 6.12 with another VM busy on the
# same two host cores; -t 4 saves about 25 s.
set -u
secs=5
if [ -z "${FUNNEL_TOP:-}" ]; then
	# shellcheck source-path=SCRIPTDIR source=lib.sh
	. "$(dirname "$0")/lib.sh"
	bench_boot bench/tcp-paths.sh 900 "$secs" "$@"
fi

secs=${BENCH_SECS:-5}
export PATH=$FUNNEL_TOP/build/tools:$FUNNEL_TOP/ctl/bin:$PATH
[ -n "${BENCH_BIN:-}" ] && export PATH=$BENCH_BIN:$PATH
# shellcheck source=lib.sh
. "$FUNNEL_TOP/bench/lib.sh"
# shellcheck source=../selftests/kmod/lib.sh
. "$FUNNEL_TOP/selftests/kmod/lib.sh"
# shellcheck source=../selftests/lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"
# shellcheck source=../selftests/lib/kdc.sh
. "$FUNNEL_TOP/selftests/lib/kdc.sh"
W=$(mktemp -d)
cleanup() { svc_stop_all; kdc_stop; sites_down >/dev/null 2>&1; rm -rf "$W"; }
trap cleanup EXIT
modprobe funnel
modprobe sctp
sites_up >/dev/null || exit 1
svc_init
SRV=5201	# iperf3's server on fs, every address

# --- the servers and relays ------------------------------------------------
ip netns exec fs udp_pump echo 127.0.0.1 7401 -q &
svc_register echo "$!"
ip netns exec fs udp_pump echo 10.99.0.2 7402 -q &
svc_register echo_direct "$!"
# socat: fc 127.0.0.1:8301 -> fs 10.99.0.2:9301 -> 127.0.0.1:$SRV
# (their stderr: iperf3's closing resets are no news)
ip netns exec fs socat TCP4-LISTEN:9301,bind=10.99.0.2,reuseaddr,fork TCP4:127.0.0.1:$SRV 2>>"$W/socat.log" &
svc_register socat_s "$!"
ip netns exec fc socat TCP4-LISTEN:8301,bind=127.0.0.1,reuseaddr,fork TCP4:10.99.0.2:9301 2>>"$W/socat.log" &
svc_register socat_c "$!"
# dropbear on fs:2222, root's authorized_keys on a tmpfs over /root in
# its own mount namespace (the guest's / is the host's, read-only);
# ssh -L on fc: 127.0.0.1:8302 -> (fs) 127.0.0.1:$SRV
dropbearkey -t ed25519 -f "$W/hostkey" >/dev/null 2>&1
ssh-keygen -q -t ed25519 -N '' -f "$W/id"
# shellcheck disable=SC2016
ip netns exec fs unshare -m sh -c 'mount -t tmpfs -o mode=700 tmpfs /root &&
	mkdir -m 700 /root/.ssh && cp "$1" /root/.ssh/authorized_keys &&
	exec /usr/sbin/dropbear -F -E -s -r "$2" -p 10.99.0.2:2222' \
	sh "$W/id.pub" "$W/hostkey" 2>"$W/dropbear.log" &
svc_register dropbear "$!"
svc_wait_port fs tcp 2222 10 || echo "bench: dropbear did not start: $(tail -n 3 "$W/dropbear.log")"
ip netns exec fc ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o LogLevel=error -i "$W/id" -p 2222 -N \
	-L 127.0.0.1:8302:127.0.0.1:$SRV root@10.99.0.2 2>"$W/ssh.log" &
svc_register ssh "$!"
svc_wait_port fc tcp 8302 20 || echo "bench: ssh -L did not start: $(tail -n 3 "$W/ssh.log")"
# the realm for the sealed carriers: funnel/s on fs, c on fc
if ! { kdc_start "$W/krb" 10.99.0.2 fs && kdc_addprinc funnel/s &&
       kdc_addprinc c && kdc_keytab "$W/s.kt" funnel/s &&
       kdc_keytab "$W/c.kt" c; } >"$W/kdc.out" 2>&1; then
	echo "bench: KDC set-up failed: sealed rows will be empty"; cat "$W/kdc.out"
fi

# --- measuring --------------------------------------------------------------
declare -A R	# R[ROW:one|p16|p50|p99|p50b|p99b|bulk]
ROWS=()

# bulk_start HOST PORT FLOWS SECONDS: a one-off iperf3 server on fs and
# its client on fc toward HOST:PORT, in the background; bulk_end LABEL
# waits for them and sets RATE to the receiver's Mbit/s (0 if none; not
# in a $(...): the subshell could not wait for them)
bulk_start() {
	ip netns exec fs iperf3 -s -1 -p $SRV >"$W/iperf-s.out" 2>&1 &
	BULK_S=$!
	svc_wait_port fs tcp $SRV 10 || echo "bench: iperf3 server did not start" >&2
	ip netns exec fc timeout $(($4 + 40)) iperf3 -c "$1" -p "$2" -P "$3" -t "$4" \
		-f m >"$W/iperf.out" 2>&1 &
	BULK_C=$!
}
bulk_end() { # LABEL
	wait "$BULK_C"
	kill "$BULK_S" 2>/dev/null; wait "$BULK_S" 2>/dev/null
	# the last receiver line: the [SUM] line with several flows
	RATE=$(awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") r = $(i - 1) }
		END { print r + 0 }' "$W/iperf.out")
	echo "  $1: $(grep -E 'receiver|error' "$W/iperf.out" | tail -n 1 | tr -s ' ')" >>"$W/raw"
}
bulk() { # LABEL HOST PORT FLOWS
	bulk_start "$2" "$3" "$4" "$secs"
	bulk_end "$1"
}
# udp_under_bulk ROW RR-ADDR RR-PORT BULK-HOST BULK-PORT: the UDP stream
# alone, then under one bulk flow
udp_under_bulk() {
	local row=$1 idle busy
	idle=$(bench_udp_rr fc "$2" "$3" "$secs")
	bulk_start "$4" "$5" 1 $((secs + 2))
	sleep 1
	busy=$(bench_udp_rr fc "$2" "$3" "$secs")
	bulk_end "$row bulk under UDP"
	R[$row:bulk]=$RATE
	R[$row:p50]=$(bench_field p50 "$idle") R[$row:p99]=$(bench_field p99 "$idle")
	R[$row:p50b]=$(bench_field p50 "$busy") R[$row:p99b]=$(bench_field p99 "$busy")
	echo "  $row udp alone: $idle" >>"$W/raw"
	echo "  $row udp under bulk: $busy" >>"$W/raw"
}
# tcp_row ROW HOST PORT: one flow and 16
tcp_row() {
	ROWS+=("$1")
	bulk "$1 1 flow" "$2" "$3" 1
	R[$1:one]=$RATE
	bulk "$1 16 flows" "$2" "$3" 16
	R[$1:p16]=$RATE
}

# funnel KIND DATAPATH plain|sealed N: a pair of funneld, TCP map
# 127.0.0.1:(8500+N) and UDP map 127.0.0.1:(8400+N) on fc, carrier on
# port 7600+N; the bulk rows, and the UDP rows if UDP is 1
funnel() {
	local kind=$1 dp=$2 mode=$3 n=$4 row="funnel $2 $3 $1" s c sc cc
	local lp=$((7600 + n)) tp=$((8500 + n)) up=$((8400 + n))
	s=s$n c=c$n
	if [ "$mode" = plain ]; then
		sc="plaintext
listen 10.99.0.2:$lp
service add bulk tcp 127.0.0.1:$SRV
service add e udp 127.0.0.1:7401"
		cc="plaintext
peer add s 10.99.0.2:$lp carrier $kind
map add tcp 127.0.0.1:$tp peer s service bulk
map add udp 127.0.0.1:$up peer s service e"
	else
		sc="identity funnel/s keytab $W/s.kt
listen 10.99.0.2:$lp
service add bulk tcp 127.0.0.1:$SRV allow c@FUNNEL.TEST
service add e udp 127.0.0.1:7401 allow c@FUNNEL.TEST"
		cc="identity c keytab $W/c.kt
peer add s 10.99.0.2:$lp carrier $kind principal funnel/s
map add tcp 127.0.0.1:$tp peer s service bulk
map add udp 127.0.0.1:$up peer s service e"
	fi
	if ! fd_start "$s" fs "$sc" --datapath "$dp" -l warning ||
	   ! fd_start "$c" fc "$cc" --datapath "$dp" -l warning ||
	   ! fd_wait "$c" 30 'len(j["maps"]) == 2 and all(m["state"] == "open" for m in j["maps"])'; then
		echo "bench: $row: the maps did not open: its numbers mean nothing"
		tail -n 3 "$SVC_DIR/$s.log" "$SVC_DIR/$c.log"
	fi
	PATHS[$row]=$(bench_carrier_path fc "$SVC_DIR/$c.sock")
	tcp_row "$row" 127.0.0.1 "$tp"
	[ "$UDP" = 1 ] && udp_under_bulk "$row" 127.0.0.1 "$up" 127.0.0.1 "$tp"
	SANITY+=("$row: $(fd_json "$c" "'client: bulk stream key generation %s, %d MB sent; ' % (stream('bulk').get('key_generation'), stream('bulk').get('stats', {}).get('tx-bytes', 0) >> 20)" 2>/dev/null)$(fd_json "$s" "'server: carrier rx-drop-auth %s, rx-drop-replay %s' % tuple(carrier().get('stats', {}).get(k) for k in ('rx-drop-auth', 'rx-drop-replay'))" 2>/dev/null)")
	fd_stop "$c"; fd_stop "$s"
}

declare -A PATHS
SANITY=()
echo "bench: $(uname -r), ${secs}s per point, iperf3 TCP 1 and 16 flows, UDP rr 50/s one outstanding, unshaped veth, $(nproc) CPUs (TCG)"
tcp_row direct 10.99.0.2 $SRV
PATHS[direct]="-"
udp_under_bulk direct 10.99.0.2 7402 10.99.0.2 $SRV
tcp_row socat 127.0.0.1 8301
PATHS[socat]="2 relays"
tcp_row "ssh -L" 127.0.0.1 8302
PATHS["ssh -L"]="ssh->dropbear"
n=0
for kind in ${BENCH_KINDS:-tcp sctp}; do
	UDP=0
	[ $kind = tcp ] && UDP=1	# (bench/fair.sh has UDP under bulk on SCTP)
	for dp in kernel user; do
		for mode in plain sealed; do
			n=$((n + 1))
			funnel $kind $dp $mode $n
		done
	done
done

# --- the table and the ratios -----------------------------------------------
printf '%-28s %-14s %8s %8s | %7s %7s %8s %8s %6s %8s\n' "path" "carrier" \
	"1 flow" "16 flows" "p50 us" "p99 us" "p50 bulk" "p99 bulk" "p99 x" "bulk"
for row in "${ROWS[@]}"; do
	printf '%-28s %-14s %8s %8s | %7s %7s %8s %8s %6s %8s\n' "$row" "${PATHS[$row]:-?}" \
		"${R[$row:one]:-}" "${R[$row:p16]:-}" "${R[$row:p50]:--}" "${R[$row:p99]:--}" \
		"${R[$row:p50b]:--}" "${R[$row:p99b]:--}" \
		"$([ -n "${R[$row:p99b]:-}" ] && bench_ratio "${R[$row:p99b]}" "${R[$row:p99]:-0}" 1 || echo -)" \
		"${R[$row:bulk]:--}"
done
echo "(rates in Mbit/s; p50/p99 of the UDP stream alone and under one bulk flow, in us)"
# ratio line: LABEL ROW-A ROW-B: A/B of 1 flow, 16 flows, and p99 under bulk
rl() {
	printf '%-44s 1 flow %5s  16 flows %5s' "$1" \
		"$(bench_ratio "${R[$2:one]:-}" "${R[$3:one]:-}")" \
		"$(bench_ratio "${R[$2:p16]:-}" "${R[$3:p16]:-}")"
	[ -n "${R[$2:p99b]:-}" ] && [ -n "${R[$3:p99b]:-}" ] &&
		printf '  p99 under bulk %5s' "$(bench_ratio "${R[$2:p99b]}" "${R[$3:p99b]}")"
	echo
}
for kind in tcp sctp; do
	for mode in plain sealed; do
		rl "kernel/user, $mode $kind:" "funnel kernel $mode $kind" "funnel user $mode $kind"
	done
done
for dp in kernel user; do
	for b in direct "ssh -L" socat; do
		rl "$dp/$b, plain tcp:" "funnel $dp plain tcp" "$b"
		rl "$dp/$b, sealed tcp:" "funnel $dp sealed tcp" "$b"
	done
done
for kind in tcp sctp; do
	for dp in kernel user; do
		rl "sealed/plain, $dp $kind:" "funnel $dp sealed $kind" "funnel $dp plain $kind"
	done
done
for dp in kernel user; do
	for mode in plain sealed; do
		rl "sctp/tcp, $dp $mode:" "funnel $dp $mode sctp" "funnel $dp $mode tcp"
	done
done
rl "ssh -L/socat:" "ssh -L" socat
for l in "${SANITY[@]}"; do echo "sanity: $l"; done
echo "raw lines:"
cat "$W/raw"
