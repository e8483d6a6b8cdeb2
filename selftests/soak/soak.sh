#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Soak of funnel.ko and funneld together, in the guest (make soak runs
# it in a VM: selftests/vm/run -- selftests/soak/soak.sh).  Two sites
# (netns fc and fs), a throwaway KDC, funneld on both with the kernel
# path and Kerberos, DNS (dnsmasq) and a UDP echo behind sealed streams.
# For SOAK_SECS (300) at once:
#   - a UDP flood of DNS queries from spoofed sources (random 127/8
#     addresses and ports, SOAK_PPS a second) into the client's dns map:
#     every source is a new flow on both sites, so the flow caps and the
#     eviction of idle flows are hit all the time;
#   - request/response echoes through the sealed echo stream, rekeyed
#     every SOAK_SOFT frames (--key-soft-limit) and by 70-second tickets;
#   - the carrier reset (ss -K) at 1/5, 1/2 and 4/5 of the run;
#   - a KDC outage from 2/5 to 3/5: the KDC's port drops every packet,
#     so rekeys and the reconnect after the middle reset wait on it.
# Every 10 s it samples both funneld's memory, the kernel's slab, funnel's
# flow count and how long `funnelctl show` takes to answer.  At the end:
# DNS and the echo answer again, nothing is lost in a last quiet run,
# the daemons stop, funnel.ko holds no carrier and no flow, rmmod works
# and the slab is back near where it was before modprobe.
#
# Prints TAP lines and a summary of peaks; exit status 1 if a check failed.
set -u
: "${FUNNEL_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
export PATH=$FUNNEL_TOP/ctl:$FUNNEL_TOP/build/tools:$PATH
SOAK_SECS=${SOAK_SECS:-300}
SOAK_PPS=${SOAK_PPS:-2000}
SOAK_SOFT=${SOAK_SOFT:-3000}
FAILS=0
# shellcheck source-path=SCRIPTDIR source=../kmod/lib.sh
. "$FUNNEL_TOP/selftests/kmod/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/kdc.sh
. "$FUNNEL_TOP/selftests/lib/kdc.sh"

kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
slab0=$(kb Slab)
modprobe funnel || { not_ok "soak: modprobe funnel"; exit 1; }
modprobe aesni_intel 2>/dev/null
modprobe ghash_clmulni_intel 2>/dev/null

k() { echo "$SVC_DIR/krb/$1.keytab"; }
svc_init
sites_up >/dev/null || not_ok "soak: two netns joined by veth"
if ! { kdc_start "$SVC_DIR/krb" 10.99.0.2 fs && kdc_addprinc funnel/site-s &&
       kdc_addprinc alice 70 && kdc_keytab "$(k site-s)" funnel/site-s &&
       kdc_keytab "$(k alice)" alice; }; then
	not_ok "soak: KDC up"; exit 1
fi
svc_dnsmasq dns fs 127.0.0.1 5353 || { not_ok "soak: dnsmasq"; exit 1; }
ip netns exec fs udp_pump echo 127.0.0.1 7401 -q &
svc_register echo $!

conf_s="identity funnel/site-s keytab $(k site-s)
listen :9899
service add dns udp 127.0.0.1:5353 allow alice@FUNNEL.TEST
service add echo udp 127.0.0.1:7401 allow alice@FUNNEL.TEST"
conf_c="identity alice keytab $(k alice)
peer add s 10.99.0.2 carrier tcp principal funnel/site-s
map add udp 127.0.0.1:5300 peer s service dns
map add udp 127.0.0.1:7400 peer s service echo"
up='carrier("s").get("state") == "up" and all(m["state"] == "open" for m in j["maps"])'
if fd_start S fs "$conf_s" --datapath kernel -n site-s &&
   fd_start C fc "$conf_c" --datapath kernel -n site-c --key-soft-limit "$SOAK_SOFT" &&
   fd_wait C 30 "$up"; then
	ok "soak: sealed carrier up, dns and echo maps open on the kernel path"
else
	not_ok "soak: carrier up"; fd_ctl C show | sed 's/^/#   /'
	exit 1
fi

