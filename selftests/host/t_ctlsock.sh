#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# funneld's control socket never blocks the daemon.  Site S serves DNS
# (real dnsmasq) and has 6000 services, so that its `show` is about 1 MB,
# more than a Unix socket buffers; site C maps a local port to S's DNS.
# Clients that ask S for `show` and never read must not delay other
# funnelctl requests (each answered within 1 s) nor the DNS traffic
# through S, and are dropped after 5 s without reading.  The 17th
# concurrent client is told that there are too many; the daemon refuses
# `json stats --prometheus`.  Then the same under valgrind, ending with
# SIGTERM while a stuck client still waits: no error, no leak.
#
# usage: selftests/host/t_ctlsock.sh     (root not needed)
# Prints TAP; exit 1 on failure.  SVC_KEEP=1 keeps the temp dir.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosttest.sh
. "$top/selftests/lib/hosttest.sh"

NSVC=6000	# services on S: `show --json` of about 1 MB
STUCK=3		# clients that never read

t_begin "control socket"

for p in funneld funnelctl dnsmasq dig valgrind python3; do
	command -v "$p" >/dev/null || { not_ok "prerequisite: $p not found (make ctl; make deps)"; exit 1; }
done

svc_init
svc_pick_port P_DNS; svc_pick_port P_CAR; svc_pick_port P1
L=127.0.0.1

# clients.py SOCK N REQUEST HOLD OUT: N connections to SOCK, each sends
# REQUEST (none if "") and reads nothing; "OUT.ready" once they are all
# connected; once the daemon closed all of them (seen by poll, without
# reading), or "OUT.release" appears, or after HOLD seconds: for each,
# the bytes it can read then, whether the daemon closed it (eof/open)
# and the first line
cat >"$SVC_DIR/clients.py" <<'EOF'
import os, select, socket, sys, time
path, n, req, hold, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    if req:
        s.sendall(req.encode() + b"\n")
    socks.append(s)
open(out + ".ready", "w").close()
end = time.monotonic() + hold
hup = select.POLLHUP	# closed; POLLRDHUP alone: funneld shut its side only
poll = select.poll()
for s in socks:
    poll.register(s, hup)
closed = set()
while (len(closed) < n and not os.path.exists(out + ".release") and
       time.monotonic() < end):
    closed.update(fd for fd, ev in poll.poll(100) if ev & hup)
res = []
for s in socks:
    # what is there now: a closed one has all of its bytes queued
    s.setblocking(False)
    got, eof = b"", False
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                eof = True
                break
            got += d
    except BlockingIOError:
        pass
    res.append("%d %s %s" % (len(got), "eof" if eof else "open",
                             got.split(b"\n")[0].decode(errors="replace")))
    s.close()
open(out, "w").write("\n".join(res) + "\n")
EOF
# late.py SOCK: 17 clients refused (16 others hold the slots) that send
# their request only after the refusal came; for each: told why or not,
# whether the late request went out (sent/epipe), then 1.5 s later how
# the connection ended (eof; reset: funneld closed it with the request
# unread; more; open) and whether funneld had closed it (closed/open).
# funneld waits for a refused client's end (1 s at most, 16 such
# clients at most), so a late request is read and the reply ends
# cleanly; a refusal beyond those 16 closes at once.
cat >"$SVC_DIR/late.py" <<'EOF'
import socket, sys, time
res, socks = [], []
for _ in range(17):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.settimeout(2)
    got = b""
    try:
        while got.count(b"\n") < 2:
            d = s.recv(4096)
            if not d:
                break
            got += d
    except socket.timeout:
        pass
    told = got.startswith(b"error\ntoo many control connections")
    socks.append(s)
    res.append("told" if told else "not-told")
time.sleep(0.3)
for i, s in enumerate(socks):
    try:
        s.sendall(b"text show\n")
        res[i] += "/sent"
    except (BrokenPipeError, ConnectionResetError):
        res[i] += "/epipe"
# funneld closes them by now: a clean end if it read the late request
# (the refusal's end came at once, and a reset follows unread data)
time.sleep(1.5)
for i, s in enumerate(socks):
    try:
        res[i] += "/eof" if not s.recv(4096) else "/more"
    except ConnectionResetError:
        res[i] += "/reset"
    except socket.timeout:
        res[i] += "/open"
    try:
        s.sendall(b"x\n")
        res[i] += "/open"
    except (BrokenPipeError, ConnectionResetError):
        res[i] += "/closed"
