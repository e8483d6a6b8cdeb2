# Sealed bodies (Documentation/wire-format.md section 9) on kernel
# streams: the key-* netlink operations and their refusals, traffic
# through matching keys (in place, copied, and next to clones a packet
# socket holds), mismatched keys, a key on one side only, no
# plaintext on the wire, a rekey with two slots under traffic, key swaps
# back and forth under heavier traffic, soft and hard limits, a
# key-expire-ntf sent again until heard, the test vector of section 14
# and a replayed frame.
SEAL=${SEAL:-seal}
# t_82_seal_async.sh runs this again with an asynchronous gcm(aes)
# (SEAL=seal-async).  The parts that never reach the cipher, or reach
# only the synchronous one, are the same there and run here only
# (seal_once): the netlink refusals made before any AEAD is (all but
# one: key-new on a user stream frees the AEADs it made, in both runs),
# the ordered stream (its AEAD is always a synchronous one, whatever
# gcm_driver says), plain frames to a keyed stream (dropped before the
# cipher) and the key-expire-ntf retry (decided at sealing, sent after).
seal_once() { [ "$SEAL" = seal ]; }
modprobe funnel
W=$(mktemp -d)
sites_up || not_ok "$SEAL: two netns joined by veth"
peer=$FUNNEL_TOP/selftests/kmod/rawpeer.py

# st NS CARRIER STREAM COUNTER: a counter of a stream
st() { nlget "$1" "stats.$4" stream-get carrier-id=u32:"$2" stream-id=u16:"$3"; }

ip netns exec fs udp_pump echo 127.0.0.1 7301-7306 -q &

# A: keyed both ways (client enc = server dec); B: mismatched keys;
# C: key on the server only (and no key at all for the capture); D:
# limits.  Stream 1 of each, unordered like a UDP service.
tun sa fs --listen 10.99.0.2:7000 --udp-connect 1:127.0.0.1:7301 --unordered
tun ca fc --connect 10.99.0.2:7000 --udp-listen 1:127.0.0.1:5301 --unordered
tun sb fs --listen 10.99.0.2:7001 --udp-connect 1:127.0.0.1:7302 --unordered
tun cb fc --connect 10.99.0.2:7001 --udp-listen 1:127.0.0.1:5302 --unordered
tun sc fs --listen 10.99.0.2:7002 --udp-connect 1:127.0.0.1:7303 --unordered
tun cc fc --connect 10.99.0.2:7002 --udp-listen 1:127.0.0.1:5303 --unordered
tun sd fs --listen 10.99.0.2:7003 --udp-connect 1:127.0.0.1:7304 --unordered
tun cd fc --connect 10.99.0.2:7003 --udp-listen 1:127.0.0.1:5304 --unordered
tun so fs --listen 10.99.0.2:7006 --udp-connect 1:127.0.0.1:7306
tun co fc --connect 10.99.0.2:7006 --udp-listen 1:127.0.0.1:5306
tun su fs --listen 10.99.0.2:7004 --user 9
tun cu fc --connect 10.99.0.2:7004 --user 9
if wait_files 20 "$W"/{sa,ca,sb,cb,sc,cc,sd,cd,so,co,su,cu}.id; then
	ok "$SEAL: carriers set up"