# the flood: DNS queries from spoofed 127/8 sources, SOAK_PPS a second
flood() {
	exec ip netns exec fc python3 - "$SOAK_PPS" <<'PY'
import random, signal, socket, struct, sys, time
pps = int(sys.argv[1])
def bye(*_):
    el = time.time() - t0
    print("# flood: %d datagrams from spoofed sources in %.0f s, %.0f/s" % (sent, el, sent / el))
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
q = b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x06funnel\x04test\x00\x00\x01\x00\x01"
dst = socket.inet_aton("127.0.0.1")
sent, t0 = 0, time.time()
while True:
    src = bytes([127, random.randint(1, 254), random.randint(0, 255), random.randint(1, 254)])
    body = struct.pack("!H", random.randint(0, 65535)) + q
    udp = struct.pack("!HHHH", random.randint(1024, 65535), 5300, 8 + len(body), 0) + body
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    s.sendto(ip + udp, ("127.0.0.1", 0))
    sent += 1
    ahead = sent / pps - (time.time() - t0)
    if ahead > 0:
        time.sleep(ahead)
PY
}

# a KDC port that reads and never answers (UDP and TCP)
blackhole() {
	ip netns exec fs python3 - "$KDC_PORT" <<'PY' &
import select, socket, sys
port = int(sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
u.bind(("10.99.0.2", port))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("10.99.0.2", port))
t.listen(64)
held = []
while True:
    r, _, _ = select.select([u, t], [], [])
    if u in r:
        u.recv(65536)
    if t in r:
        held.append(t.accept()[0])
PY
	bh_pid=$!
}

rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
hwm() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status" 2>/dev/null; }

flood &
flood_pid=$!
: >"$SVC_DIR/rr.log"
(
	while :; do
		ip netns exec fc udp_pump rr 127.0.0.1 7400 -t 10 -w 4 -T 1000 -S 2>&1 |
			tail -n 1 >>"$SVC_DIR/rr.log"
	done
) &
rr_pid=$!

pc=$(svc_pid C) ps_=$(svc_pid S)
t_reset1=$((SOAK_SECS / 5)) t_out=$((SOAK_SECS * 2 / 5))
t_reset2=$((SOAK_SECS / 2)) t_back=$((SOAK_SECS * 3 / 5))
t_reset3=$((SOAK_SECS * 4 / 5))
start=$SECONDS
peak_flows=0 peak_slab=0 peak_show=0 dns_ok=0 dns_n=0 events=""
bh_pid=""
while [ $((SECONDS - start)) -lt "$SOAK_SECS" ]; do
	el=$((SECONDS - start))
	for t in $t_reset1 $t_reset2 $t_reset3; do
		if [ "$el" -ge "$t" ] && [[ $events != *"r$t "* ]]; then
			events="$events r$t "
			n=$(ip netns exec fc ss -K -t dst 10.99.0.2 dport = 9899 | grep -c ESTAB)
			echo "# ${el}s: carrier reset ($n sockets killed)"
		fi
	done
	if [ "$el" -ge "$t_out" ] && [[ $events != *"out "* ]]; then
		events="$events out "
		kdc_down
		blackhole
		echo "# ${el}s: KDC outage: its port drops every packet"
	fi
	if [ "$el" -ge "$t_back" ] && [[ $events != *"back "* ]]; then
		events="$events back "
		kill "$bh_pid" 2>/dev/null; wait "$bh_pid" 2>/dev/null
		kdc_up && echo "# ${el}s: KDC back"
	fi
	t0=$(date +%s%N)
	timeout 10 ip netns exec fc funnelctl -s "$SVC_DIR/C.sock" show >/dev/null 2>&1
	t1=$(date +%s%N)
	timeout 10 ip netns exec fs funnelctl -s "$SVC_DIR/S.sock" show >/dev/null 2>&1
	t2=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 )); ms2=$(( (t2 - t1) / 1000000 ))
	[ "$ms2" -gt "$ms" ] && ms=$ms2
	[ "$ms" -gt "$peak_show" ] && peak_show=$ms
	fc_=$(nlget fc flow-count info-get) fs_=$(nlget fs flow-count info-get)
	f=$(( ${fc_:-0} + ${fs_:-0} ))
	[ "$f" -gt "$peak_flows" ] && peak_flows=$f
	s=$(( $(kb Slab) - slab0 ))
	[ "$s" -gt "$peak_slab" ] && peak_slab=$s
	a=$(ip netns exec fc dig @127.0.0.1 -p 5300 +short +tries=1 +time=2 www.funnel.test 2>/dev/null)
	dns_n=$((dns_n + 1))
	[ "$a" = "$SVC_DNS_ANSWER" ] && dns_ok=$((dns_ok + 1))
	echo "# ${el}s: show ${ms} ms, flows fc ${fc_:-?} fs ${fs_:-?}, slab +${s} KiB, funneld rss C $(rss "$pc") S $(rss "$ps_") KiB, dns ${a:-none}"
	sleep 8
