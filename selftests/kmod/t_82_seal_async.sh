# The sealing tests of t_80_seal.sh again, with an asynchronous
# gcm(aes): funnel.ko loaded with gcm_driver naming pcrypt over the
# generic C GCM, so that every seal and open of an unordered stream is
# handed to padata and finishes in its completion callback (on x86 the
# AES-NI GCM goes to cryptd that way whenever the FPU cannot be used).
# Those of its parts that never reach this cipher run in t_80 only
# (seal_once there says which and why).
# Not cryptd itself: 6.1's cryptd fails the kernel's own AEAD self-test
# ("corrupted request struct") when named directly.  Then a gcm_driver that is not
# gcm(aes) is refused at key-new with a clear message.
ASYNC='pcrypt(gcm_base(ctr(aes-generic),ghash-generic))'
rmmod funnel 2>/dev/null
if modprobe funnel gcm_driver="$ASYNC" &&
   [ "$(cat /sys/module/funnel/parameters/gcm_driver)" = "$ASYNC" ]; then
	ok "seal-async: funnel.ko loaded with gcm_driver=$ASYNC"
else
	not_ok "seal-async: funnel.ko loaded with gcm_driver=$ASYNC"
fi
SEAL=seal-async
# shellcheck source=t_80_seal.sh
. "$FUNNEL_TOP/selftests/kmod/t_80_seal.sh"
# the keys above were this driver's (only funnel.ko instantiates it)
check "seal-async: the keys used $ASYNC" grep -qF "$ASYNC" /proc/crypto

# --- streams and carriers go away while operations are under way: a
# blast through a sealed stream, the server's stream deleted under it,
# then the carriers closed under it; funnel.ko then unloads
W=$(mktemp -d)
modprobe funnel gcm_driver="$ASYNC"
sites_up >/dev/null || not_ok "seal-async: two netns joined by veth"
ip netns exec fs udp_pump sink 127.0.0.1 7392 -t 6 >/dev/null 2>&1 &
tun nsb fs --listen 10.99.0.2:7091 --udp-connect 1:127.0.0.1:7392 --unordered
tun ncb fc --connect 10.99.0.2:7091 --udp-listen 1:127.0.0.1:5392 --unordered
if wait_files 20 "$W"/{nsb,ncb}.id &&
   key fc "$(cat "$W/ncb.id")" 1 0 1 "$K1" "$S1" "$K2" "$S2" >/dev/null 2>&1 &&
   key fs "$(cat "$W/nsb.id")" 1 0 1 "$K2" "$S2" "$K1" "$S1" >/dev/null 2>&1; then
	ip netns exec fc udp_pump blast 127.0.0.1 5392 -t 4 -s 1200 >"$W/blast.out" 2>&1 &
	bl=$!
	sleep 1.5
	rx1=$(nlget fs stats.rx-frames stream-get carrier-id=u32:"$(cat "$W/nsb.id")" stream-id=u16:1)
	ip netns exec fs funnel-nl raw stream-del carrier-id=u32:"$(cat "$W/nsb.id")" stream-id=u16:1 \
		>"$W/del.out" 2>&1
	rc=$?
	sleep 0.5
	sites_down
	# the rest of the blast (its -t 4) would only meet a closed port
	kill $bl 2>/dev/null
	wait $bl
	if [ $rc = 0 ] && [ "${rx1:-0}" -gt 0 ]; then
		ok "seal-async: stream-del, then the carriers closed, under a sealed blast ($rx1 frames opened before)"
	else
		not_ok "seal-async: stream-del under a sealed blast (rc $rc, $rx1 frames)"
		sed 's/^/#   /' "$W/del.out" "$W/blast.out"
	fi
else
	not_ok "seal-async: carrier with keys for the blast"
	sites_down
fi
module_idle
check "seal-async: rmmod after operations were cut short" rmmod funnel

# --- a gcm_driver that is not gcm(aes) is refused at key-new
modprobe funnel gcm_driver='rfc4106(gcm(aes))'
sites_up >/dev/null || not_ok "seal-async: two netns joined by veth"
tun nsa fs --listen 10.99.0.2:7090 --udp-connect 1:127.0.0.1:7391 --unordered
tun nca fc --connect 10.99.0.2:7090 --udp-listen 1:127.0.0.1:5391 --unordered
if wait_files 20 "$W"/{nsa,nca}.id; then
	refused "seal-async: key-new with gcm_driver rfc4106(gcm(aes)) is refused" \
		"names no usable gcm\(aes\)" \
		key fc "$(cat "$W/nca.id")" 1 0 1 "$K1" "$S1" "$K2" "$S2"
else
	not_ok "seal-async: carrier for the refusal"
fi
sites_down
module_idle
check "seal-async: rmmod, and funnel.ko loaded again with its default" \
	sh -c 'rmmod funnel && modprobe funnel && [ "$(cat /sys/module/funnel/parameters/gcm_driver)" = "(null)" ]'
rm -rf "$W"