else
	not_ok "$SEAL: carriers set up"
	tail -n 3 "$W"/*.out | sed 's/^/#   /'
fi
cid() { cat "$W/$1.id" 2>/dev/null; }
sa=$(cid sa) ca=$(cid ca) sb=$(cid sb) cb=$(cid cb) sc=$(cid sc)
sd=$(cid sd) cd=$(cid cd) so=$(cid so) co=$(cid co) cu=$(cid cu)

# --- (1) netlink: refusals with their extack, key-get without key bytes
nl="ip netns exec fc funnel-nl raw"
kc="keyconf.slot=u32:0 keyconf.key-id=u32:1 keyconf.cipher=u32:1"
ed="keyconf.encrypt-dir.key=hex:$K1 keyconf.encrypt-dir.salt=hex:$S1"
dd="keyconf.decrypt-dir.key=hex:$K2 keyconf.decrypt-dir.salt=hex:$S2"
# shellcheck disable=SC2086
if seal_once; then
refused "$SEAL: key-new refuses a 31-byte key" "binary attribute size out of range" \
	$nl key-new carrier-id=u32:"$ca" stream-id=u16:1 $kc \
	keyconf.encrypt-dir.key=hex:"${K1:2}" keyconf.encrypt-dir.salt=hex:$S1 $dd
refused "$SEAL: key-new refuses a 3-byte salt" "binary attribute size out of range" \
	$nl key-new carrier-id=u32:"$ca" stream-id=u16:1 $kc \
	keyconf.encrypt-dir.key=hex:$K1 keyconf.encrypt-dir.salt=hex:a0a1a2 $dd
refused "$SEAL: key-new refuses cipher 99" "integer out of range" \
	$nl key-new carrier-id=u32:"$ca" stream-id=u16:1 keyconf.slot=u32:0 \
	keyconf.key-id=u32:1 keyconf.cipher=u32:99 $ed $dd
refused "$SEAL: key-new refuses slot 2" "integer out of range" \
	$nl key-new carrier-id=u32:"$ca" stream-id=u16:1 keyconf.slot=u32:2 \
	keyconf.key-id=u32:1 keyconf.cipher=u32:1 $ed $dd
refused "$SEAL: key-new refuses identical encrypt and decrypt keys" \
	"encrypt and decrypt keys must differ" \
	$nl key-new carrier-id=u32:"$ca" stream-id=u16:1 $kc $ed \
	keyconf.decrypt-dir.key=hex:$K1 keyconf.decrypt-dir.salt=hex:$S2
refused "$SEAL: key-new refuses a missing stream" "no such stream" \
	$nl key-new carrier-id=u32:"$ca" stream-id=u16:99 $kc $ed $dd
refused "$SEAL: key-new refuses a missing carrier" "no such carrier" \
	$nl key-new carrier-id=u32:9999 stream-id=u16:1 $kc $ed $dd
refused "$SEAL: key-new without key-id names it" "missing attribute keyconf.key-id" \
	$nl key-new carrier-id=u32:"$ca" stream-id=u16:1 keyconf.slot=u32:0 \
	keyconf.cipher=u32:1 $ed $dd
refused "$SEAL: key-new without salt" "needs key and salt" \
	$nl key-new carrier-id=u32:"$ca" stream-id=u16:1 $kc \
	keyconf.encrypt-dir.key=hex:$K1 $dd
refused "$SEAL: key-new without keyconf" "missing attribute keyconf" \
	$nl key-new carrier-id=u32:"$ca" stream-id=u16:1
refused "$SEAL: key-new refuses tx-counter (get only)" "Unknown attribute type.*tx-counter" \
	$nl key-new carrier-id=u32:"$ca" stream-id=u16:1 $kc $ed $dd keyconf.tx-counter=u64:5
fi
# this refusal comes after the key's AEADs were made: they are freed
# shellcheck disable=SC2086
refused "$SEAL: key-new on a user stream is refused" "sealed by userspace" \
	$nl key-new carrier-id=u32:"$cu" stream-id=u16:9 $kc $ed $dd
# shellcheck disable=SC2086
if seal_once; then
refused "$SEAL: stream-new with a key on a user stream is refused" "sealed by userspace" \
	$nl stream-new carrier-id=u32:"$cu" stream-id=u16:20 stream-kind=u32:1 $kc $ed $dd
refused "$SEAL: stream-new with a key in the secondary slot is refused" "primary slot" \
	$nl stream-new carrier-id=u32:"$cu" stream-id=u16:21 stream-kind=u32:3 \
	remote-ipv4=be32:0x7f000001 remote-port=be16:7399 keyconf.slot=u32:1 \
	keyconf.key-id=u32:1 keyconf.cipher=u32:1 $ed $dd
refused "$SEAL: stream-new with a 31-byte key is refused" "binary attribute size out of range" \
	$nl stream-new carrier-id=u32:"$cu" stream-id=u16:22 stream-kind=u32:3 \
	remote-ipv4=be32:0x7f000001 remote-port=be16:7399 $kc \
	keyconf.encrypt-dir.key=hex:"${K1:2}" keyconf.encrypt-dir.salt=hex:$S1 $dd
refused "$SEAL: stream-new with identical keys is refused" "encrypt and decrypt keys must differ" \
	$nl stream-new carrier-id=u32:"$cu" stream-id=u16:23 stream-kind=u32:3 \
	remote-ipv4=be32:0x7f000001 remote-port=be16:7399 $kc $ed \
	keyconf.decrypt-dir.key=hex:$K1 keyconf.decrypt-dir.salt=hex:$S2
fi
# a stream made with a key gets its AEAD there: with either driver
# shellcheck disable=SC2086
if $nl stream-new carrier-id=u32:"$cu" stream-id=u16:24 stream-kind=u32:3 \
	remote-ipv4=be32:0x7f000001 remote-port=be16:7399 $kc $ed $dd >"$W/snk.out" 2>&1 &&
   [ "$(nlget fc keyconf.key-id key-get carrier-id=u32:"$cu" stream-id=u16:24 keyconf.slot=u32:0)" = 1 ] &&
   [ -z "$(nlget fc keyconf.key-id key-get carrier-id=u32:"$cu" stream-id=u16:23 keyconf.slot=u32:0)" ] &&
   $nl stream-del carrier-id=u32:"$cu" stream-id=u16:24 >>"$W/snk.out" 2>&1; then
	ok "$SEAL: stream-new with a key: the stream holds key 1 from the start; the refused ones left nothing"
else
	not_ok "$SEAL: stream-new with a key"; sed 's/^/#   /' "$W/snk.out"
fi
# shellcheck disable=SC2086
if seal_once; then
refused "$SEAL: key-swap with an empty secondary" "secondary slot is empty" \
	$nl key-swap carrier-id=u32:"$ca" stream-id=u16:1
refused "$SEAL: key-del of an empty slot" "holds no key" \
	$nl key-del carrier-id=u32:"$ca" stream-id=u16:1 keyconf.slot=u32:1
refused "$SEAL: key-get of an empty slot" "holds no key" \
	$nl key-get carrier-id=u32:"$ca" stream-id=u16:1 keyconf.slot=u32:0
refused "$SEAL: key-new needs CAP_NET_ADMIN" "Operation not permitted" \
	ip netns exec fc setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	funnel-nl raw key-new carrier-id=u32:"$ca" stream-id=u16:1 $kc $ed $dd
fi

# --- (2) matching keys on A: client enc K1/S1 = server dec, server enc
# K2/S2 = client dec; 1000 echoes, all sealed
if key fc "$ca" 1 0 1 "$K1" "$S1" "$K2" "$S2" keyconf.soft-limit=u64:1000000 >"$W/kn.out" 2>&1 &&
   key fs "$sa" 1 0 1 "$K2" "$S2" "$K1" "$S1" >>"$W/kn.out" 2>&1; then
	ok "$SEAL: key-new on both sides of A"
else
	not_ok "$SEAL: key-new on both sides of A"
	sed 's/^/#   /' "$W/kn.out"
fi
refused "$SEAL: key-new into a full slot" "holds a key" key fc "$ca" 1 0 3 "$K1" "$S1" "$K2" "$S2"
$nl key-get carrier-id=u32:"$ca" stream-id=u16:1 keyconf.slot=u32:0 >"$W/keyget.out" 2>&1
if grep -q '^keyconf.key-id=1$' "$W/keyget.out" && grep -q '^keyconf.cipher=' "$W/keyget.out" &&
   grep -q '^keyconf.soft-limit=1000000$' "$W/keyget.out" &&
   grep -q '^keyconf.tx-counter=1$' "$W/keyget.out" &&
   ! grep -qE 'dir|\.key=|salt|0001020304|a0a1a2a3' "$W/keyget.out"; then
	ok "$SEAL: key-get: slot, key id, cipher, limits, counter; no key bytes"
else
	not_ok "$SEAL: key-get: slot, key id, cipher, limits, counter; no key bytes"
	sed 's/^/#   /' "$W/keyget.out"
fi
out=$(ip netns exec fc udp_pump rr 127.0.0.1 5301 -n 1000 -w 4 2>&1)
if echo "$out" | grep -q 'good 1000 bad 0 lost 0'; then
	ok "$SEAL: matching keys: 1000 echoes through the sealed stream"
else
	not_ok "$SEAL: matching keys: 1000 echoes through the sealed stream"
	echo "$out" | sed 's/^/#   /'
fi
txc=$(nlget fc keyconf.tx-counter key-get carrier-id=u32:"$ca" stream-id=u16:1 keyconf.slot=u32:0)
rxb=$(st fs "$sa" 1 rx-bytes) rxf=$(st fs "$sa" 1 rx-frames)
bad=$(( $(st fs "$sa" 1 rx-drop-auth) + $(st fs "$sa" 1 rx-drop-no-key) + $(st fs "$sa" 1 rx-drop-replay) ))
# a 64-byte datagram is 8 + 24 + 64 bytes sealed
if [ "$txc" = 1001 ] && [ "$rxf" = 1000 ] && [ "$rxb" = 96000 ] && [ "$bad" = 0 ]; then
	ok "$SEAL: counters: client sealed 1000 (tx-counter 1001), server took 1000 frames of 96 bytes"
else
	not_ok "$SEAL: counters: tx-counter $txc, server rx-frames $rxf rx-bytes $rxb drops $bad"
fi

# --- sealing takes over the datagram's skb: a linear one is sealed in
# place, a paged one (a 60000-byte datagram on lo) is copied first.  A
# reply later than 5 s counts as lost: a 60000-byte echo takes 250 ms in
# the TCG guest, and over 2 s now and then when the host is busy.
for sz in 8000 60000; do
	out=$(ip netns exec fc udp_pump rr 127.0.0.1 5301 -n 20 -w 2 -s $sz -T 5000 2>&1)
	if echo "$out" | grep -q 'good 20 bad 0 lost 0'; then
		ok "$SEAL: 20 echoes of $sz bytes through the sealed stream"
	else
		not_ok "$SEAL: 20 echoes of $sz bytes through the sealed stream"
		echo "$out" | sed 's/^/#   /'
		for x in "fc $ca" "fs $sa"; do
			set -- $x
			echo "#   $1: $(ip netns exec "$1" funnel-nl raw stream-get \
				carrier-id=u32:"$2" stream-id=u16:1 |
				grep -E '(drop|error|flows).*=[1-9]' | tr '\n' ' ')"
		done
	fi
done
# A packet socket on lo holds clones of each datagram (outgoing and
# incoming) in its queue, sharing the data the sealer gets: sealing
# must not write into them.  Read only after the echoes came back.
out=$(ip netns exec fc python3 - <<'PY' 2>&1
import socket
marker = b"FUNNEL-CLONE-MARKER-" * 3
tap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
tap.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
tap.bind(("lo", 0))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
echoed = 0
for i in range(5):
    u.sendto(marker + bytes([48 + i]), ("127.0.0.1", 5301))
    if u.recv(2048) == marker + bytes([48 + i]):
        echoed += 1
tap.setblocking(False)
seen = 0
while True:
    try:
        pkt = tap.recv(65536)
    except BlockingIOError:
        break
    # IPv4 after the 14-byte Ethernet header, UDP to 5301
    if pkt[23] == 17 and pkt[36:38] == (5301).to_bytes(2, "big") and marker in pkt:
        seen += 1
print("echoed", echoed, "intact", seen)
PY
)
if [ "$out" = "echoed 5 intact 10" ]; then
	ok "$SEAL: clones of the datagrams on a packet socket stay plaintext (10 of 10); 5 echoes"
else
	not_ok "$SEAL: clones of sealed datagrams: $out (want echoed 5 intact 10)"
fi

# --- an ordered stream (O): counters strictly increasing, 8 requests
# in flight at once from several sources
if seal_once; then
	key fc "$co" 1 0 1 "$K1" "$S1" "$K2" "$S2" >/dev/null
	key fs "$so" 1 0 1 "$K2" "$S2" "$K1" "$S1" >/dev/null
	out=$(ip netns exec fc udp_pump rr 127.0.0.1 5306 -n 500 -w 8 2>&1)
	rep=$(st fs "$so" 1 rx-drop-replay)
	if echo "$out" | grep -q 'good 500 bad 0 lost 0' && [ "$rep" = 0 ]; then
		ok "$SEAL: ordered stream: 500 echoes, no counter out of order"
	else
		not_ok "$SEAL: ordered stream: rx-drop-replay $rep"
		echo "$out" | sed 's/^/#   /'
	fi
fi

# --- (5) no plaintext on the wire: a marker through A (sealed) and C
# (no key on the client yet: plaintext)
marker=FUNNEL-SEAL-PLAINTEXT-MARKER-4242
ip netns exec fc tcpdump --immediate-mode -Z root -i vc -U -s 0 -w "$W/cap.pcap" tcp >"$W/tcpdump.out" 2>&1 &
td=$!
for _ in $(seq 50); do grep -q listening "$W/tcpdump.out" && break; sleep 0.1; done
for p in 5301 5303; do
	ip netns exec fc bash -c "for i in 1 2 3; do echo $marker-$p > /dev/udp/127.0.0.1/$p; done"
done
# up to 1 s for the three unsealed markers, sent last; then a moment
# more for anything still on its way
for _ in $(seq 10); do
	[ "$(grep -c -a "$marker-5303" "$W/cap.pcap")" -ge 3 ] && break
	sleep 0.1
done
sleep 0.2
kill "$td"; wait "$td" 2>/dev/null
a=$(grep -c -a "$marker-5301" "$W/cap.pcap") c=$(grep -c -a "$marker-5303" "$W/cap.pcap")
if [ "$a" = 0 ] && [ "$c" -ge 1 ]; then
	ok "$SEAL: capture: the marker is not on the wire when sealed, is when not"
else
	not_ok "$SEAL: capture: marker sealed: $a times, unsealed: $c times on the wire"
	sed 's/^/#   /' "$W/tcpdump.out"
fi

# --- (3) mismatched keys on B: every frame fails its tag, nothing
# reaches the service, no flow is made
key fc "$cb" 1 0 1 "$K1" "$S1" "$K2" "$S2" >/dev/null
key fs "$sb" 1 0 1 "$K2" "$S2" "$K3" "$S1" >/dev/null
ip netns exec fc udp_pump rr 127.0.0.1 5302 -n 20 -w 20 -T 300 >/dev/null 2>&1
auth=$(st fs "$sb" 1 rx-drop-auth) flows=$(st fs "$sb" 1 flows-created)
if [ "$auth" = 20 ] && [ "$flows" = 0 ]; then
	ok "$SEAL: mismatched keys: 20 of 20 frames rx-drop-auth, no flow, nothing delivered"
else
	not_ok "$SEAL: mismatched keys: rx-drop-auth $auth of 20, flows created $flows"
fi

# --- (4) a key on one side only (C: the server): plain frames dropped
if seal_once; then
	key fs "$sc" 1 0 1 "$K2" "$S2" "$K1" "$S1" >/dev/null
	f0=$(st fs "$sc" 1 flows-created)
	ip netns exec fc udp_pump rr 127.0.0.1 5303 -n 10 -w 10 -T 300 >/dev/null 2>&1
	nokey=$(st fs "$sc" 1 rx-drop-no-key) flows=$(st fs "$sc" 1 flows-created)
	if [ "$nokey" = 10 ] && [ "$flows" = "$f0" ]; then
		ok "$SEAL: keyed on the server only: the 10 plain frames are rx-drop-no-key, no new flow"
	else
		not_ok "$SEAL: keyed on the server only: rx-drop-no-key $nokey of 10 (flows $f0 -> $flows)"
	fi
fi

# --- (6) rekey on A under traffic: key id 2 into the secondary slot on
# both sides (each side receives), swap on both, then drop the old key
# 3 s of echoes, not a count: a fast run must not end before the swap
ip netns exec fc udp_pump rr 127.0.0.1 5301 -t 3 -w 4 -T 2000 >"$W/rekey.out" 2>&1 &
rr=$!
sleep 0.3
key fs "$sa" 1 1 2 "$K4" "$S4" "$K3" "$S3" >/dev/null &&
key fc "$ca" 1 1 2 "$K3" "$S3" "$K4" "$S4" >/dev/null &&
$nl key-swap carrier-id=u32:"$ca" stream-id=u16:1 >/dev/null &&
ip netns exec fs funnel-nl raw key-swap carrier-id=u32:"$sa" stream-id=u16:1 >/dev/null
rc1=$?
sleep 0.3
$nl key-del carrier-id=u32:"$ca" stream-id=u16:1 keyconf.slot=u32:1 >/dev/null &&
ip netns exec fs funnel-nl raw key-del carrier-id=u32:"$sa" stream-id=u16:1 keyconf.slot=u32:1 >/dev/null
rc2=$?
wait $rr
kid=$(nlget fc keyconf.key-id key-get carrier-id=u32:"$ca" stream-id=u16:1 keyconf.slot=u32:0)
txc=$(nlget fc keyconf.tx-counter key-get carrier-id=u32:"$ca" stream-id=u16:1 keyconf.slot=u32:0)
good=$(sed -n 's/.* good \([0-9]*\) bad 0 lost 0 .*/\1/p' "$W/rekey.out")
if [ $rc1 = 0 ] && [ $rc2 = 0 ] && [ "${good:-0}" -gt 0 ] &&
   [ "$kid" = 2 ] && [ "${txc:-0}" -gt 1 ]; then
	ok "$SEAL: rekey under traffic: $good echoes in 3 s, none lost; key 2 sealed $((txc - 1)) of them"
