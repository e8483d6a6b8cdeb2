# What the operator of a hosting gateway tries on its relays
# (Documentation/switchbox.md), on the set-up of t_86_relay.sh (relay.sh):
# provider fp (alice) -> gateway fg (funnel/gw) -> hoster fh
# (funnel/hoster), fp -> fg over SCTP, fg -> fh over TCP, funneld with the
# kernel data path and --keepalive 2 (dead after 3 unanswered PINGs, ~6 s).
#   1. the fg <-> fh link cut (netem loss 100% both ways): for 1 s, fg's
#      carrier to fh stays the same one (kernel id, reconnects) and dns
#      through fp answers again; for longer than the dead timeout, fg
#      declares fh dead, ends the relayed streams, fp's map is refused
#      ("next hop") and a dig through fp fails at once (no answer);
#      the link back: the carrier reconnects and dns answers again, with
#      the same funneld processes;
#   2. the KDC stopped: the open relayed streams answer on; a map fp adds
#      for relay dns2, whose next hop runs as funnel/gw2 (a principal with
#      no ticket yet), fails with the KDC named in fg's log, dns goes on;
#      the KDC back: that map opens by itself;
#   3. garbage to fg's listen port from another address of fp: TCP
#      (bad magic, bad version, a bogus frame header), an SCTP association
#      with garbage, UDP garbage to 9899 (SCTP over UDP): each closed
#      and logged with its reason (UDP: counted in SctpInPktDiscards),
#      nothing left in funnel.ko, dns through fp answers all along,
#      funneld in fg the same process;
#   then no WARN/BUG in dmesg, rmmod funnel, taint only O/E.
# shellcheck source=relay.sh
. "$FUNNEL_TOP/selftests/kmod/relay.sh"

t87_conf_h() {
	cat <<-EOF
	identity funnel/hoster keytab $(relay_k hoster)
	listen :9899
	service add dns udp 127.0.0.1:5353 allow funnel/gw@$relay_R
	service add dns2 udp 127.0.0.1:5353 allow funnel/gw2@$relay_R
	EOF
}

t87_conf_g() {
	cat <<-EOF
	identity funnel/gw keytab $(relay_k gw)
	listen [::]:9899
	peer add h 10.97.0.2 carrier tcp principal funnel/hoster
	relay add dns udp peer h allow alice@$relay_R
	relay add dns2 udp peer h allow alice@$relay_R identity funnel/gw2 keytab $(relay_k gw2)
	EOF
}

t87_conf_p() {
	cat <<-EOF
	identity alice keytab $(relay_k alice)
	peer add g [fd98::2] carrier sctp principal funnel/gw
	map add udp 127.0.0.1:5300 peer g service dns
	EOF
}

