# Stream and flow operations refuse bad input with an extack message and
# change nothing; privileges.  A carrier pair on loopback from funnel-tun.
modprobe funnel
W=$(mktemp -d)
tun s45 "" --listen 127.0.0.1:7450 --user 9
tun c45 "" --connect 127.0.0.1:7450 --user 9
wait_files 20 "$W/s45.id" "$W/c45.id" || not_ok "stream-nl: carrier pair set up"
c=$(cat "$W/c45.id")
nl="funnel-nl raw"
C="carrier-id=u32:$c"

refused "stream-new without stream-kind: missing attribute" \
	"missing attribute stream-kind" $nl stream-new "$C" stream-id=u16:2
refused "stream-new stream-id 0: out of range" \
	"[Oo]ut of range|min" $nl stream-new "$C" stream-id=u16:0 stream-kind=u32:1
refused "stream-new unknown kind" \
	"[Oo]ut of range|max" $nl stream-new "$C" stream-id=u16:2 stream-kind=u32:9
refused "stream-new on a missing carrier" \
	"no such carrier" $nl stream-new carrier-id=u32:4242 stream-id=u16:2 stream-kind=u32:1
refused "stream-new of an existing stream" \
	"stream exists" $nl stream-new "$C" stream-id=u16:9 stream-kind=u32:1
refused "user stream with an address" \
	"user stream has no addresses" $nl stream-new "$C" stream-id=u16:2 stream-kind=u32:1 local-port=be16:53
refused "udp-listen without local-port" \
	"missing attribute local-port" $nl stream-new "$C" stream-id=u16:2 stream-kind=u32:2
refused "udp-listen with a remote address" \
	"not a remote one" $nl stream-new "$C" stream-id=u16:2 stream-kind=u32:2 local-port=be16:5999 remote-port=be16:53
refused "udp-listen with both IPv4 and IPv6" \
	"not both" $nl stream-new "$C" stream-id=u16:2 stream-kind=u32:2 local-port=be16:5999 local-ipv4=be32:0x7f000001 local-ipv6=hex:00000000000000000000000000000001
refused "udp-listen on an address of no interface" \
	"not an address of this host" $nl stream-new "$C" stream-id=u16:2 stream-kind=u32:2 local-port=be16:5999 local-ipv4=be32:0xc0000201
refused "udp-listen on a port in use" \
	"in use" sh -c "rm -f /tmp/t45.bound; python3 -c 'import socket,time; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind((\"::\", 5998)); open(\"/tmp/t45.bound\", \"w\").close(); time.sleep(3)' & for i in \$(seq 100); do [ -e /tmp/t45.bound ] && break; sleep 0.1; done; $nl stream-new $C stream-id=u16:2 stream-kind=u32:2 local-port=be16:5998"
refused "udp-connect without a remote address" \
	"needs remote-ipv4 or remote-ipv6" $nl stream-new "$C" stream-id=u16:2 stream-kind=u32:3 remote-port=be16:53
refused "udp-connect remote-port 0" \
	"[Oo]ut of range|min" $nl stream-new "$C" stream-id=u16:2 stream-kind=u32:3 remote-port=be16:0 remote-ipv4=be32:0x7f000001
refused "udp-connect to a multicast address" \
	"unicast" $nl stream-new "$C" stream-id=u16:2 stream-kind=u32:3 remote-port=be16:53 remote-ipv4=be32:0xe0000001
refused "flow-idle-ms below 100" \
	"[Oo]ut of range|min" $nl stream-new "$C" stream-id=u16:2 stream-kind=u32:3 remote-port=be16:53 remote-ipv4=be32:0x7f000001 flow-idle-ms=u32:99
refused "flow-max above 65536" \
	"[Oo]ut of range|max" $nl stream-new "$C" stream-id=u16:2 stream-kind=u32:3 remote-port=be16:53 remote-ipv4=be32:0x7f000001 flow-max=u32:65537
refused "stream-new needs CAP_NET_ADMIN" "Operation not permitted" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	$nl stream-new "$C" stream-id=u16:2 stream-kind=u32:1
n=$($nl --dump stream-get "$C" | grep -c '^stream-id=')
if [ "$n" = 1 ]; then ok "stream-nl: nothing was created by the refused requests"
else not_ok "stream-nl: $n streams after the refused requests, want 1"; fi

check "stream-new udp-connect with defaults" \
	$nl stream-new "$C" stream-id=u16:2 stream-kind=u32:3 remote-port=be16:53 remote-ipv4=be32:0x7f000001
out=$($nl stream-get "$C" stream-id=u16:2)
if echo "$out" | grep -qx 'flow-idle-ms=30000' && echo "$out" | grep -qx 'flow-max=1024'; then
	ok "stream-get shows the documented defaults (30000 ms, 1024 flows)"
else
	not_ok "stream-get shows the documented defaults"; echo "$out" | sed 's/^/#   /'
fi
refused "stream-get dump of a carrier that is not there" "no such carrier" \
	$nl --dump stream-get carrier-id=u32:999999
refused "flow-get of a user stream" "user stream has no flows" \
	$nl --dump flow-get "$C" stream-id=u16:9
refused "flow-get without stream-id" "needs carrier-id and stream-id" \
	$nl --dump flow-get "$C"
check "stream-del" $nl stream-del "$C" stream-id=u16:2
refused "stream-del of a missing stream" "no such stream" \
	$nl stream-del "$C" stream-id=u16:2
check "carrier-del tears the carrier down" $nl carrier-del "$C"
refused "its streams went with it" "no such carrier" $nl stream-get "$C" stream-id=u16:9
kill "$pid_s45" "$pid_c45" 2>/dev/null
wait "$pid_s45" "$pid_c45" 2>/dev/null
rm -rf "$W"