else
	not_ok "$SEAL: rekey under traffic (rc $rc1 $rc2, key $kid, tx-counter $txc)"
	sed 's/^/#   /' "$W/rekey.out"
fi
check "$SEAL: after the rekey only the primary slot holds a key" \
	sh -c "! ip netns exec fc funnel-nl raw key-get carrier-id=u32:$ca stream-id=u16:1 keyconf.slot=u32:1"

# --- swaps under heavier traffic on A: key 3 (odd) next to key 2 (even)
# on both sides, 16 requests in flight per port, 6 swaps back and forth
# on each side: a receiver finds both keys at every moment
nokey() { echo $(( $(st fs "$sa" 1 rx-drop-no-key) + $(st fc "$ca" 1 rx-drop-no-key) )); }
key fs "$sa" 1 1 3 "$K1" "$S2" "$K2" "$S1" >/dev/null
key fc "$ca" 1 1 3 "$K2" "$S1" "$K1" "$S2" >/dev/null
nk0=$(nokey)
ip netns exec fc udp_pump rr 127.0.0.1 5301 -t 4 -S -w 16 >"$W/swap.out" 2>&1 &
rr=$!
swaps=0
sleep 0.5
for i in 1 2 3 4 5 6; do
	$nl key-swap carrier-id=u32:"$ca" stream-id=u16:1 >/dev/null &&
	ip netns exec fs funnel-nl raw key-swap carrier-id=u32:"$sa" stream-id=u16:1 >/dev/null &&
	swaps=$((swaps + 1))
	sleep 0.4
