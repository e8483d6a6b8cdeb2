# TCP services through funneld on the kernel path, sealed with Kerberos,
# with real tools (issue 14's tests in a guest, on every kernel); the
# sizes in brackets are make check-long's:
#  - ssh through a map: an interactive command, and scp of 1 MiB [200 MiB;
#    64 MiB on a kernel with the memory checkers]
#    with its checksum compared, while DNS queries on another stream of
#    the carrier keep answering;
#  - a download read slowly by the client (socat | pv -L: 3 MiB at 256
#    KiB/s [64 MiB at 2 MiB/s]) arrives intact while another download on
#    the same stream reads 2 MiB [8 MiB] at full speed, and the client's
#    funneld holds no more than a window of the slow flow (--tcp-window
#    1 MiB; the client site's TCP send buffers are capped at 256 KiB so
#    that the slow flow's bytes wait in funneld, not in the kernel);
#  - 300 [1000] concurrent TCP flows through one map, every echo intact,
#    the peak RSS of both funneld printed and bounded;
#  - a man in the middle of the carrier (selftests/tools/mitm.py) drops
#    and forges [and injects] frames and truncates a flow [too]: each is
#    counted by the server, the stream closed (integrity) and the client
#    reset;
#  - the carrier killed mid-transfer (the server's funneld killed with
#    SIGKILL): the client sees a reset (ECONNRESET), not an EOF.
modprobe funnel
modprobe aesni_intel 2>/dev/null
modprobe ghash_clmulni_intel 2>/dev/null
# shellcheck source=../lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"
# shellcheck source=../lib/kdc.sh
. "$FUNNEL_TOP/selftests/lib/kdc.sh"

T76_PROBE=$FUNNEL_TOP/selftests/tools/tcpprobe.py
T76_MITM=$FUNNEL_TOP/selftests/tools/mitm.py
T76_SSH=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes)
if [ "${FUNNEL_CHECK_LONG:-}" = 1 ]; then
	# scp runs at about 0.4 MiB/s under the memory checkers (-d)
	T76_SCP_MIB=200
	grep -q slub_debug /proc/cmdline && T76_SCP_MIB=64
	T76_SLOW_MIB=64 T76_RATE=2m T76_FAST_MIB=8 T76_FLOWS=1000
	T76_CASES="drop forge inject end"
else
	T76_SCP_MIB=1 T76_SLOW_MIB=3 T76_RATE=256k T76_FAST_MIB=2 T76_FLOWS=300
	T76_CASES="drop forge"
fi

t76_logs() {
	local n
	for n in "$@"; do
		echo "# ---- funneld $n"
		grep -v ' debug: ' "$SVC_DIR/$n.log" 2>/dev/null | tail -n 12 | sed 's/^/#   /'
	done
}

t76_conf_s() {
	cat <<-EOF
	identity funnel/site-s keytab $SVC_DIR/site-s.keytab
	listen :9899
	service add dns udp 127.0.0.1:5353 allow alice@FUNNEL.TEST
	service add ssh tcp 127.0.0.1:2222 allow alice@FUNNEL.TEST
	service add dl tcp 127.0.0.1:7911 allow alice@FUNNEL.TEST
	service add blast tcp 127.0.0.1:7913 allow alice@FUNNEL.TEST
	service add echo tcp 127.0.0.1:7912 allow alice@FUNNEL.TEST
	EOF
}

# the carrier goes through the man in the middle (127.0.0.1:9898 in fc);
# a map per man-in-the-middle case (a case closes its stream)
t76_conf_c() {
	local i=7920 k
	cat <<-EOF
	identity alice keytab $SVC_DIR/alice.keytab
	peer add s 127.0.0.1:9898 carrier tcp principal funnel/site-s
	map add udp 127.0.0.1:5300 peer s service dns
	map add tcp 127.0.0.1:2200 peer s service ssh
	map add tcp 127.0.0.1:7911 peer s service dl
	map add tcp 127.0.0.1:7913 peer s service blast
	map add tcp 127.0.0.1:7912 peer s service echo
	EOF
	for k in $T76_CASES; do
		echo "map add tcp 127.0.0.1:$i peer s service echo"
		i=$((i + 1))
	done
}

