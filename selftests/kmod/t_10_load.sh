# Module absent, autoload through the ULP name, version over netlink.

modprobe -r funnel 2>/dev/null
orig=$(cat /proc/sys/kernel/modprobe)
echo /bin/false > /proc/sys/kernel/modprobe
refused "funnelctl version without the module says so" \
	"funnel kernel module is not loaded; run: modprobe funnel" funnelctl version
out=$(funnelctl version 2>/dev/null)
if echo "$out" | grep -q "^funnelctl $(cat "$FUNNEL_TOP/VERSION")$"; then
	ok "funnelctl version prints its own version without the module"
else
	not_ok "funnelctl version prints its own version without the module: $out"
fi
echo "$orig" > /proc/sys/kernel/modprobe

# setsockopt(TCP_ULP, "funnel") loads the module by its alias
"$tools/ulp_test" attach
if module_loaded; then ok "TCP_ULP funnel autoloads funnel.ko"; else not_ok "TCP_ULP funnel autoloads funnel.ko"; fi

ver=$(cat "$FUNNEL_TOP/VERSION")
wire=$(sed -n 's/^#define FUNNEL_WIRE_VERSION[[:space:]]*\([0-9]*\).*/\1/p' "$FUNNEL_TOP/uapi/linux/funnel_netlink.h")
out=$(funnelctl version 2>&1)
if echo "$out" | grep -q "^funnelctl $ver$" && echo "$out" | grep -q "^funnel.ko $ver (wire ${wire:-?},"; then
	ok "funnelctl version shows funnelctl and funnel.ko"
else
	not_ok "funnelctl version shows funnelctl and funnel.ko"; echo "$out" | sed 's/^/#   /'
fi
if genl ctrl list 2>/dev/null | grep -q "Name: funnel"; then
	ok "genl family funnel is listed"
else
	not_ok "genl family funnel is listed"
fi
if grep -qw funnel /proc/sys/net/ipv4/tcp_available_ulp; then
	ok "ULP funnel is registered"
else
	not_ok "ULP funnel is registered: $(cat /proc/sys/net/ipv4/tcp_available_ulp)"
fi