done
wait $rr
nk1=$(nokey)
kid=$(nlget fc keyconf.key-id key-get carrier-id=u32:"$ca" stream-id=u16:1 keyconf.slot=u32:0)
txc=$(nlget fc keyconf.tx-counter key-get carrier-id=u32:"$ca" stream-id=u16:1 keyconf.slot=u32:1)
if [ "$swaps" = 6 ] && grep -q 'bad 0 lost 0' "$W/swap.out" && [ "$nk1" = "$nk0" ] &&
   [ "$kid" = 2 ] && [ "${txc:-0}" -gt 1 ]; then
	ok "$SEAL: 6 swaps under 16 requests in flight: none lost, rx-drop-no-key unchanged"
else
	not_ok "$SEAL: swaps under traffic (swaps $swaps, rx-drop-no-key $nk0 -> $nk1, primary key $kid, key 3 tx-counter $txc)"
	sed 's/^/#   /' "$W/swap.out"
fi

# --- (7) limits on D: soft 100 notifies once, hard 200 stops sealing
ip netns exec fc funnel-nl monitor 0 8 >"$W/mon.out" 2>&1 &
mon=$!
wait_files 5 "$W/mon.out" && sleep 0.3
key fc "$cd" 1 0 7 "$K1" "$S1" "$K2" "$S2" keyconf.soft-limit=u64:100 keyconf.hard-limit=u64:200 >/dev/null
key fs "$sd" 1 0 7 "$K2" "$S2" "$K1" "$S1" >/dev/null
out=$(ip netns exec fc udp_pump rr 127.0.0.1 5304 -n 200 -w 4 2>&1)
ip netns exec fc udp_pump rr 127.0.0.1 5304 -n 5 -w 5 -T 300 >/dev/null 2>&1
nokey=$(st fc "$cd" 1 tx-drop-no-key)
$nl key-get carrier-id=u32:"$cd" stream-id=u16:1 keyconf.slot=u32:0 >"$W/keyget.out" 2>&1
# a used-up key has no next counter: key-get leaves tx-counter out
if echo "$out" | grep -q 'good 200 bad 0 lost 0' && [ "$nokey" = 5 ] &&
   grep -q '^keyconf.key-id=7$' "$W/keyget.out" && ! grep -q 'tx-counter' "$W/keyget.out"; then
	ok "$SEAL: hard limit 200: 200 frames sealed, the next 5 tx-drop-no-key, no tx-counter"
