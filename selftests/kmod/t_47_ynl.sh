# The kernel's own netlink CLI (tools/net/ynl/cli.py of linux-source-6.12,
# unpacked on the host into build/ksrc-6.12 by "make ynl") drives the live
# module with Documentation/netlink/specs/funnel.yaml: info-get (validating
# the spec against the kernel's schema first), a dump of the streams that
# funnel-tun and funnel-nl set up, bad values refused with the policy's and
# the module's extack messages, and the carrier-down notification of the
# "events" group.  Python in the guest is slow: few calls, the schema once.
modprobe funnel
ksrc=$FUNNEL_TOP/build/ksrc-6.12
spec=$ksrc/Documentation/netlink/specs/funnel.yaml
export PYTHONDONTWRITEBYTECODE=1
# ynl ARGS...: cli.py with the spec (and, by its place, the kernel's schema)
ynl() { python3 "$ksrc/tools/net/ynl/cli.py" --spec "$spec" --output-json "$@"; }
# jq_py EXPR: a Python expression over the JSON on stdin (as r) is true
jq_py() { python3 -c "import json, sys; r = json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }

if [ ! -f "$ksrc/tools/net/ynl/cli.py" ] || [ ! -e "$spec" ]; then
	not_ok "ynl: $ksrc has cli.py and the spec (run make ynl on the host)"
	return 0	# sourced by run-all.sh
fi

W=$(mktemp -d)
tun s47 "" --listen 127.0.0.1:7470 --user 9
tun c47 "" --connect 127.0.0.1:7470 --user 9
wait_files 20 "$W/s47.id" "$W/c47.id" || not_ok "ynl: carrier pair set up"
c=$(cat "$W/c47.id")
funnel-nl raw stream-new carrier-id=u32:"$c" stream-id=u16:47 stream-kind=u32:3 \
	remote-port=be16:53 remote-ipv4=be32:0x7f000001 flow-max=u32:77 >/dev/null ||
	not_ok "ynl: funnel-nl stream-new"

out=$(ynl --do info-get 2>&1)
version=$(cat "$FUNNEL_TOP/VERSION")
if echo "$out" | jq_py "r['version'] == '$version' and r['wire-version'] == 2 and set(r['caps']) == {'aes-256-gcm', 'ipv6', 'sctp'} and r['netns-flow-max'] > 0"; then
	ok "ynl: cli.py --do info-get: version $version, wire version 2, its three caps"
else
	not_ok "ynl: cli.py --do info-get"; echo "$out" | sed 's/^/#   /'
fi

out=$(ynl --no-schema --dump stream-get --json "{\"carrier-id\": $c}" 2>&1)
if echo "$out" | jq_py "sorted((x['carrier-id'], x['stream-id'], x['stream-kind']) for x in r) == [($c, 9, 'user'), ($c, 47, 'udp-connect')] and [(x['flow-max'], x['flow-idle-ms'], x['remote-ipv4'], x['remote-port'], x['stats']['tx-frames']) for x in r if x['stream-id'] == 47] == [(77, 30000, '127.0.0.1', 53, 0)]"; then
	ok "ynl: cli.py --dump stream-get shows user stream 9 and udp-connect stream 47 (flow-max 77, 127.0.0.1 port 53)"
else
	not_ok "ynl: cli.py --dump stream-get"; echo "$out" | sed 's/^/#   /'
fi

# a value outside the spec's check, refused by the generated policy
refused "ynl: flow-idle-ms 99 refused by the policy" \
	"out of range.*flow-idle-ms|flow-idle-ms.*out of range" \
	ynl --no-schema --do stream-new --json "{\"carrier-id\": $c, \"stream-id\": 48, \"stream-kind\": \"udp-connect\", \"remote-port\": 53, \"remote-ipv4\": 2130706433, \"flow-idle-ms\": 99}"
# a value the policy lets through and the module refuses, with its message
refused "ynl: a multicast target refused with the module's extack" \
	"udp-connect target must be a unicast address" \
	ynl --no-schema --do stream-new --json "{\"carrier-id\": $c, \"stream-id\": 48, \"stream-kind\": \"udp-connect\", \"remote-port\": 53, \"remote-ipv4\": 3758096385}"
n=$(funnel-nl raw --dump stream-get carrier-id=u32:"$c" | grep -c '^stream-id=')
if [ "$n" = 2 ]; then ok "ynl: the refused requests created nothing"
else not_ok "ynl: $n streams after the refused requests, want 2"; fi

# The "events" group, with the library cli.py is made of: 6.12's cli.py
# --subscribe fails on a notification that its own --do causes (ynl.py
# reads the next message with the notification's missing op).
out=$(python3 - "$ksrc/tools/net/ynl" "$spec" "$c" 2>&1 <<'PY'
import json, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
from lib import YnlFamily
ynl = YnlFamily(sys.argv[2], '')
ynl.ntf_subscribe('events')
subprocess.run(['funnel-nl', 'raw', 'carrier-del', 'carrier-id=u32:' + sys.argv[3]],
               check=True, stdout=subprocess.DEVNULL)
for _ in range(50):
    ynl.check_ntf()
    if ynl.async_msg_queue:
        break
    time.sleep(0.1)
print(json.dumps(ynl.async_msg_queue))
PY
)
if echo "$out" | jq_py "[(m['name'], m['msg']) for m in r] == [('carrier-down-ntf', {'carrier-id': $c, 'reason': 'deleted'})]"; then
	ok "ynl: the events group brings carrier-down-ntf of $c, reason deleted"
else
	not_ok "ynl: the events group: carrier-down-ntf"; echo "$out" | sed 's/^/#   /'
fi

kill "$pid_s47" "$pid_c47" 2>/dev/null
wait "$pid_s47" "$pid_c47" 2>/dev/null
rm -rf "$W"