print(" ".join(res))
EOF
# clients N REQUEST HOLD NAME: clients.py in the background ($cpid),
# back once all are connected; release NAME ends their hold
clients() {
	rm -f "$SVC_DIR/$4" "$SVC_DIR/$4.ready" "$SVC_DIR/$4.release"
	python3 "$SVC_DIR/clients.py" "$SVC_DIR/S.sock" "$1" "$2" "$3" "$SVC_DIR/$4" &
	cpid=$!
	for _ in $(seq 100); do
		[ -e "$SVC_DIR/$4.ready" ] && return 0
		sleep 0.05
	done
	return 1
}
release() { : >"$SVC_DIR/$1.release"; }
# raw REQUEST: one request on S's socket, print the whole reply
raw() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
try:
    s.sendall(sys.argv[2].encode() + b"\n")
    s.shutdown(socket.SHUT_WR)
except (BrokenPipeError, ConnectionResetError):
    pass    # refused and closed before the request went out: read why
d = b""
while True:
    try:
        x = s.recv(65536)
    except ConnectionResetError:
        break   # a refusal closed with the request unread: its reply came
    if not x:
        break
    d += x
sys.stdout.write(d.decode(errors="replace"))
' "$SVC_DIR/S.sock" "$1"
}
# timed_show NAME: seconds one `funnelctl show` of NAME takes (3 s at most)
timed_show() {
	local t0 t1
	t0=$(date +%s.%N)
	timeout 3 funnelctl -s "$SVC_DIR/$1.sock" show >/dev/null 2>&1 || { echo 9; return; }
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

if ! svc_dnsmasq dns "" $L "$P_DNS"; then
	not_ok "services: dnsmasq starts"
	exit 1
fi
conf_s="plaintext
listen $L:$P_CAR
service add dns udp $L:$P_DNS
$(for i in $(seq -w 1 $NSVC); do
	printf 'service add filler-%s-%s udp %s:9\n' "$i" \
		"with-a-long-name-to-make-show-long-xxxxxxxxxxxxxx" $L
done)"
conf_c="plaintext
peer add s $L:$P_CAR carrier tcp
map add udp $L:$P1 peer s service dns"
start_s() { fd_start S "" "$conf_s" --datapath user -n site-s; }
start_c() { fd_start C "" "$conf_c" --datapath user -n site-c; }

if start_s && start_c && fd_wait C 10 "carrier('s').get('state') == 'up' and map_($P1).get('state') == 'open'"; then
	ok "S with $NSVC services and C up, the dns map open"
else
	not_ok "S and C start, carrier up, map open"
	exit 1
fi
full=$(( $(fd_ctl S --json show | wc -c) + 3 ))	# "ok\n" and the JSON
if [ "$full" -gt 500000 ]; then
	ok "S's show --json reply is $full bytes"
else
	not_ok "S's show --json reply is only $full bytes (want > 500000)"
fi

# ---- stuck clients: others are answered at once, DNS flows
clients $STUCK "json show" 8 stuck || not_ok "stuck clients connect"
svc_dig_many "" $L "$P1" 200 1 >"$SVC_DIR/dig.out" 2>&1 &
dpid=$!
sleep 0.3
worst=0
for _ in 1 2 3 4 5; do
	for s in S C; do
		t=$(timed_show $s)
		worst=$(awk -v a="$worst" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
	done
done
if [ "$(awk -v w="$worst" 'BEGIN { print (w < 1) }')" = 1 ]; then
	ok "with $STUCK clients not reading S's show: 10 funnelctl show answered, slowest ${worst}s"
else
	not_ok "with $STUCK clients not reading S's show: slowest funnelctl show ${worst}s (want < 1 s)"
fi
if wait $dpid; then ok "meanwhile: DNS through S answered: $(cat "$SVC_DIR/dig.out")"
else not_ok "meanwhile: DNS through S: $(cat "$SVC_DIR/dig.out")"; fi
wait $cpid
n_drop=$(awk -v f="$full" '$2 == "eof" && $1 < f && $3 == "ok"' "$SVC_DIR/stuck" | wc -l)
if [ "$n_drop" = $STUCK ] && grep -q 'read nothing for 5 s: dropped' "$SVC_DIR/S.log"; then
	ok "the stuck clients were dropped with their replies cut ($(head -n 1 "$SVC_DIR/stuck" | cut -d' ' -f1) of $full bytes), logged"
else
	not_ok "the stuck clients were dropped (got: $(tr '\n' ';' <"$SVC_DIR/stuck"))"
	grep -i 'control' "$SVC_DIR/S.log" | tail -n 5 | diag
fi

# ---- at most 16 clients at once
clients 16 "" 10 idle || not_ok "16 idle clients connect"
out=$(raw "text show" | head -n 2)
late=$(python3 "$SVC_DIR/late.py" "$SVC_DIR/S.sock")
release idle
if [ "$out" = "$(printf 'error\ntoo many control connections at once (16): try again')" ]; then
	ok "a 17th concurrent client: told 'too many control connections'"
else
	not_ok "a 17th concurrent client: got '$out'"
fi
want="$(for _ in $(seq 16); do printf 'told/sent/eof/closed '; done)told/epipe/eof/closed"
if [ "$late" = "$want" ]; then
	ok "17 refused clients sending late: 16 waited for (request read, clean end), the 17th closed at once; all closed after 1 s"
else
	not_ok "17 refused clients sending late: got '$late'"
fi
wait $cpid
t=$(timed_show S)
if [ "$(awk -v t="$t" 'BEGIN { print (t < 1) }')" = 1 ]; then
	ok "once they are gone, show answers (${t}s)"
else
	not_ok "once they are gone, show answers (${t}s)"
fi

out=$(raw "json stats --prometheus")
if [ "$out" = "$(printf 'error\nstats: --prometheus and --json exclude each other (the Prometheus text format has no JSON form)\n')" ]; then
	ok "funneld refuses 'json stats --prometheus'"
else
	not_ok "funneld refuses 'json stats --prometheus': got '$(echo "$out" | head -n 2)'"
fi

# ---- valgrind: the same paths, then SIGTERM with a stuck client
svc_stop S TERM
# shellcheck disable=SC2054
FD_START_TIMEOUT=60 FD_WRAP="${VG[*]} --log-file=$SVC_DIR/vg-S.txt" start_s ||
	not_ok "valgrind: S starts"
if fd_wait C 30 "carrier('s').get('state') == 'up' and map_($P1).get('state') == 'open'"; then
	ok "valgrind: S up again under valgrind"
else
	not_ok "valgrind: carrier up under valgrind within 30 s"
fi
drops() { grep -c 'read nothing for 5 s: dropped' "$SVC_DIR/S.log"; }
d0=$(drops)
clients 2 "json show" 7 vg-stuck || not_ok "valgrind: stuck clients connect"
check "valgrind: show answers while two clients are stuck" fd_ctl S show
check "valgrind: DNS through S meanwhile" svc_dig_many "" $L "$P1" 20 2
# the stuck clients are dropped (after 5 s; 7 s at most here)
for _ in $(seq 70); do
	[ "$(drops)" -ge $((d0 + 2)) ] && break
	sleep 0.1
done
raw "json stats --prometheus" >/dev/null
clients 15 "" 10 vg-idle
ipid=$cpid
clients 1 "json show" 10 vg-last	# still waiting at SIGTERM
lpid=$cpid
raw "text show" >/dev/null
clients 1 "" 10 vg-refused		# refused, still open at SIGTERM
sleep 0.3	# its refusal sent, within the 1 s funneld waits for its end
svc_stop S TERM; rc=$?
release vg-idle; release vg-last; release vg-refused
wait $ipid $lpid $cpid
# clients.py's line: bytes read, eof, the first line ("error", then
# the 53 bytes of "too many control connections ...")
if [ "$(cat "$SVC_DIR/vg-refused")" = "59 eof error" ]; then
	ok "valgrind: a 17th client refused, its connection open at SIGTERM"
else
	not_ok "valgrind: a 17th client refused (got: $(cat "$SVC_DIR/vg-refused"))"
fi
sumline=$(grep -E 'ERROR SUMMARY' "$SVC_DIR/vg-S.txt" | tail -n 1 | sed 's/^==[0-9]*== //')
if [ $rc = 0 ] && grep -q 'ERROR SUMMARY: 0 errors' "$SVC_DIR/vg-S.txt"; then
	ok "valgrind: S: SIGTERM with a client waiting and a refused one, exit 0, $sumline"
else
	not_ok "valgrind: S: exit $rc, ${sumline:-no summary}"
	grep -E -A 12 'Invalid|uninitialised|definitely lost|indirectly lost|Syscall param' \
		"$SVC_DIR/vg-S.txt" | head -n 60 | diag
fi
[ "$T_FAIL" = 0 ]