else
	not_ok "$SEAL: hard limit: tx-drop-no-key $nokey of 5"
	sed 's/^/#   /' "$W/keyget.out"
	echo "$out" | sed 's/^/#   /'
fi
sleep 0.5
kill "$mon" 2>/dev/null; wait "$mon" 2>/dev/null
n=$(grep -c '^event=key-expire-ntf' "$W/mon.out")
if [ "$n" = 1 ] && grep -q "^carrier-id=$cd$" "$W/mon.out" &&
   grep -q '^keyconf.key-id=7$' "$W/mon.out" && grep -q '^keyconf.soft-limit=100$' "$W/mon.out" &&
   ! grep -qE '\.key=|salt' "$W/mon.out"; then
	ok "$SEAL: soft limit 100: one key-expire-ntf naming carrier, stream and key 7"
else
	not_ok "$SEAL: soft limit 100: $n key-expire-ntf"
	sed 's/^/#   /' "$W/mon.out"
fi

# --- a key-expire-ntf nobody heard is tried again (at most once a
# second) until one goes out: D rekeyed to key 9, soft limit 10, passed
# with nobody listening
if seal_once; then
	$nl key-del carrier-id=u32:"$cd" stream-id=u16:1 keyconf.slot=u32:0 >/dev/null
	ip netns exec fs funnel-nl raw key-del carrier-id=u32:"$sd" stream-id=u16:1 keyconf.slot=u32:0 >/dev/null
	key fc "$cd" 1 0 9 "$K3" "$S3" "$K4" "$S4" keyconf.soft-limit=u64:10 >/dev/null
	key fs "$sd" 1 0 9 "$K4" "$S4" "$K3" "$S3" >/dev/null
	ip netns exec fc udp_pump rr 127.0.0.1 5304 -n 20 -w 4 >/dev/null 2>&1
	ip netns exec fc funnel-nl monitor 0 8 >"$W/mon2.out" 2>&1 &
	mon=$!
	wait_files 5 "$W/mon2.out" && sleep 1.2
	ip netns exec fc udp_pump rr 127.0.0.1 5304 -n 20 -w 1 >/dev/null 2>&1
	sleep 1.2
	ip netns exec fc udp_pump rr 127.0.0.1 5304 -n 20 -w 1 >/dev/null 2>&1
	sleep 0.3
	kill "$mon" 2>/dev/null; wait "$mon" 2>/dev/null
	n=$(grep -c '^event=key-expire-ntf' "$W/mon2.out")
	if [ "$n" = 1 ] && grep -q '^keyconf.key-id=9$' "$W/mon2.out"; then
		ok "$SEAL: soft limit passed unheard: key-expire-ntf for key 9 once a listener is there, once"
	else
		not_ok "$SEAL: soft limit passed unheard: $n key-expire-ntf"
		sed 's/^/#   /' "$W/mon2.out"
	fi
