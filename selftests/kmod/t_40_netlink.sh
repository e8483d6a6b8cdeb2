# Bad netlink input is refused with an extack message; privileges.
modprobe funnel
nl=funnel-nl
refused "carrier-del without carrier-id: missing attribute" \
	"[Mm]issing attribute|carrier-id|Invalid argument" $nl raw carrier-del
refused "carrier-del carrier-id 0: out of range" \
	"[Oo]ut of range|min|Numerical result" $nl raw carrier-del carrier-id=u32:0
refused "carrier-new sock-fd -1: out of range" \
	"[Oo]ut of range|min" $nl raw carrier-new sock-fd=s32:-1
refused "carrier-new on a non-socket fd" \
	"not a socket" $nl raw carrier-new sock-fd=s32:0
refused "carrier-get of a missing carrier" \
	"no such carrier" $nl raw carrier-get carrier-id=u32:4242
refused "info-get with an attribute it does not take" \
	"[Uu]nsupported attribute|[Uu]nknown attribute|Invalid argument" \
	$nl raw info-get carrier-id=u32:1
refused "unknown command" \
	"Operation not supported|not supported|No such|Invalid" $nl raw 200
refused "carrier dump needs CAP_NET_ADMIN" "Operation not permitted" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all $nl raw carrier-get --dump
refused "carrier-del needs CAP_NET_ADMIN" \
	"Operation not permitted" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all $nl raw carrier-del carrier-id=u32:1

# The generated policies (kmod/netlink-gen.c) share one keyconf policy for
# every operation; what key-del, key-get and stream-new must not take in a
# keyconf is refused by the handlers' own parse (funnel_nl_keyslot: up to
# slot; funnel_nl_keyconf: up to hard-limit), before any lookup.
K=$(printf '11%.0s' $(seq 32))
for op in key-del key-get; do
	refused "$op refuses key material in keyconf" \
		"Unknown attribute type.*keyconf.encrypt-dir" \
		$nl raw $op carrier-id=u32:1 stream-id=u16:1 keyconf.slot=u32:0 \
		keyconf.encrypt-dir.key=hex:"$K"
	refused "$op refuses keyconf.tx-counter" \
		"Unknown attribute type.*keyconf.tx-counter" \
		$nl raw $op carrier-id=u32:1 stream-id=u16:1 keyconf.slot=u32:0 \
		keyconf.tx-counter=u64:1
done
refused "stream-new refuses keyconf.tx-counter (get only)" \
	"Unknown attribute type.*keyconf.tx-counter" \
	$nl raw stream-new carrier-id=u32:1 stream-id=u16:1 stream-kind=u32:3 \
	remote-ipv4=be32:0x7f000001 remote-port=be16:53 keyconf.slot=u32:0 \
	keyconf.key-id=u32:1 keyconf.cipher=u32:1 \
	keyconf.encrypt-dir.key=hex:"$K" keyconf.encrypt-dir.salt=hex:11111111 \
	keyconf.decrypt-dir.key=hex:"$(printf '22%.0s' $(seq 32))" \
	keyconf.decrypt-dir.salt=hex:22222222 keyconf.tx-counter=u64:1

# A dump takes what its spec lists: 6.2 and later have a policy per dump
# (carrier-get: none, stream-get: carrier-id); 6.1 has one policy per
# command, the do's (kmod/compat.h), and a dump ignores the rest.
case $(uname -r) in
6.1.*)
	check "carrier-get dump: carrier-id accepted and ignored (6.1)" \
		$nl raw --dump carrier-get carrier-id=u32:1
	check "stream-get dump: stream-id accepted and ignored (6.1)" \
		$nl raw --dump stream-get stream-id=u16:1 ;;
*)
	refused "carrier-get dump refuses carrier-id" \
		"Unsupported attribute.*carrier-id" \
		$nl raw --dump carrier-get carrier-id=u32:1
	refused "stream-get dump refuses stream-id" \
		"Unknown attribute type.*stream-id" \
		$nl raw --dump stream-get stream-id=u16:1 ;;
esac