t87_ms() { echo $(( ${EPOCHREALTIME//[!0-9]/} / 1000 )); }
t87_s() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

# t87_cut on|off: netem loss 100% on both ends of the fg <-> fh link
t87_cut() {
	if [ "$1" = on ]; then
		tc -n fg qdisc add dev gh root netem loss 100% &&
		tc -n fh qdisc add dev hg root netem loss 100%
	else
		tc -n fg qdisc del dev gh root; tc -n fh qdisc del dev hg root
	fi
}

# t87_answers SECONDS: a dig through fp (port 5300) answers right within
# SECONDS; prints how long it took
t87_answers() {
	local t0 end a
	t0=$(t87_ms); end=$(( t0 + $1 * 1000 ))
	while :; do
		a=$(ip netns exec fp dig @127.0.0.1 -p 5300 +short +tries=1 +time=1 www.funnel.test A 2>&1)
		[ "$a" = "$SVC_DNS_ANSWER" ] && { t87_s $(( $(t87_ms) - t0 )); return 0; }
		[ "$(t87_ms)" -ge $end ] && { echo "no answer in $1 s (last: ${a//$'\n'/ })"; return 1; }
		sleep 0.2
	done
}

# t87_same NAME PID: funneld NAME is still process PID, alive
t87_same() { [ "$(svc_pid "$1")" = "$2" ] && [ -d "/proc/$2" ]; }

t87_dmesg_bad() { dmesg | grep -cE 'WARNING:|BUG:|Oops|general protection|KFENCE|UBSAN|refcount_t'; }

# t87_relay_streams: how many relay streams (kind 4) fg's funnel.ko has;
# fails (prints nothing) when funnel-nl does
t87_relay_streams() {
	local d
	d=$(ip netns exec fg funnel-nl raw --dump stream-get 2>&1) || return 1
	echo "$d" | grep -c 'stream-kind=4'
}

t87_link() {
	local gpid kid rec t0 t1 out a rc

	gpid=$(svc_pid G)
	out=$(t87_relay_streams)
	check "relay ops: fg's funnel.ko relays the streams to fh (${out:-funnel-nl failed} relay streams)" \
		test "${out:-0}" -ge 1
	# 1 s: shorter than the dead timeout, the carrier rides it out
	kid=$(fd_json G "carrier('h')['kernel_id']")
	rec=$(fd_json G "carrier('h')['reconnects']")
	t87_cut on
	sleep 1
	t87_cut off
	if out=$(t87_answers 15); then
		ok "relay ops: link fg <-> fh cut for 1 s: dns through fp answers again ${out}s after"
	else
		not_ok "relay ops: short cut: $out"; relay_logs G
	fi
	check "relay ops: short cut: fg's carrier to fh is the same (kernel id $kid, reconnects $rec)" \
		fd_json G "carrier('h')['state'] == 'up' and carrier('h')['kernel_id'] == $kid and carrier('h')['reconnects'] == $rec"
	check "relay ops: short cut: fp's dns map stayed open" fd_json P "map_(5300).get('state') == 'open'"

	# longer than the dead timeout: cut until fg gives fh up
	t87_cut on
	t0=$(t87_ms)
	if fd_wait G 20 "carrier('h').get('state') != 'up'"; then
		t1=$(t87_ms)
		ok "relay ops: link cut: fg declares fh dead in $(t87_s $((t1 - t0))) s: $(fd_json G "carrier('h').get('last_error')")"
	else
		not_ok "relay ops: link cut: fg's carrier to fh still up after 20 s"; relay_logs G
	fi
	check "relay ops: link cut: fg's log says why (dead peer)" \
		grep -q 'h: carrier down: dead peer' "$SVC_DIR/G.log"
	check "relay ops: link cut: fg has no relayed stream left, in funneld and in funnel.ko" \
		fd_wait G 10 "not [s for c in j['carriers'] for s in c['streams']]"
	out=$(t87_relay_streams)
	check "relay ops: link cut: no relay stream in fg's funnel.ko (${out:-funnel-nl failed})" \
		test "$out" = 0
	if fd_wait P 15 "map_(5300).get('state') in ('refused', 'closed') and 'next hop' in map_(5300).get('reason', '')"; then
		ok "relay ops: link cut: fp's dns map $(fd_json P "map_(5300)['state'] + ': ' + map_(5300)['reason']")"
	else
		not_ok "relay ops: link cut: fp's map: $(fd_json P "map_(5300)")"
	fi
	t0=$(t87_ms)
	a=$(ip netns exec fp dig @127.0.0.1 -p 5300 +short +tries=1 +time=1 www.funnel.test A 2>&1); rc=$?
	t1=$(t87_ms)
	if [ $rc != 0 ] && ! echo "$a" | grep -qF "$SVC_DNS_ANSWER" && [ $((t1 - t0)) -lt 4000 ]; then
		ok "relay ops: link cut: a dig through fp gets no answer, in $(t87_s $((t1 - t0))) s (no hang): ${a//$'\n'/ }"
	else
		not_ok "relay ops: link cut: dig through fp: exit $rc in $((t1 - t0)) ms: $a"
	fi
	# the check for "answers again" below, while the link is still cut
	if out=$(t87_answers 3); then
		not_ok "relay ops: link cut: dns answers through a cut link ($out s)?"
	else
		ok "relay ops: link cut: the 'answers again' check fails while the link is cut ($out)"
	fi
	t87_cut off
	t0=$(t87_ms)
	if out=$(t87_answers 40); then
		ok "relay ops: link back: dns through fp -> fg -> fh answers again after ${out} s"
	else
		not_ok "relay ops: link back: $out"; relay_logs P G H
	fi
	check "relay ops: link back: fg's carrier to fh reconnected (reconnects $(fd_json G "carrier('h')['reconnects']"), kernel id $kid -> $(fd_json G "carrier('h')['kernel_id']"))" \
		fd_json G "carrier('h')['state'] == 'up' and carrier('h')['reconnects'] > $rec and carrier('h')['kernel_id'] != $kid"
	check "relay ops: link back: fp's dns map open, 20 digs answered" \
		eval "fd_wait P 10 \"map_(5300).get('state') == 'open'\" && svc_dig_many fp 127.0.0.1 5300 20"
	check "relay ops: link: funneld in fg is the same process ($gpid)" \
		t87_same G "$gpid"
}

t87_kdc() {
	local out t0 r
	kdc_down
	if out=$(t87_answers 5); then
		ok "relay ops: KDC stopped: the open relayed stream answers (${out} s)"
	else
		not_ok "relay ops: KDC stopped: dns through fp: $out"
	fi
	fd_ctl P map add udp 127.0.0.1:5302 peer g service dns2 >/dev/null 2>&1
	# its next hop runs as funnel/gw2, which has no ticket yet
	if fd_wait P 20 "map_(5302).get('state') in ('refused', 'closed')" &&
	   fd_json P "'cannot start its GSS-API context' in map_(5302).get('reason', '')" >/dev/null &&
	   grep -q 'relay dns2.*KDC' "$SVC_DIR/G.log"; then
		ok "relay ops: KDC stopped: fp's new map for relay dns2 fails: $(fd_json P "map_(5302)['state'] + ': ' + map_(5302)['reason']"); fg: $(grep -o 'relay dns2.*KDC[^(]*' "$SVC_DIR/G.log" | tail -n 1 | cut -c1-160)"
	else
		not_ok "relay ops: KDC stopped: fp's map to dns2: $(fd_json P "map_(5302)")"; relay_logs G
	fi
	check "relay ops: KDC stopped: the other stream goes on (20 digs through fp's dns map)" \
		eval "fd_json P \"map_(5300).get('state') == 'open'\" && svc_dig_many fp 127.0.0.1 5300 20"
	kdc_up
	t0=$(t87_ms)
	# the map's retry backoff reaches 30 s x 5/4 (config.h): 60 s
	if fd_wait P 60 "map_(5302).get('state') == 'open'" &&
	   out=$(svc_dig_many fp 127.0.0.1 5302 10); then
		ok "relay ops: KDC back: fp's dns2 map opens by itself in $(t87_s $(( $(t87_ms) - t0 ))) s, digs answered ($out)"
	else
		r=$(fd_json P "map_(5302)")
		not_ok "relay ops: KDC back: dns2 map: $r"; relay_logs P G
	fi
}

# t87_junk tcp|sctp: from fp's 10.98.0.3 / fd98::3, garbage to fg's port
# 9899; prints a line per try: NAME closed|reset|open SECONDS
t87_junk() {
	ip netns exec fp python3 - "$1" <<-'EOF'
	import os, socket, sys, time
	PRE = b"FUNNEL\x02\x00"
	def stream(name, fam, proto, src, dst, data):
	    s = socket.socket(fam, socket.SOCK_STREAM, proto)
	    s.bind((src, 0))
	    s.settimeout(8)
	    t = time.time()
	    try:
	        s.connect((dst, 9899))
	        s.sendall(data)
	        while s.recv(4096):
	            pass
	        how = "closed"
	    except (ConnectionResetError, BrokenPipeError):
	        how = "reset"
	    except socket.timeout:
	        how = "open"
	    except OSError as e:
	        how = "error-" + str(e.errno)
	    print(name, how, "%.1f" % (time.time() - t), flush=True)
	    s.close()
	rnd = b"\x00" + os.urandom(200)
	if sys.argv[1] == "tcp":
	    v4 = (socket.AF_INET, 0, "10.98.0.3", "10.98.0.2")
	    stream("tcp-random", *v4, rnd)
	    stream("tcp-version", *v4, b"FUNNEL\x09\x00" + os.urandom(40))
	    # a frame length below the header's size, then junk
	    stream("tcp-frame", *v4, PRE + b"\x00\x01" + os.urandom(60))
	    sys.exit(0)
	v6 = (socket.AF_INET6, socket.IPPROTO_SCTP, "fd98::3", "fd98::2")
	# random messages: funnel.ko drops them (malformed)
	stream("sctp-random", *v6, rnd)
	# a well-formed CTRL frame of stream 0 whose body is no GSS-API token
	stream("sctp-ctrl", *v6, b"\x00\x00\x01\x00\x00\x00\x00\x00" + os.urandom(100))
	u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	u.bind(("10.98.0.3", 0))
	for i in range(20):
	    u.sendto(os.urandom(12 + i * 7), ("10.98.0.2", 9899))
	print("udp sent 20", flush=True)
	EOF
}

# shellcheck disable=SC2016 # awk's $1 and $2
t87_snmp() { ip netns exec fg awk -v k="$1" '$1 == k { print $2 }' /proc/net/sctp/snmp; }

t87_garbage() {
	local gpid out dig kid n disc0 disc1 uport lines jp mal known
	gpid=$(svc_pid G)
	kid=$(fd_json G "[c['kernel_id'] for c in j['carriers'] if c['incoming']][0]")
	ip -n fp addr add 10.98.0.3/24 dev pg
	ip -n fp addr add fd98::3/64 dev pg nodad
	uport=$(ip netns exec fg sysctl -n net.sctp.udp_port)
	disc0=$(t87_snmp SctpInPktDiscards)
	lines=$(wc -l <"$SVC_DIR/G.log")
	svc_dig_many fp 127.0.0.1 5300 40 >"$SVC_DIR/dig-during" 2>&1 &
	dig=$!
	out=$(t87_junk tcp 2>&1)
	# the SCTP association with random messages lives until fg's
	# handshake timeout: funnel.ko counts what it drops meanwhile
	t87_junk sctp >"$SVC_DIR/junk-sctp" 2>&1 &
	jp=$!
	mal=""
	known=" $kid $(fd_json G "carrier('h')['kernel_id']") "
	for n in $(seq 60); do
		# one carrier a paragraph; fp's and fh's carriers left out
		# shellcheck disable=SC2016 # awk's $0
		mal=$(ip netns exec fg funnel-nl raw --dump carrier-get 2>/dev/null |
			awk -v known="$known" 'BEGIN { RS = "" }
			match($0, /carrier-id=[0-9]+/) {
				id = substr($0, RSTART + 11, RLENGTH - 11)
				if (index(known, " " id " "))
					next
				if (match($0, /stats\.rx-drop-(malformed|unknown-type)=[1-9][0-9]*/)) {
					print "carrier " id ": " substr($0, RSTART, RLENGTH)
					exit
				}
			}')
		[ -n "$mal" ] && break
		sleep 0.1
	done
	wait $jp
	out+=$'\n'$(cat "$SVC_DIR/junk-sctp")
	while read -r n; do echo "# junk: $n"; done <<<"$out"
	wait $dig
	check "relay ops: garbage: sctp-random: funnel.ko counts the messages it drops on that carrier (${mal:-nothing counted})" \
		test -n "$mal"
	check "relay ops: garbage: dns through fp answered during it ($(cat "$SVC_DIR/dig-during"))" \
		grep -q 'good 40 of 40' "$SVC_DIR/dig-during"
	for n in tcp-random tcp-version tcp-frame sctp-random sctp-ctrl; do
		if echo "$out" | grep -qE "^$n (closed|reset) [0-7]\.[0-9]$"; then
			ok "relay ops: garbage: $n: fg ends the connection ($(echo "$out" | grep "^$n" | cut -d' ' -f2-) s)"
		else
			not_ok "relay ops: garbage: $n: $(echo "$out" | grep "^$n")"
		fi
	done
	# each logged with its reason
	tail -n +"$((lines + 1))" "$SVC_DIR/G.log" >"$SVC_DIR/G.junk"
	check "relay ops: garbage: fg logs bad magic from 10.98.0.3" \
		grep -q '10\.98\.0\.3.*carrier failed: bad preamble: bad-magic' "$SVC_DIR/G.junk"
	check "relay ops: garbage: fg logs the bad version from 10.98.0.3" \
		grep -q '10\.98\.0\.3.*carrier failed: bad preamble: bad-version' "$SVC_DIR/G.junk"
	check "relay ops: garbage: fg logs the bogus frame from 10.98.0.3: $(grep '10\.98\.0\.3.*carrier failed: ' "$SVC_DIR/G.junk" | grep -v 'bad preamble' | sed 's/.*carrier failed: //' | head -n 1)" \
		grep -q "10\.98\.0\.3.*carrier failed: .*the peer sent a frame length below the header's size" "$SVC_DIR/G.junk"
	n=$(grep -ci 'fd98::3.*carrier failed: ' "$SVC_DIR/G.junk")
	check "relay ops: garbage: fg logs both sctp associations from fd98::3 ($(grep -i 'fd98::3.*carrier failed: ' "$SVC_DIR/G.junk" | sed 's/.*carrier failed: //' | tr '\n' ';'))" \
		test "$n" = 2
	if [ "$uport" = 9899 ]; then
		disc1=$(t87_snmp SctpInPktDiscards)
		check "relay ops: garbage: 20 UDP datagrams to 9899 (SCTP over UDP) discarded by the kernel (SctpInPktDiscards $disc0 -> $disc1)" \
			test $((disc1 - disc0)) -ge 20
	else
		ok "relay ops: garbage: fg has no SCTP over UDP (net.sctp.udp_port $uport): no UDP trial # SKIP"
	fi
	check "relay ops: garbage: funnel.ko in fg holds fp's carrier and fh's only" \
		test "$(ip netns exec fg funnel-nl raw --dump carrier-get 2>&1 | grep -c 'carrier-id=')" = 2
	check "relay ops: garbage: fp's carrier at fg is the same ($kid), dns map open" \
		eval "fd_json G \"[c['kernel_id'] for c in j['carriers'] if c['incoming']] == [$kid]\" && fd_json P \"map_(5300).get('state') == 'open'\""
	check "relay ops: garbage: dns through fp answers after it" svc_dig_many fp 127.0.0.1 5300 20
	check "relay ops: garbage: funneld in fg is the same process ($gpid)" \
		t87_same G "$gpid"
	fd_ctl G stats 2>&1 | grep '^daemon' | sed 's/^/# fg: /'
}

t87_main() {
	local n t
	# SCTP over UDP on fg's port too, so the UDP garbage trial runs
	if relay_kdc funnel/gw funnel/gw2 funnel/hoster alice &&
	   modprobe sctp && ip netns exec fg sysctl -qw net.sctp.udp_port=9899 &&
	   svc_dnsmasq dns fh 127.0.0.1 5353 &&
	   fd_start H fh "$(t87_conf_h)" --datapath kernel --keepalive 2 -n hoster &&
	   fd_start G fg "$(t87_conf_g)" --datapath kernel --keepalive 2 -n gw &&
	   fd_start P fp "$(t87_conf_p)" --datapath kernel --keepalive 2 -n provider &&
	   fd_wait P 40 "map_(5300).get('state') == 'open'" &&
	   fd_json G "carrier('h').get('transport') == 'tcp' and [c['transport'] + '/' + c['datapath'] for c in j['carriers'] if c['incoming']] == ['sctp/kernel']" >/dev/null &&
	   t=$(t87_answers 10); then
		ok "relay ops: fp -> fg (sctp) -> fh (tcp), KDC in fg, dns answers through the relay (${t} s)"
	else
		not_ok "relay ops: set-up"; relay_logs P G H
		return
	fi
	t87_link
	t87_kdc
	t87_garbage
	for n in P G H; do
		svc_stop $n TERM || not_ok "relay ops: funneld $n exit $?"
	done
	check "relay ops: no kernel carrier left once the daemons stopped" module_idle
}

t87_bad0=$(t87_dmesg_bad)
if relay_net_up; then
	t87_main
else
	not_ok "relay ops: three netns joined by veth"
fi
svc_stop_all
kdc_stop
relay_net_down
n=$(t87_dmesg_bad)
if [ "$n" = "$t87_bad0" ]; then
	ok "relay ops: no WARNING/BUG/oops in dmesg"
else
	not_ok "relay ops: dmesg: $((n - t87_bad0)) WARNING/BUG lines"
	dmesg | grep -E -A 12 'WARNING:|BUG:|Oops' | tail -n 40 | sed 's/^/#   /'
fi
if module_idle && rmmod funnel; then
	ok "relay ops: rmmod funnel"
else
	not_ok "relay ops: rmmod funnel: refcnt $(cat /sys/module/funnel/refcnt 2>/dev/null)"
fi
n=$(cat /proc/sys/kernel/tainted)
check "relay ops: taint $n: O/E at most" test $(( n & ~(4096 | 8192) )) = 0
modprobe funnel
