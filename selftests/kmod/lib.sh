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
	ip netns pids fc 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids fs 2>/dev/null | xargs -r kill 2>/dev/null
	sleep 0.3
	ip netns del fc 2>/dev/null
	ip netns del fs 2>/dev/null
	true
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