# t76_sshd: dropbear in fs on 127.0.0.1:2222 taking $SVC_DIR/id's key for
# root; /root is a tmpfs of its own mount namespace (the guest's root is
# the host's, read-only)
t76_sshd() {
	ssh-keygen -q -t ed25519 -N '' -f "$SVC_DIR/id" >/dev/null &&
		dropbearkey -t ed25519 -f "$SVC_DIR/hostkey" >/dev/null 2>&1 || return 1
	ip netns exec fs unshare -m sh -c "mount -t tmpfs -o mode=700 none /root &&
		mkdir -m 700 /root/.ssh && cp $SVC_DIR/id.pub /root/.ssh/authorized_keys &&
		exec dropbear -F -E -s -r $SVC_DIR/hostkey -p 127.0.0.1:2222 -P $SVC_DIR/dropbear.pid" \
		2>"$SVC_DIR/dropbear.log" &
	svc_register dropbear $!
	svc_wait_port fs tcp 2222 10
}

# t76_dns_loop FILE: a query through the dns map every 0.2 s until FILE.stop
# exists; FILE gets "good N of M"
t76_dns_loop() {
	local good=0 n=0
	while [ ! -e "$1.stop" ]; do
		n=$((n + 1))
		[ "$(svc_dig fc 127.0.0.1 5300)" = "$SVC_DNS_ANSWER" ] && good=$((good + 1))
		sleep 0.2
	done
	echo "good $good of $n" >"$1"
}

# t76_arm ACTION STREAM [NTH]: the man in the middle's command, once armed
t76_arm() {
	local f=$SVC_DIR/act-$1-$2
	ip netns exec fc python3 "$T76_MITM" ctl 9897 "$@" >"$f" &
	t76_actpid=$!
	for _ in $(seq 100); do grep -q armed "$f" && return 0; sleep 0.1; done
	return 1
}