fi

# --- the example of wire-format.md section 14, byte for byte, from a raw
# peer; sent again it is a replay
tun sv fs --listen 10.99.0.2:7005 --udp-connect 5:127.0.0.1:7305 --unordered
sleep 0.3
ip netns exec fc python3 "$peer" 10.99.0.2 7005 vector "$W/sv.keyed" >"$W/vec.py" 2>&1 &
py=$!
wait_files 10 "$W/sv.id"
sv=$(cat "$W/sv.id")
key fs "$sv" 5 0 1 "$K2" "$S2" "$K1" "$S1" >/dev/null
touch "$W/sv.keyed"
for i in $(seq 50); do
	[ "$(st fs "$sv" 5 rx-drop-replay)" = 1 ] && break
	sleep 0.1
done
rep=$(st fs "$sv" 5 rx-drop-replay) flows=$(st fs "$sv" 5 flows-created)
auth=$(st fs "$sv" 5 rx-drop-auth)
touch "$W/sv.keyed.done"
if wait $py; then
	ok "$SEAL: the sealed example of wire-format.md 14 opens after a copy with one flipped bit was refused, and its echo seals as expected"
else
	not_ok "$SEAL: the sealed example of wire-format.md 14"
	sed 's/^/#   /' "$W/vec.py"
fi
if [ "$rep" = 1 ] && [ "$flows" = 1 ]; then
	ok "$SEAL: the same frame again is rx-drop-replay"
else
	not_ok "$SEAL: the same frame again: rx-drop-replay $rep (flows $flows)"
fi
check "$SEAL: the frame with one flipped bit is rx-drop-auth ($auth), the stream went on" \
	test "$auth" = 1

# --- stream-del and carrier close with keys installed free them (the
# runner's final rmmod and kmemleak-free log check the rest)
check "$SEAL: stream-del with keys" $nl stream-del carrier-id=u32:"$ca" stream-id=u16:1
sites_down
module_idle
check "$SEAL: rmmod once the carriers are closed" rmmod funnel
rm -rf "$W"
