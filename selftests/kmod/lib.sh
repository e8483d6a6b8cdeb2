# SPDX-License-Identifier: GPL-2.0
# Helpers for the guest-side selftests: TAP output, one line a check.

FAILS=0
ok()     { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }

# check NAME CMD...: CMD must succeed
check() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name"; echo "$out" | sed 's/^/#   /'; fi
}

# refused NAME PATTERN CMD...: CMD must fail and print PATTERN (grep -E)
refused() {
	local name=$1 pat=$2 out rc; shift 2
	out=$("$@" 2>&1); rc=$?
	if [ $rc -ne 0 ] && echo "$out" | grep -qE "$pat"; then
		ok "$name"
	else
		not_ok "$name (exit $rc, wanted /$pat/)"
		echo "$out" | sed 's/^/#   /'
	fi
}

module_loaded() { grep -q '^funnel ' /proc/modules; }

# Two sites for the data path tests: netns fc (client) and fs (server)
# joined by veth, 10.99.0.1/24 fd99::1/64 <-> 10.99.0.2/24 fd99::2/64.
sites_up() {
	ip netns add fc && ip netns add fs || return 1
	ip link add vc netns fc type veth peer name vs netns fs || return 1
	ip -n fc addr add 10.99.0.1/24 dev vc
	ip -n fs addr add 10.99.0.2/24 dev vs
	ip -n fc addr add fd99::1/64 dev vc nodad
	ip -n fs addr add fd99::2/64 dev vs nodad
	for n in fc fs; do ip -n $n link set lo up; done
	ip -n fc link set vc up && ip -n fs link set vs up
}

sites_down() {
	local end
	ip netns pids fc 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids fs 2>/dev/null | xargs -r kill 2>/dev/null
	# until they are gone, 0.3 s at most (it was a fixed 0.3 s)
	end=$(( ${EPOCHREALTIME//[!0-9]/} + 300000 ))
	while [ -n "$(ip netns pids fc 2>/dev/null; ip netns pids fs 2>/dev/null)" ] &&
	      [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
		sleep 0.05
	done
	ip netns del fc 2>/dev/null
	ip netns del fs 2>/dev/null
	true
}

# Test keys and salts for key-new (any 32 and 4 bytes would do)
K1=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
K2=202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
K3=404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f
K4=606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f
S1=a0a1a2a3 S2=b0b1b2b3 S3=c0c1c2c3 S4=d0d1d2d3

# key NS CARRIER STREAM SLOT KEY-ID ENC-KEY ENC-SALT DEC-KEY DEC-SALT [ATTR...]
key() {
	local ns=$1 c=$2 s=$3 slot=$4 id=$5 ek=$6 es=$7 dk=$8 ds=$9
	shift 9
	ip netns exec "$ns" funnel-nl raw key-new carrier-id=u32:"$c" \
		stream-id=u16:"$s" keyconf.slot=u32:"$slot" \
		keyconf.key-id=u32:"$id" keyconf.cipher=u32:1 \
		keyconf.encrypt-dir.key=hex:"$ek" keyconf.encrypt-dir.salt=hex:"$es" \
		keyconf.decrypt-dir.key=hex:"$dk" keyconf.decrypt-dir.salt=hex:"$ds" "$@"
}

# module_idle: wait (up to 5 s) until nothing holds funnel.ko, so that
# rmmod may run
module_idle() {
	local i
	for i in $(seq 50); do
		[ "$(cat /sys/module/funnel/refcnt 2>/dev/null)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_files SECONDS FILE...: until every FILE exists
wait_files() {
	local n=$(( $1 * 10 )) f; shift
	while [ $n -gt 0 ]; do
		for f in "$@"; do [ -e "$f" ] || break; done
		[ -e "$f" ] && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# tun NAME NS ARGS...: funnel-tun in NS ("": this one) in the background; its output
# goes to $W/NAME.out, its carrier id to $W/NAME.id once it is set up
tun() {
	local name=$1 ns=$2; shift 2
	if [ -n "$ns" ]; then
		ip netns exec "$ns" funnel-tun --ready "$W/$name.id" "$@" \
			>"$W/$name.out" 2>&1 &
	else
		funnel-tun --ready "$W/$name.id" "$@" >"$W/$name.out" 2>&1 &
	fi
	eval "pid_$name=$!"
}

# stat NS CMD ATTRS... KEY: the value of KEY in a funnel-nl reply
nlget() {
	local ns=$1 key=$2; shift 2
	ip netns exec "$ns" funnel-nl raw "$@" | sed -n "s/^$key=//p" | head -n 1
}

# interleaved PREFIX: the end of the check "CTRL frames among datagrams":
# funnel-tun sc (fs) and cc (fc) each sent and expect 400 CTRL frames
# while udp_pump rr sent 10000 datagrams through cc (its output in
# $W/rr-c.out, its pid in $rr_c)
interleaved() {
	local p=$1 a b i cc sc
	wait "$rr_c"
	if grep -q 'good 10000 bad 0 lost 0' "$W/rr-c.out"; then
		ok "$p: 10000 datagrams through carrier C while control frames flowed"
	else
		not_ok "$p: 10000 datagrams through carrier C while control frames flowed"
		sed 's/^/#   /' "$W/rr-c.out"
	fi
	cc=$(cat "$W/cc.id" 2>/dev/null) sc=$(cat "$W/sc.id" 2>/dev/null)
	for i in $(seq 100); do
		a=$(nlget fc stats.rx-frames carrier-get carrier-id=u32:"$cc")
		b=$(nlget fs stats.rx-frames carrier-get carrier-id=u32:"$sc")
		[ "$a" = 10400 ] && [ "$b" = 10400 ] && break
		sleep 0.1
	done
	kill "$pid_sc" "$pid_cc"
	wait "$pid_sc" "$pid_cc"
	if grep -q 'sent 400 received 400 bad 0' "$W/sc.out" &&
	   grep -q 'sent 400 received 400 bad 0' "$W/cc.out"; then
		ok "$p: interleaving: 400 control frames each way arrived intact"
	else
		not_ok "$p: interleaving: control frames each way arrived intact"
		cat "$W/sc.out" "$W/cc.out" | sed 's/^/#   /'
	fi
}

# dns_server: dnsmasq in fs on 127.0.0.1 and ::1 port 5353, in the
# background, answering hN.funnel.test (N 0..19) with 192.0.2.N+1
dns_server() {
	local records="" i
	for i in $(seq 0 19); do
		records="$records --host-record=h$i.funnel.test,192.0.2.$((i + 1))"
	done
	# shellcheck disable=SC2086
	ip netns exec fs dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 \
		--listen-address=::1 --port=5353 --pid-file= --user=root --group=root \
		$records >"$W/dnsmasq.out" 2>&1 &
}
