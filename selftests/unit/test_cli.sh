#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Command-line tests of funnelctl and funnel-nl that need no funnel.ko:
# usage errors, "funnelctl version" with or without the module, funnelctl
# statements against a missing socket and against a fake funneld (a small
# Python Unix socket server: the request it got, replies good and bad),
# and funnel-nl's request, dump and extended-ACK paths against the generic
# netlink controller itself (family "nlctrl"), which every kernel has.
#
#   test_cli.sh [FUNNELCTL [FUNNEL_NL]]   (default: the in-tree builds)
#
# Prints TAP; exits non-zero if a test failed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
funnelctl=${1:-$top/ctl/bin/funnelctl}
funnel_nl=${2:-$top/selftests/tools/funnel-nl}
version=$(cat "$top/VERSION")

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
err=$tmp/err

n=0
failed=0

tap() { # STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
		for f in "$out" "$err"; do
			[ -s "$f" ] && sed "s|^|# $(basename "$f"): |" "$f"
		done
	fi
}

skip() { # NAME REASON
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

run() { # COMMAND...; sets $rc, output in $out and $err
	"$@" >"$out" 2>"$err"
	rc=$?
}

# expect_usage NAME TEXT COMMAND...: exit status 2, TEXT on stderr
expect_usage() {
	name=$1 text=$2
	shift 2
	run "$@"
	[ $rc -eq 2 ] && grep -qF -- "$text" "$err" && [ ! -s "$out" ]
	tap $? "$name"
}

# ---- funnelctl ----

run "$funnelctl" -h
[ $rc -eq 0 ] && grep -q '^usage: funnelctl' "$out" &&
	grep -q '(used by daemon commands' "$out" && grep -q 'version' "$out"
tap $? "funnelctl -h prints help and exits 0"

run "$funnelctl" --help
[ $rc -eq 0 ] && grep -q '^usage: funnelctl' "$out"
tap $? "funnelctl --help"

expect_usage "funnelctl without a command exits 2" "missing command" \
	"$funnelctl"
expect_usage "funnelctl with an unknown command exits 2" "'frobnicate'" \
	"$funnelctl" frobnicate
expect_usage "funnelctl with an unknown option exits 2" "'--frob'" \
	"$funnelctl" --frob version
expect_usage "funnelctl -s without a socket exits 2" "'-s' needs an argument" \
	"$funnelctl" -s
expect_usage "funnelctl version with an extra argument exits 2" "'extra'" \
	"$funnelctl" version extra

run "$funnelctl" version
module_rc=$rc
if [ $rc -eq 1 ]; then
	[ "$(cat "$out")" = "funnelctl $version" ] &&
		[ "$(cat "$err")" = "funnelctl: funnel kernel module is not loaded; run: modprobe funnel" ]
	tap $? "funnelctl version without funnel.ko: version line, then 'not loaded' and exit 1"
else
	[ $rc -eq 0 ] && [ "$(sed -n 1p "$out")" = "funnelctl $version" ] &&
		sed -n 2p "$out" | grep -Eq '^funnel\.ko [^ ]+ \(wire [0-9]+, caps [a-z0-9,-]+\)$' &&
		[ "$(wc -l <"$out")" -eq 2 ]
	tap $? "funnelctl version with funnel.ko: two lines"
fi

run "$funnelctl" -s /nonexistent/sock version
[ $rc -eq $module_rc ] && [ "$(sed -n 1p "$out")" = "funnelctl $version" ]
tap $? "funnelctl -s SOCKET is accepted"

for args in "--json version" "version --json"; do
	# shellcheck disable=SC2086
	run "$funnelctl" $args
	[ $rc -eq $module_rc ] && /usr/bin/python3 - "$out" "$version" "$rc" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["funnelctl"] == sys.argv[2], doc
if sys.argv[3] == "1":
    assert doc["module"] is None, doc
else:
    m = doc["module"]
    assert isinstance(m["version"], str) and isinstance(m["wire"], int), m
    assert all(isinstance(c, str) for c in m["caps"]), m
EOF
	tap $? "funnelctl $args prints one JSON object"
done

if command -v valgrind >/dev/null 2>&1; then
	run valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect "$funnelctl" version
	[ $rc -eq $module_rc ]
	tap $? "funnelctl version under valgrind: no errors or leaks"
else
	skip "funnelctl version under valgrind" "valgrind not installed"
fi

# ---- funnelctl statements and funneld ----

nosock=$tmp/no-such.sock

# expect_bad NAME TEXT ARGS...: a bad statement exits 2 with one line
# "funnelctl: ..." containing TEXT on stderr, and asks no daemon
expect_bad() {
	name=$1 text=$2
	shift 2
	run "$funnelctl" -s "$nosock" "$@"
	[ $rc -eq 2 ] && [ ! -s "$out" ] && [ "$(wc -l <"$err")" -eq 1 ] &&
		grep -q '^funnelctl: ' "$err" && grep -qF -- "$text" "$err"
	tap $? "$name"
}

expect_bad "funnelctl with an unknown statement exits 2 naming it" \
	"funnelctl: unknown command 'mpa' (try: " mpa add udp 53
expect_bad "funnelctl with a bad port exits 2 naming it" \
	"funnelctl: map add: bad port '70000' in '127.0.0.1:70000' (1-65535)" \
	map add udp 127.0.0.1:70000 peer a service b
expect_bad "funnelctl with a missing word exits 2 naming it" \
	"funnelctl: peer add: missing NAME" peer add
expect_bad "funnelctl with a missing clause exits 2 naming it" \
	"funnelctl: map add: missing 'service NAME'" map add udp 53 peer a
expect_bad "funnelctl with IPv6 without brackets exits 2 naming it" \
	"funnelctl: listen: IPv6 address must be in brackets: '::1:53'" \
	listen ::1:53
expect_bad "funnelctl with a bad protocol exits 2 naming it" \
	"'sctp'" service add dns sctp 127.0.0.1:53
expect_bad "funnelctl show with an extra word exits 2 naming it" \
	"'extra'" show extra
expect_bad "funnelctl with an unknown subcommand exits 2 naming it" \
	"'remove'" peer remove gw1

run "$funnelctl" -s "$nosock" show
[ $rc -eq 1 ] && [ ! -s "$out" ] &&
	[ "$(cat "$err")" = "funnelctl: cannot reach funneld at $nosock: No such file or directory (is funneld running? -s selects another socket)" ]
tap $? "funnelctl without funneld: 'cannot reach funneld', exit 1"

# The fake funneld: accepts one connection, keeps the request in a file,
# answers REPLY (with Python escapes: \n) and closes.
cat >"$tmp/fake.py" <<'PY'
import socket, sys
path, reply, request, ready = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
open(ready, "w").close()
s.settimeout(20)
c, _ = s.accept()
c.settimeout(20)
if reply.startswith("REFUSE:"):
    # as funneld refuses a connection: the reply at once, then close
    # with the request unread (the client's read ends in a reset)
    c.sendall(reply[7:].encode().decode("unicode_escape").encode("latin-1"))
    c.recv(1, socket.MSG_PEEK)  # the request is there, unread
    open(request, "wb").close()
    c.close()
    sys.exit(0)
data = b""
while True:
    d = c.recv(65536)
    if not d:
        break
    data += d
with open(request, "wb") as f:
    f.write(data)
c.sendall(reply.encode().decode("unicode_escape").encode("latin-1"))
c.close()
PY
sock=$tmp/funneld.sock

# fake REPLY [WRAPPER...] -- ARGS...: run [WRAPPER] funnelctl ARGS against
# a fake funneld answering REPLY; sets $rc, $out, $err and $tmp/request
fake() {
	reply=$1
	shift
	rm -f "$sock" "$tmp/ready" "$tmp/request"
	/usr/bin/python3 "$tmp/fake.py" "$sock" "$reply" "$tmp/request" \
		"$tmp/ready" &
	fake_pid=$!
	i=0
	while [ ! -e "$tmp/ready" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	wrap=
	while [ "$1" != -- ]; do
		wrap="$wrap $1"
		shift
	done
	shift
	# shellcheck disable=SC2086
	run $wrap "$funnelctl" -s "$sock" "$@"
	wait $fake_pid
}

# request_is TEXT: the fake funneld got exactly TEXT and a newline
request_is() {
	printf '%s\n' "$1" | cmp -s - "$tmp/request"
}

fake 'error\nmap add: no peer '"'x'"'\n' -- map add udp 5300 service dns peer x
[ $rc -eq 1 ] && [ ! -s "$out" ] &&
	[ "$(cat "$err")" = "funnelctl: map add: no peer 'x'" ] &&
	request_is "text map add udp 5300 peer x service dns"
tap $? "funnelctl: 'error' reply: its message on stderr, exit 1; canonical request"

fake 'ok\nhello\n' -- --json show
[ $rc -eq 0 ] && [ ! -s "$err" ] && [ "$(cat "$out")" = hello ] &&
	request_is "json show"
tap $? "funnelctl: 'ok' reply: its body on stdout, exit 0; json request"

fake 'ok\n{}\n' -- show --json
[ $rc -eq 0 ] && [ "$(cat "$out")" = "{}" ] && request_is "json show"
tap $? "funnelctl show --json is funnelctl --json show"

fake 'ok\n' -- map add tcp '[::1]:8080' service web peer gw1
[ $rc -eq 0 ] && [ ! -s "$out" ] && [ ! -s "$err" ] &&
	request_is "text map add tcp [::1]:8080 peer gw1 service web"
tap $? "funnelctl: 'ok' without a body prints nothing; IPv6 request"

fake 'ok\n# HELP x\n' -- stats --prometheus
[ $rc -eq 0 ] && [ "$(cat "$out")" = "# HELP x" ] &&
	request_is "text stats --prometheus"
tap $? "funnelctl stats --prometheus"

for args in "--json stats --prometheus" "stats --prometheus --json" \
	"stats --json --prometheus"; do
	# shellcheck disable=SC2086
	expect_usage "funnelctl $args: refused, exit 2" \
		"stats: --prometheus and --json exclude each other" \
		"$funnelctl" -s "$tmp/no-such.sock" $args
done

fake 'REFUSE:error\ntoo many control connections at once (16): try again\n' -- show
[ $rc -eq 1 ] && [ ! -s "$out" ] &&
	[ "$(cat "$err")" = "funnelctl: too many control connections at once (16): try again" ]
tap $? "funnelctl: a refusal whose end is a reset (request unread): its message, exit 1"

fake 'REFUSE:ok\nhalf of a repl' -- show
[ $rc -eq 1 ] && [ ! -s "$out" ] && grep -q "Connection reset by peer" "$err"
tap $? "funnelctl: any other reply cut by a reset: an error, nothing printed"

fake 'garbage\n' -- show
[ $rc -eq 1 ] && [ ! -s "$out" ] &&
	[ "$(cat "$err")" = "funnelctl: unexpected reply from funneld: 'garbage' (expected 'ok' or 'error')" ]
tap $? "funnelctl: a reply neither ok nor error: exit 1"

fake '' -- show
[ $rc -eq 1 ] && [ ! -s "$out" ] &&
	[ "$(cat "$err")" = "funnelctl: funneld closed the connection without a reply" ]
tap $? "funnelctl: funneld closing without a reply: exit 1"

fake 'ok' -- show
[ $rc -eq 1 ] && [ ! -s "$out" ] &&
	[ "$(cat "$err")" = "funnelctl: funneld closed the connection early (incomplete reply)" ]
tap $? "funnelctl: a reply cut before its first newline: exit 1"

fake 'error\n' -- peer del gw1
[ $rc -eq 1 ] &&
	[ "$(cat "$err")" = "funnelctl: funneld reported an error without a message" ]
tap $? "funnelctl: 'error' without a message: exit 1"

if command -v valgrind >/dev/null 2>&1; then
	fake 'ok\nhello\n' valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect -- show
	[ $rc -eq 0 ] && [ "$(cat "$out")" = hello ]
	tap $? "funnelctl show under valgrind: no errors or leaks"
	fake 'error\nno\n' valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect -- peer del gw1
	[ $rc -eq 1 ] && [ "$(cat "$err")" = "funnelctl: no" ]
	tap $? "funnelctl error reply under valgrind: no errors or leaks"
else
	skip "funnelctl daemon commands under valgrind" "valgrind not installed"
fi

# ---- funnel-nl ----

run "$funnel_nl" --help
[ $rc -eq 0 ] && grep -q '^usage: funnel-nl' "$out"
tap $? "funnel-nl --help"

expect_usage "funnel-nl without a command exits 2" "missing command" \
	"$funnel_nl"
expect_usage "funnel-nl raw with an unknown command exits 2" "'no-such-cmd'" \
	"$funnel_nl" raw no-such-cmd
expect_usage "funnel-nl raw without a command exits 2" "missing command" \
	"$funnel_nl" raw --dump
expect_usage "funnel-nl raw with an unknown attribute exits 2" \
	"unknown attribute 'carrier'" \
	"$funnel_nl" raw stream-new carrier=u32:1
expect_usage "funnel-nl raw with a bad value exits 2" "bad u16 value '70000'" \
	"$funnel_nl" raw stream-new stream-id=u16:70000

run "$funnel_nl" info
if [ $rc -eq 0 ]; then
	grep -q '^version=' "$out" && grep -q '^wire-version=[0-9]' "$out" &&
		grep -q '^caps=' "$out"
	tap $? "funnel-nl info prints version, wire-version and caps"
else
	[ $rc -eq 1 ] && grep -q 'funnel.ko not loaded' "$err"
	tap $? "funnel-nl info without funnel.ko exits 1"
fi

# The controller: CTRL_CMD_GETFAMILY (3) with CTRL_ATTR_FAMILY_NAME (2).
nlctrl_hex=2=hex:6e6c6374726c00		# "nlctrl\0"
run "$funnel_nl" --family nlctrl raw 3 2=str:nlctrl
if [ $rc -ne 0 ] && grep -q 'generic netlink family' "$err"; then
	skip "funnel-nl requests to nlctrl" "no generic netlink here"
	echo "1..$n"
	exit $failed
fi
[ $rc -eq 0 ] && [ "$(sed -n 1p "$out")" = ok ] && grep -qx "$nlctrl_hex" "$out" &&
	grep -q '^1=hex:' "$out"
tap $? "funnel-nl raw do request: ok and the reply attributes"

run "$funnel_nl" --family nlctrl raw --dump 3
[ $rc -eq 0 ] && [ "$(sed -n 1p "$out")" = ok ] && grep -qx "$nlctrl_hex" "$out" &&
	[ "$(grep -c '^$' "$out")" -ge 1 ]
tap $? "funnel-nl raw --dump: ok and one block per object"

run "$funnel_nl" --family nlctrl raw 3 2=str:nosuchfamily
[ $rc -eq 1 ] && grep -q '^funnel-nl: 3: No such file or directory' "$err" &&
	[ ! -s "$out" ]
tap $? "funnel-nl raw reports the kernel's errno and exits 1"

run "$funnel_nl" --family nlctrl raw 3 1=u8:1
[ $rc -eq 1 ] && grep -q '^funnel-nl: 3: .*: .*bad attribute 1$' "$err"
tap $? "funnel-nl raw reports the extended ACK and the offending attribute"

run "$funnel_nl" --family nlctrl raw 250
[ $rc -eq 1 ] && grep -q '^funnel-nl: 250: ' "$err"
tap $? "funnel-nl raw with a command the family lacks exits 1"

if command -v valgrind >/dev/null 2>&1; then
	run valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		"$funnel_nl" --family nlctrl raw --dump 3
	[ $rc -eq 0 ]
	tap $? "funnel-nl raw --dump under valgrind: no errors or leaks"
	run valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		"$funnel_nl" --family nlctrl raw 3 1=u8:1
	[ $rc -eq 1 ]
	tap $? "funnel-nl raw error path under valgrind: no errors or leaks"
else
	skip "funnel-nl under valgrind" "valgrind not installed"
fi

echo "1..$n"
exit $failed
