# funneld TCP maps between two netns: an ordered stream per map, one flow
# per TCP connection, funnel.ko carrying the stream as a "user" stream on
# the kernel path.  3 MB each way checked byte for byte, 16 connections at
# once, half-close, a refused target, and kernel <-> userspace interop;
# a service with "proxy v2": its backend (selftests/tools/proxyecho.py)
# gets a PROXY v2 header with the client's address and port at the map.
modprobe funnel
W=$(mktemp -d)
PATH=$FUNNEL_TOP/ctl:$PATH
sites_up || not_ok "tcp: two netns joined by veth"

ip netns exec fs socat TCP-LISTEN:7901,fork,reuseaddr EXEC:cat 2>/dev/null &
PX=$FUNNEL_TOP/selftests/tools/proxyecho.py
ip netns exec fs python3 -S "$PX" serve 127.0.0.1 7904 "$W/px.log" 2>/dev/null &
pxpid=$!
head -c 3000000 /dev/urandom >"$W/big"
printf 'listen :9899\nplaintext\nservice add techo tcp 127.0.0.1:7901\nservice add closed tcp 127.0.0.1:7999\nservice add tpx tcp 127.0.0.1:7904 proxy v2\n' >"$W/s.conf"
printf 'plaintext\npeer add s 10.99.0.2 carrier tcp\nmap add tcp 127.0.0.1:7902 peer s service techo\nmap add tcp 127.0.0.1:7903 peer s service closed\nmap add tcp 127.0.0.1:7905 peer s service tpx\n' >"$W/c.conf"

q() { # NS SOCK EXPR
	timeout 5 ip netns exec "$1" funnelctl -s "$2" --json show 2>/dev/null |
		python3 -S -c "import json,sys; d=json.load(sys.stdin); print($3)" 2>/dev/null
}
wait_for() { # SECONDS CMD...: until CMD prints "True"
	local end=$(( $(date +%s) + $1 ))
	while [ "$(date +%s)" -lt $end ]; do
		[ "$("${@:2}")" = True ] && return 0
		sleep 0.2
	done
	return 1
}
t72_run() { # WHAT C-PATH S-PATH [valgrind]
	local what=$1 i bad=0 vg="" up=15 rc
	if [ "${4:-}" = valgrind ]; then
		vg="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file=$W/vg.log"
		up=60
	fi
	ip netns exec fs funneld -f --datapath "$3" -c "$W/s.conf" -s "$W/s.sock" 2>"$W/s.log" &
	local spid=$!
	# shellcheck disable=SC2086
	ip netns exec fc $vg funneld -f --datapath "$2" -c "$W/c.conf" -s "$W/c.sock" 2>"$W/c.log" &
	local cpid=$!
	if wait_for $up q fc "$W/c.sock" "all(m['state'] == 'open' for m in d['maps'])"; then
		ok "tcp $what: both maps open"
	else
		not_ok "tcp $what: both maps open"
		tail -n 5 "$W/c.log" "$W/s.log" | sed 's/^/#   /'
	fi
	check "tcp $what: carrier data paths $2/$3" test \
		"$(q fc "$W/c.sock" "d['carriers'][0]['datapath']")/$(q fs "$W/s.sock" "d['carriers'][0]['datapath']")" = "$2/$3"
	# 3 MB through, echoed back, half-close at the end
	ip netns exec fc timeout 60 socat -t10 TCP:127.0.0.1:7902 - <"$W/big" >"$W/back"
	check "tcp $what: 3 MB echoed byte for byte through the map" cmp -s "$W/big" "$W/back"
	# 16 connections at once
	local pids=""
	for i in $(seq 16); do
		(head -c 100000 "$W/big" | ip netns exec fc timeout 30 socat -t10 TCP:127.0.0.1:7902 - >"$W/b$i") &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	for i in $(seq 16); do cmp -s <(head -c 100000 "$W/big") "$W/b$i" || bad=$((bad + 1)); done
	check "tcp $what: 16 concurrent connections, every byte back ($bad bad)" test $bad = 0
	# a target that refuses: the client's connection is reset (FLOW_END
	# with R through funnel.ko), not closed as if all was said
	local refused
	# (the reset may come before the byte is sent: funneld's client
	# side resets its connection as soon as FLOW_END R arrives)
	refused=$(ip netns exec fc timeout 10 python3 -c '
import socket
try:
    s = socket.create_connection(("127.0.0.1", 7903), timeout=8)
    s.sendall(b"x")
    print("eof" if not s.recv(10) else "data")
except (ConnectionResetError, BrokenPipeError):
    print("reset")
except OSError as e:
    print(type(e).__name__, e)' 2>&1 | tr '\n' ' ' | sed 's/ $//')
	check "tcp $what: connection to a refusing target is reset (${refused:-nothing})" test "$refused" = reset
	check "tcp $what: flows counted on the server's stream" test \
		"$(q fs "$W/s.sock" "sum(s['stats']['flows-created'] for s in d['carriers'][0]['streams']) >= 18")" = True
	# proxy v2: the backend logs the client's address and port
	local n px
	n=0
	[ -f "$W/px.log" ] && n=$(wc -l <"$W/px.log")
	rm -f "$W/cl" && touch "$W/hold"
	ip netns exec fc timeout 20 python3 -S "$PX" client 127.0.0.1 7905 "$W/cl" "$W/hold" 3000
	px=$(sed -n "$((n + 1))p" "$W/px.log" 2>/dev/null)
	check "tcp $what: proxy v2 service: '$px' for client $(head -n 1 "$W/cl" 2>/dev/null), $(sed -n 2p "$W/cl" 2>/dev/null)" \
		test "$px/$(sed -n 2p "$W/cl" 2>/dev/null)" = "proxy $(head -n 1 "$W/cl" 2>/dev/null) 127.0.0.1 7905/echo ok"
	kill $cpid $spid 2>/dev/null
	wait $cpid; rc=$?
	wait $spid 2>/dev/null
	if [ -n "$vg" ]; then
		if [ $rc = 0 ] && ! grep -q . "$W/vg.log"; then
			ok "tcp $what: client funneld under valgrind: no error, no leak, exit 0"
		else
			not_ok "tcp $what: client funneld under valgrind (exit $rc)"
			head -n 30 "$W/vg.log" | sed 's/^/#   /'
		fi
	fi
}
t72_run "kernel/kernel" kernel kernel valgrind
t72_run "user client/kernel server" user kernel
t72_run "kernel client/user server" kernel user
kill %1 $pxpid 2>/dev/null
sites_down
rm -rf "$W"