t76_main() {
	local out pid f a b rss_c rss_s sid before after i slow fast t0 t1 t2 peak

	svc_init
	if kdc_start "$SVC_DIR/krb" 10.99.0.2 fs &&
	   kdc_addprinc funnel/site-s && kdc_addprinc alice &&
	   kdc_keytab "$SVC_DIR/site-s.keytab" funnel/site-s &&
	   kdc_keytab "$SVC_DIR/alice.keytab" alice; then
		ok "tcpsvc: KDC in netns fs, keytabs for funnel/site-s and alice"
	else
		not_ok "tcpsvc: KDC up with principals and keytabs"
		return
	fi
	head -c $((T76_SCP_MIB << 20)) /dev/urandom >"$SVC_DIR/scp"
	head -c $((T76_SLOW_MIB << 20)) /dev/urandom >"$SVC_DIR/dl"
	ulimit -n 8192
	if svc_dnsmasq dns fs 127.0.0.1 5353 && t76_sshd; then
		ip netns exec fs socat TCP-LISTEN:7911,bind=127.0.0.1,fork,reuseaddr \
			OPEN:"$SVC_DIR/dl",rdonly 2>/dev/null &
		svc_register dl $!
		ip netns exec fs python3 "$T76_PROBE" echoserver 7912 &
		svc_register echo $!
		ip netns exec fs python3 "$T76_PROBE" blast 7913 $((64 << 20)) &
		svc_register blast $!
		ip netns exec fc python3 -u "$T76_MITM" proxy 9898 10.99.0.2 9899 9897 \
			>"$SVC_DIR/mitm.log" 2>&1 &
		svc_register mitm $!
		ok "tcpsvc: dnsmasq, dropbear, a file server, an echo, a blast server, the man in the middle"
	else
		not_ok "tcpsvc: server site's services up"
		sed 's/^/#   /' "$SVC_DIR/dropbear.log" 2>/dev/null
		return
	fi
	for i in 7912 7913; do svc_wait_port fs tcp $i 10; done
	svc_wait_port fc tcp 9898 10

	if fd_start S fs "$(t76_conf_s)" --datapath kernel -n site-s &&
	   fd_start C fc "$(t76_conf_c)" --datapath kernel -n site-c --tcp-window 1048576 &&
	   fd_wait C 20 "carrier('s').get('state') == 'up' and all(m['state'] == 'open' for m in j['maps'])"; then
		ok "tcpsvc: carrier up through the man in the middle, $(fd_json C "len(j['maps'])") sealed maps open, kernel path"
	else
		not_ok "tcpsvc: carrier up and maps open"
		fd_ctl C show 2>&1 | sed 's/^/#   /'; t76_logs C S
		return
	fi
	check "tcpsvc: both carriers on funnel.ko, every stream sealed" fd_json C \
		"carrier('s')['datapath'] == 'kernel' and all(s.get('key_generation') == 1 for s in carrier('s')['streams'])"

	# ---- ssh, scp, DNS on another stream meanwhile
	echo "# t76: $SECONDS s"
	out=$(ip netns exec fc timeout 30 ssh "${T76_SSH[@]}" -i "$SVC_DIR/id" -p 2200 root@127.0.0.1 'echo through-funnel; uname -r' 2>&1)
	check "tcpsvc: ssh through the map runs a command (${out//$'\n'/ })" \
		test "$out" = "through-funnel
$(uname -r)"
	f=$SVC_DIR/dnsloop
	rm -f "$f" "$f.stop"
	t76_dns_loop "$f" &
	pid=$!
	t0=$(date +%s.%N)
	ip netns exec fc timeout 900 scp -O -q "${T76_SSH[@]}" -i "$SVC_DIR/id" -P 2200 \
		"$SVC_DIR/scp" root@127.0.0.1:"$SVC_DIR/scp.got" 2>"$SVC_DIR/scp.err"
	t1=$(date +%s.%N)
	touch "$f.stop"
	wait $pid
	a=$(sha256sum <"$SVC_DIR/scp" | cut -c1-16)
	b=$(sha256sum <"$SVC_DIR/scp.got" 2>/dev/null | cut -c1-16)
	check "tcpsvc: scp of $T76_SCP_MIB MiB through the map, sha256 $a = ${b:-none} ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)" \
		test "$a" = "$b"
	out=$(cat "$f")
	check "tcpsvc: DNS on another stream answered every query during the scp ($out)" \
		sh -c "echo '$out' | awk '\$2 == \$4 && \$2 >= 1 { ok = 1 } END { exit !ok }'"

	# ---- a slow reader (pv -L) and a fast one on one stream
	echo "# t76: $SECONDS s"
	ip netns exec fc sysctl -q -w net.ipv4.tcp_wmem="4096 65536 262144"
	f=$SVC_DIR/slow
	( s=$(date +%s.%N)
	  ip netns exec fc timeout 300 socat -u TCP:127.0.0.1:7911,rcvbuf=65536 - |
		pv -q -L $T76_RATE | sha256sum | cut -c1-16 >"$f"
	  echo "$s $(date +%s.%N)" >"$f.t" ) &
	slow=$!
	sleep 1
	t0=$(date +%s.%N)
	fast=$(ip netns exec fc timeout 60 socat -u TCP:127.0.0.1:7911 - 2>/dev/null |
		head -c $((T76_FAST_MIB << 20)) | sha256sum | cut -c1-16)
	t1=$(date +%s.%N)
	check "tcpsvc: a fast reader on the same stream meanwhile: $T76_FAST_MIB MiB intact in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s" \
		test "$fast" = "$(head -c $((T76_FAST_MIB << 20)) "$SVC_DIR/dl" | sha256sum | cut -c1-16)"
	wait $slow
	read -r t0 t2 <"$f.t"
	check "tcpsvc: ... done while the slow reader still read (done at +$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)" \
		awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(a < b) }'
	check "tcpsvc: the slow reader (pv -L $T76_RATE): $T76_SLOW_MIB MiB intact in $(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.1f", b - a }') s" \
		test "$(cat "$f")" = "$(sha256sum <"$SVC_DIR/dl" | cut -c1-16)"
	# the slow flow's bytes wait in funneld, a window at most (without
	# flow control most of the 3 MiB would: the kernel holds ~0.4 MiB)
	peak=$(fd_json C "j['tcp_buffers']['queued_peak']")
	check "tcpsvc: the slow flow's bytes waited in the client's funneld, one 1 MiB window at most (peak queued $peak bytes)" \
		test "${peak:-0}" -gt 0 -a "${peak:-0}" -le $((1 << 20))

	# ---- many concurrent flows
	echo "# t76: $SECONDS s"
	out=$(ip netns exec fc timeout 180 python3 "$T76_PROBE" many 127.0.0.1 7912 $T76_FLOWS 4000 2>&1)
	rss_c=$(awk '/VmHWM/ { print $2 }' "/proc/$(svc_pid C)/status")
	rss_s=$(awk '/VmHWM/ { print $2 }' "/proc/$(svc_pid S)/status")
	check "tcpsvc: $T76_FLOWS concurrent TCP flows through one map, every echo intact ($out)" \
		sh -c "echo '$out' | grep -q '^ok $T76_FLOWS of $T76_FLOWS'"
	check "tcpsvc: peak RSS of funneld: client $((rss_c / 1024)) MiB, server $((rss_s / 1024)) MiB (under 128 MiB each)" \
		test "$rss_c" -lt 131072 -a "$rss_s" -lt 131072
	check "tcpsvc: every flow gone afterwards, the windows given back" fd_wait C 20 \
		"sum(s.get('nflows', 0) for s in carrier('s')['streams']) == 0 and j['tcp_buffers']['reserved'] == 0"

	# ---- the man in the middle: client to server frames tampered with
	echo "# t76: $SECONDS s"
	i=7920
	for k in $T76_CASES; do
		case $k in
		drop) a=rx-drop-replay ;;
		forge) a=rx-drop-auth ;;
		*) a=rx-drop-no-key ;;
		esac
		sid=$(fd_json C "map_($i).get('stream')")
		before=$(fd_json S "carrier()['stats']['$a']")
		t76_arm "$k" "$sid" 3
		out=$(ip netns exec fc timeout 60 python3 "$T76_PROBE" echo 127.0.0.1 $i 100000 trickle)
		wait "$t76_actpid"
		for _ in $(seq 30); do
			grep -q "stream $sid closed (integrity)" "$SVC_DIR/S.log" && break
			sleep 0.1
		done
		after=$(fd_json S "carrier()['stats']['$a']")
		case $out in
		"reset got "*" prefix ok")
			if [ "$after" -gt "$before" ] &&
			   grep -q "stream $sid closed (integrity)" "$SVC_DIR/S.log"; then
				ok "tcpsvc: mitm $k ($(tail -n 1 "$SVC_DIR/act-$k-$sid")): $a $before -> $after, stream closed (integrity), client: $out"
			else
				not_ok "tcpsvc: mitm $k: $a $before -> $after, client: $out"
				grep "stream $sid" "$SVC_DIR/S.log" | tail -n 5 | sed 's/^/#   /'
			fi ;;
		*) not_ok "tcpsvc: mitm $k: the client is reset and read only what it sent: $out" ;;
		esac
		i=$((i + 1))
	done

	# ---- the carrier killed mid-transfer
	echo "# t76: $SECONDS s"
	f=$SVC_DIR/cut
	ip netns exec fc timeout 60 python3 "$T76_PROBE" read 127.0.0.1 7913 $((64 << 20)) 1000000 >"$f" &
	pid=$!
	# once the download runs (its flow open, bytes through)
	fd_wait C 20 "stream('blast').get('nflows') == 1 and stream('blast')['stats']['rx-bytes'] > 1000000"
	svc_stop S KILL
	wait $pid
	out=$(cat "$f")
	if echo "$out" | grep -q '^reset got [1-9]'; then
		ok "tcpsvc: the server's funneld killed mid-transfer: the client is reset ($out)"
	else
		not_ok "tcpsvc: the server's funneld killed mid-transfer: the client is reset ($out)"
		fd_ctl C show 2>&1 | sed 's/^/#   /'; t76_logs C S
	fi
	check "tcpsvc: the client sees its carrier down" fd_wait C 10 "carrier('s').get('state') != 'up'"
	fd_stop C
}

if sites_up; then
	t76_main
else
	not_ok "tcpsvc: two netns joined by veth"
fi
svc_stop_all
kdc_stop
sites_down
