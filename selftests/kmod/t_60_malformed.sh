# Malformed input from raw TCP peers against a registered carrier: each
# case has its documented outcome (Documentation/wire-format.md section
# 13), the counters and the carrier-down notifications show it, and the
# kernel stays clean (the runner checks dmesg, taint and the last rmmod).
modprobe funnel
W=$(mktemp -d)
sites_up || not_ok "malformed: two netns joined by veth"
ip netns exec fs udp_pump echo 127.0.0.1 7201 -q &
ip netns exec fs funnel-nl monitor 0 120 >"$W/mon.out" 2>&1 &
wait_files 5 "$W/mon.out" && sleep 0.3
peer=$FUNNEL_TOP/selftests/kmod/rawpeer.py
port=7010

# serve NAME: a carrier that accepts one raw peer on the next port
serve() {
	port=$((port + 1))
	tun "$1" fs --listen 10.99.0.2:$port --udp-connect 1:127.0.0.1:7201
	# listening before the peer connects (a fixed sleep lost the race
	# under load, and the wait for the server then never ended)
	for _ in $(seq 100); do
		ip netns exec fs ss -Hltn "( sport = :$port )" 2>/dev/null | grep -q . && break
		sleep 0.1
	done
}

# bad preamble: refused before the ULP is attached
serve pre
ip netns exec fc python3 "$peer" 10.99.0.2 $port bad-preamble
wait "$pid_pre"; rc=$?
if [ $rc != 0 ] && grep -q 'bad preamble' "$W/pre.out"; then
	ok "malformed: a bad preamble is refused, no carrier is made"
else
	not_ok "malformed: a bad preamble is refused (exit $rc)"
	sed 's/^/#   /' "$W/pre.out"
fi

# frames that are dropped and counted, then one that goes through
serve drops
ip netns exec fc python3 "$peer" 10.99.0.2 $port drops "$W/drops.id" >"$W/drops.py" 2>&1 &
py=$!
for i in $(seq 100); do grep -q '^reply' "$W/drops.py" && break; sleep 0.1; done
id=$(cat "$W/drops.id")
ip netns exec fs funnel-nl raw carrier-get carrier-id=u32:"$id" >"$W/drops.stats"
touch "$W/drops.id.done"
if wait $py; then
	ok "malformed: after 10 bad frames a good one still gets its echo"
else
	not_ok "malformed: after 10 bad frames a good one still gets its echo"
	sed 's/^/#   /' "$W/drops.py"
fi
want="stats.rx-drop-malformed=6 stats.rx-drop-unknown-type=1 stats.rx-drop-no-stream=1 stats.rx-drop-no-flow=1 stats.rx-drop-no-key=1 stats.rx-frames=11"
miss=""
for w in $want; do grep -qx "$w" "$W/drops.stats" || miss="$miss $w"; done
if [ -z "$miss" ]; then
	ok "malformed: counters: 6 malformed (R on DATA, a sealed FLOW_END of a udp stream among them), 1 unknown type, 1 no stream, 1 no flow, 1 no key"
else
	not_ok "malformed: counters: missing$miss"
	grep 'rx-' "$W/drops.stats" | sed 's/^/#   /'
fi
wait "$pid_drops"

# a peer ending each new flow right behind its first datagram: the flows
# still waiting for their socket leave the connecting list (their
# datagram dropped, rx-drop-queue) instead of getting a socket each after
# they ended, which a peer could repeat without limit
serve endc
ip netns exec fc python3 "$peer" 10.99.0.2 $port end-connecting "$W/endc.id" >"$W/endc.py" 2>&1 &
py=$!
for i in $(seq 300); do grep -q '^reply' "$W/endc.py" && break; sleep 0.1; done
id=$(cat "$W/endc.id")
ip netns exec fs funnel-nl raw carrier-get carrier-id=u32:"$id" >"$W/endc.stats"
touch "$W/endc.id.done"
wait $py; rc=$?
dq=$(sed -n 's/^stats.rx-drop-queue=//p' "$W/endc.stats")
nf=$(sed -n 's/^stats.rx-drop-no-flow=//p' "$W/endc.stats")
fl=$(sed -n 's/^flow-count=//p' "$W/endc.stats")
if [ $rc = 0 ] && [ "${dq:-0}" -ge 1000 ] && [ "${nf:-1}" = 0 ] && [ "${fl:-9}" -le 1 ]; then
	ok "malformed: 2000 flows ended behind their first datagram: $dq left the connecting list unsent, none unknown, $fl flow left; the next datagram is echoed"
else
	not_ok "malformed: 2000 flows ended behind their first datagram: rx-drop-queue $dq (want >= 1000), rx-drop-no-flow $nf (0), flow-count $fl (<= 1), echo rc $rc"
fi
wait "$pid_endc"

# cases that tear the carrier down, each with its reason
down_case() { # NAME CASE REASON-NUMBER DESCRIPTION
	local id n=$1; shift
	serve "$n"
	ip netns exec fc python3 "$peer" 10.99.0.2 $port "$1" "$W/$n.id"
	id=$(cat "$W/$n.id")
	wait "$(eval echo "\$pid_$n")"
	[ -n "$id" ] || not_ok "malformed: $3: no carrier was set up"
	for i in $(seq 30); do
		grep -A2 '^event=carrier-down-ntf' "$W/mon.out" |
			grep -q "^carrier-id=$id\$" && break
		sleep 0.1
	done
	if awk -v id="$id" -v r="$2" '
		/^event=/ { e = $0; c = ""; rs = "" }
		/^carrier-id=/ { c = substr($0, 12) }
		/^reason=/ { rs = substr($0, 8) }
		/^$/ { if (e == "event=carrier-down-ntf" && c == id && rs ~ "^(" r ")$") f = 1 }
		END { exit !f }' "$W/mon.out"; then
		ok "malformed: $3: carrier down, reason $2"
	else
		not_ok "malformed: $3: carrier down with reason $2"
		sed 's/^/#   /' "$W/mon.out" | tail -n 12
	fi
}
down_case badlen bad-length 2 "a length below 8"
down_case trunc truncated 1 "a truncated frame, then close"
# random bytes: whatever parses is dropped; it ends in a bad length or
# in a frame cut short by the close
down_case rnd random "1|2" "random bytes"
sites_down
rm -rf "$W"
