# rmmod while a ULP socket is open is refused; after close it succeeds.
modprobe funnel
fifo=$(mktemp -u) && mkfifo "$fifo"
python3 - "$fifo" <<'PY' &
import socket, sys
l = socket.create_server(("127.0.0.1", 0))
a = socket.create_connection(l.getsockname())
b, _ = l.accept()
a.setsockopt(socket.SOL_TCP, 31, b"funnel")
open(sys.argv[1], "w").write("ready\n")
open(sys.argv[1]).read()          # wait until told to close
PY
pypid=$!
read -r _ < "$fifo"
if rmmod funnel 2>/dev/null; then
	not_ok "rmmod refused while a carrier socket is open"
else
	ok "rmmod refused while a carrier socket is open"
fi
echo done > "$fifo"
wait $pypid
sleep 0.2
check "rmmod succeeds once the socket is closed" rmmod funnel
check "modprobe after rmmod" modprobe funnel
rm -f "$fifo"