done
kill "$flood_pid" 2>/dev/null
kill "$rr_pid" 2>/dev/null
pkill -f "udp_pump rr 127.0.0.1 7400" 2>/dev/null
wait "$flood_pid" "$rr_pid" 2>/dev/null
[ -n "$bh_pid" ] && kill "$bh_pid" 2>/dev/null

# ---- after: the daemons answer, traffic flows again, nothing lost quietly
hc=$(hwm "$pc") hs=$(hwm "$ps_")
if svc_alive "$pc" && svc_alive "$ps_" && [ "$peak_show" -lt 2000 ]; then
	ok "soak: both funneld alive, show answered within $peak_show ms at worst"
else
	not_ok "soak: funneld alive and responsive (worst show $peak_show ms)"
fi
if fd_wait C 60 "$up"; then
	ok "soak: carrier up and maps open after the run (reconnects $(fd_json C 'carrier("s").get("reconnects")'))"
else
	not_ok "soak: carrier up after the run"; fd_ctl C show | sed 's/^/#   /'
fi
out=$(ip netns exec fc udp_pump rr 127.0.0.1 7400 -t 5 -w 4 -T 1000 -S 2>&1 | tail -n 1)
case $out in
*" lost 0 "*) ok "soak: quiet echo after the run: nothing lost ($out)" ;;
*) not_ok "soak: quiet echo after the run: $out" ;;
esac
check "soak: dns answers after the run" \
	test "$(ip netns exec fc dig @127.0.0.1 -p 5300 +short +tries=2 +time=2 www.funnel.test)" = "$SVC_DNS_ANSWER"
gen=$(fd_json C "stream('echo').get('key_generation', 0)")
evc=$(for n in fc fs; do ip netns exec $n funnel-nl raw --dump stream-get; done |
	sed -n 's/^.*flows-evicted=//p' | awk '{ e += $1 } END { print e + 0 }')
echo "# rr runs (10 s each): $(awk '{ g += $7; l += $11 } END { printf "%d good, %d lost", g, l }' "$SVC_DIR/rr.log")"
sed 's/^/#   /' "$SVC_DIR/rr.log"
echo "# peaks: funneld VmHWM C ${hc} KiB S ${hs} KiB; flows ${peak_flows} (caps: carrier $(cat /sys/module/funnel/parameters/carrier_flows_max), netns $(cat /sys/module/funnel/parameters/netns_flows_max)); slab +${peak_slab} KiB; show ${peak_show} ms; dns ${dns_ok}/${dns_n} during the run; echo key generation ${gen}; flows evicted (both sites) ${evc:-?}"

fd_stop C; fd_stop S
sleep 1
n=$(( $(ip netns exec fc funnel-nl raw --dump carrier-get | grep -c carrier-id) +
      $(ip netns exec fs funnel-nl raw --dump carrier-get | grep -c carrier-id) ))
f=$(( $(nlget fc flow-count info-get) + $(nlget fs flow-count info-get) ))
check "soak: daemons stopped: no carrier ($n) and no flow ($f) left in funnel.ko" \
	test "$n" = 0 -a "$f" = 0
svc_stop_all
kdc_stop
sites_down
sleep 2
check "soak: rmmod funnel" rmmod funnel
s=$(( $(kb Slab) - slab0 ))
echo "# slab after rmmod: ${s} KiB over the baseline before modprobe (peak +${peak_slab})"
if [ "$s" -lt 4096 ]; then
	ok "soak: slab back within 4 MiB of the baseline (+$s KiB)"
else
	not_ok "soak: slab +$s KiB after rmmod"
fi
echo "# taint $(cat /proc/sys/kernel/tainted)"
exit $((FAILS > 0))
