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
