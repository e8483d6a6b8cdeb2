#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The package funnel in the test guest (selftests/vm/run, as root), on
# the guest's kernel:
#
#   selftests/vm/run -k KVER -t 600 -- selftests/pkg/t_pkg.sh [DEBDIR]
#
# DEBDIR (default build/deb-test, made by selftests/pkg/build.sh) holds
# funnel in two versions V1 < V2 and, after selftests/pkg/t_dkms.sh,
# dkms/KVER/funnel.ko: funnel-dkms's build for each kernel.  The guest's
# root is the host's, read-only over 9p: the package is installed in a
# chroot whose root is an overlay of it with a tmpfs on top
# (/tmp/pkg/upper), so install, upgrade and purge write only there and
# what they leave behind is exactly what that directory holds.
#
#   1. install funnel V1 with dpkg: the user funnel exists
#   2. the module: funnel-dkms's build for this kernel (insmod, same
#      srcversion), or without it the tree's (modprobe)
#   3. funneld started as funneld.service starts it (User, Group,
#      AmbientCapabilities, bounding set, NoNewPrivileges, UMask,
#      RuntimeDirectory, ExecStart, read from the installed unit) with an
#      operator's funnel.conf and keytab, a second funneld in another
#      network namespace: the carrier comes up on the kernel data path
#      and a datagram goes through a map and back
#      as the unit runs it funneld reads net.sctp.udp_port, and
#      funnel-prometheus.service's command writes funnel.prom
#   4. upgrade to V2: funnel.conf and the keytab byte for byte the same,
#      funneld restarted as systemd would, the carrier back up
#   5. purge: everything the package made is gone, the keytab and the
#      operator's other files stay, nothing else changed (the user funnel
#      stays, as Debian does with system users: the keytab is still owned
#      by it)
#
# Prints TAP; exit status 1 if a check failed.
set -u
top=${FUNNEL_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
debs=${1:-$top/build/deb-test}
# shellcheck source=../lib/tap.sh
. "$top/selftests/lib/tap.sh"

kver=$(uname -r)
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del pkgfar 2>/dev/null
	umount -R /tmp/pkg 2>/dev/null
	echo "1..$T_N"
	echo "# packages on $kver: $((T_N - T_FAIL)) passed, $T_FAIL failed ($(( $(date +%s) - T_START ))s)"
	exit $(( T_FAIL > 0 ))
}
trap cleanup EXIT

# the two versions of funnel, lower first
v1='' v2=
for f in "$debs"/funnel_*.deb; do
	[ -f "$f" ] || continue
	if [ -z "$v1" ]; then v1=$f; continue; fi
	if dpkg --compare-versions "$(dpkg-deb -f "$f" Version)" lt "$(dpkg-deb -f "$v1" Version)"; then
		v2=$v1 v1=$f
	else
		v2=$f
	fi
done
if [ -z "$v1" ] || [ -z "$v2" ]; then
	not_ok "packages in $debs: funnel in two versions (selftests/pkg/build.sh)"
	exit 1
fi
ver1=$(dpkg-deb -f "$v1" Version)
ver2=$(dpkg-deb -f "$v2" Version)

# ---- a writable root over the read-only one
# shellcheck source=lib.sh
. "$top/selftests/pkg/lib.sh"
if ! pkg_root /tmp/pkg; then
	not_ok "overlay root over the host's"; exit 1
fi
R=$PKG_R
mkdir -p "$R/tmp/debs"
cp "$v1" "$v2" "$R/tmp/debs/"
pkg_changes >/tmp/pkg/before
ok "overlay root: dpkg writes to tmpfs over the host's root ($(wc -l </tmp/pkg/before) files differ before)"

# ---- 1. install
s=$(date +%s)
if in_root env DEBIAN_FRONTEND=noninteractive dpkg -i "/tmp/debs/${v1##*/}" \
	>/tmp/pkg/install.log 2>&1; then
	ok "install: dpkg -i funnel $ver1 ($(( $(date +%s) - s ))s)"
else
	not_ok "install: dpkg -i funnel $ver1"
	tail -n 30 /tmp/pkg/install.log | diag
	exit 1
fi
if in_root getent passwd funnel >/dev/null && [ -f "$R/usr/lib/sysusers.d/funnel.conf" ]; then
	ok "install: the system user funnel exists ($(in_root id funnel))"
else
	not_ok "install: the system user funnel exists"
fi

# ---- 2. the module: funnel-dkms's build for this kernel (t_dkms.sh on
# the host), else the tree's (make check)
rmmod funnel 2>/dev/null
ko=$(ls "$debs/dkms/$kver/"funnel.ko* 2>/dev/null | head -n 1)
if [ -n "$ko" ]; then
	# insmod does not load what the module needs: modprobe does, from
	# the kernel's own modules
	for m in $(modinfo -F depends "$ko" | tr , ' '); do modprobe "$m"; done
	if insmod "$ko" &&
	   [ "$(cat /sys/module/funnel/srcversion)" = "$(modinfo -F srcversion "$ko")" ]; then
		ok "module: funnel-dkms's funnel.ko of $kver loads (srcversion $(cat /sys/module/funnel/srcversion))"
	else
		not_ok "module: funnel-dkms's funnel.ko of $kver loads"
	fi
elif modprobe funnel; then
	ok "module: the tree's funnel.ko (no DKMS build in $debs/dkms: make check-long has it)"
else
	not_ok "module: modprobe funnel"
fi

# ---- 3. funneld as funneld.service runs it, against a second funneld
unit=$R/lib/systemd/system/funneld.service
# key NAME [UNIT]: the last NAME= of UNIT (default funneld's); a line
# ending in a backslash goes on in the next, as systemd reads it
key() {
	sed -e ':a' -e '/\\$/{N;s/\\\n/ /;ba' -e '}' "${2:-$unit}" |
		sed -n "s/^$1=//p" | tail -n 1
}
capset() { tr ' ' '\n' | sed 's/^CAP_/+/' | tr '[:upper:]' '[:lower:]' | paste -sd,; }
user=$(key User) group=$(key Group) exec=$(key ExecStart)
caps=$(key AmbientCapabilities | capset)
rtdir=/run/$(key RuntimeDirectory)
# unit_exec UNIT CMD: CMD (a shell command) in the chroot as systemd runs
# UNIT's process: its User and Group (root without them), ambient
# capabilities, bounding set, NoNewPrivileges and UMask, and the /proc
# that ProtectProc= and ProcSubset= give it (a proc of its own in a mount
# namespace of its own, hidepid= and subset= as systemd mounts it).
# It execs: call it in a subshell (&, $(...)); with & the process is $!
unit_exec() {
	local u=$1 uu ug amb bnd um popt="" ids=()
	shift
	uu=$(key User "$u") ug=$(key Group "$u") um=$(key UMask "$u")
	amb=$(key AmbientCapabilities "$u" | capset)
	bnd=$(key CapabilityBoundingSet "$u" | capset)
	[ -n "$uu" ] && ids=(--reuid="$uu" --regid="${ug:-$uu}" --init-groups)
	case $(key ProtectProc "$u") in invisible|noaccess|ptraceable) popt=hidepid=$(key ProtectProc "$u");; esac
	[ "$(key ProcSubset "$u")" = pid ] && popt=${popt:+$popt,}subset=pid
	# shellcheck disable=SC2046
	exec unshare -m --propagation private sh -c '
		[ -z "$1" ] || mount -t proc -o "$1" proc "$2/proc" || exit 1
		shift 2; exec "$@"' sh "$popt" "$R" \
		chroot "$R" setpriv "${ids[@]}" \
		${amb:+--inh-caps="$amb" --ambient-caps="$amb"} --bounding-set="-all${bnd:+,$bnd}" \
		$([ "$(key NoNewPrivileges "$u")" = yes ] && echo --no-new-privs) \
		-- env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		sh -c "${um:+umask $um; }$*"
}
start_unit() { # funneld as systemd starts the unit; its pid in $unit_pid
	install -d -m "$(key RuntimeDirectoryMode)" -o "$(in_root id -u "$user")" \
		-g "$(in_root id -g "$group")" "$R$rtdir"
	unit_exec "$unit" "exec $exec" >>/tmp/pkg/funneld.log 2>&1 &
	unit_pid=$!
	pids+=("$unit_pid")
}
stop_unit() {
	kill "$unit_pid" 2>/dev/null
	wait "$unit_pid" 2>/dev/null
	rm -rf "${R:?}$rtdir"	# RuntimeDirectory= goes with the service
}

ip netns add pkgfar
ip link add pa type veth peer name pb netns pkgfar
ip addr add 10.98.0.1/24 dev pa
ip link set pa up
ip -n pkgfar addr add 10.98.0.2/24 dev pb
ip -n pkgfar link set pb up
ip -n pkgfar link set lo up
# a UDP echo service and the far funneld, in the other namespace
ip netns exec pkgfar python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 7777))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(b"echo:" + d, a)' &
pids+=($!)
printf 'plaintext\nlisten :9899\nservice add echo udp 127.0.0.1:7777\n' >"$R/tmp/far.conf"
ip netns exec pkgfar chroot "$R" /usr/sbin/funneld -f -c /tmp/far.conf \
	-s /tmp/far.sock -n far >/tmp/pkg/far.log 2>&1 &
pids+=($!)

# the operator's configuration and keytab (any bytes: never read here)
conf="# edited by the operator
plaintext
peer add far 10.98.0.2:9899 carrier tcp
map add udp 127.0.0.1:5300 peer far service echo"
printf '%s\n' "$conf" >"$R/etc/funnel/funnel.conf"
head -c 512 /dev/urandom >"$R/etc/funnel/funnel.keytab"
in_root chown funnel: /etc/funnel/funnel.keytab
chmod 0600 "$R/etc/funnel/funnel.keytab"
sum_before=$(cd "$R/etc/funnel" && sha256sum funnel.conf funnel.keytab)

carrier_up() { # the carrier to far up on the kernel path, a datagram through
	local i
	for i in $(seq 100); do
		in_root funnelctl show 2>/dev/null | grep -q "carrier far: up, .*datapath kernel" && break
		[ "$i" = 100 ] && { echo "carrier far not up on the kernel data path in 20 s" | diag; return 1; }
		sleep 0.2
	done
	python3 - <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for i in range(20):
    s.sendto(b"ping%d" % i, ("127.0.0.1", 5300))
    try:
        d, _ = s.recvfrom(2048)
    except socket.timeout:
        continue
    if d == b"echo:ping%d" % i:
        sys.exit(0)
sys.exit(1)
EOF
}
start_unit
if carrier_up; then
	ok "funneld as the unit runs it (user $user, caps $caps): carrier up on the kernel path, a datagram through the map and back"
else
	not_ok "funneld as the unit runs it: carrier up, a datagram through the map and back"
	in_root funnelctl show 2>&1 | diag
	tail -n 20 /tmp/pkg/funneld.log | diag
fi
# the unit's process: chroot, setpriv and sh each exec the next
st=$(grep -E '^(Uid|CapEff|CapAmb|CapBnd|NoNewPrivs)' "/proc/$unit_pid/status" 2>/dev/null |
	tr -s '\t ' ' ' | paste -sd' ')
uid=$(in_root id -u "$user")
if echo "$st" | grep -q "Uid: $uid $uid $uid $uid" &&
   echo "$st" | grep -q "CapEff: 0000000000001400" &&
   echo "$st" | grep -q "CapBnd: 0000000000001400" &&
   echo "$st" | grep -q "NoNewPrivs: 1"; then
	ok "funneld runs as $user with CAP_NET_ADMIN and CAP_NET_BIND_SERVICE only, no new privileges"
else
	not_ok "funneld runs as $user with CAP_NET_ADMIN and CAP_NET_BIND_SERVICE only: $st"
fi

# net.sctp.udp_port, which funneld reads to offer SCTP over UDP
# (operations.md 2.1: the operator sets it; the unit cannot)
modprobe sctp 2>/dev/null
if port=$(unit_exec "$unit" "cat /proc/sys/net/sctp/udp_port" 2>&1); then
	ok "funneld as the unit runs it reads /proc/sys/net/sctp/udp_port ($port)"
else
	not_ok "funneld as the unit runs it reads /proc/sys/net/sctp/udp_port: $port"
fi

# funnel-prometheus.service's command as its unit runs it (root, its
# bounding set) against the running funneld; the textfile directory is
# another user's (the exporter's), as prometheus-node-exporter makes it
punit=$R/lib/systemd/system/funnel-prometheus.service
tdir=$R/var/lib/prometheus/node-exporter
[ -d "$tdir" ] || install -d -m 0755 -o 65534 -g 65534 "$tdir"
if out=$(unit_exec "$punit" "$(key ExecStart "$punit" | sed 's/\$\$/$/g')" 2>&1) &&
   grep -q '^funnel_info' "$tdir/funnel.prom" && [ ! -e "$tdir/funnel.prom.tmp" ]; then
	ok "funnel-prometheus.service as its unit runs it (bounding set $(key CapabilityBoundingSet "$punit")): funnel.prom written"
else
	not_ok "funnel-prometheus.service as its unit runs it: funnel.prom written"
	echo "$out" | diag
fi

# ---- 4. upgrade
s=$(date +%s)
if in_root env DEBIAN_FRONTEND=noninteractive dpkg -i "/tmp/debs/${v2##*/}" \
	>/tmp/pkg/upgrade.log 2>&1 &&
   [ "$(in_root dpkg-query -W -f "\${Version}" funnel)" = "$ver2" ]; then
	ok "upgrade: dpkg -i funnel $ver2 over $ver1 ($(( $(date +%s) - s ))s)"
else
	not_ok "upgrade: dpkg -i funnel $ver2 over $ver1"
	tail -n 20 /tmp/pkg/upgrade.log | diag
fi
if [ "$(cd "$R/etc/funnel" && sha256sum funnel.conf funnel.keytab)" = "$sum_before" ] &&
   [ "$(stat -c %u:%a "$R/etc/funnel/funnel.keytab")" = "$(in_root id -u funnel):600" ] &&
   [ ! -e "$R/etc/funnel/funnel.conf.dpkg-new" ]; then
	ok "upgrade: funnel.conf and funnel.keytab unchanged (keytab funnel:600)"
else
	not_ok "upgrade: funnel.conf and funnel.keytab unchanged"
	find "$R/etc/funnel" -ls | diag
fi
stop_unit
start_unit
if carrier_up; then
	ok "upgrade: funneld restarted, carrier up again, a datagram through"
else
	not_ok "upgrade: funneld restarted, carrier up again"
	tail -n 20 /tmp/pkg/funneld.log | diag
fi
stop_unit
rmmod funnel 2>/dev/null

# ---- 5. purge
s=$(date +%s)
if in_root env DEBIAN_FRONTEND=noninteractive dpkg --purge funnel \
	>/tmp/pkg/purge.log 2>&1; then
	ok "purge: dpkg --purge funnel ($(( $(date +%s) - s ))s)"
else
	not_ok "purge: dpkg --purge funnel"
	tail -n 20 /tmp/pkg/purge.log | diag
fi
pkg_changes >/tmp/pkg/after
# dpkg's own records and logs change; the keytab is the operator's
left=$(pkg_left /tmp/pkg/before /tmp/pkg/after \
	'/etc/(passwd|group|shadow|gshadow)-?|/etc/funnel/funnel.keytab')
if [ -z "$left" ] && [ -f "$R/etc/funnel/funnel.keytab" ]; then
	ok "purge: only the keytab and the user funnel remain of what was made"
else
	not_ok "purge: left behind or changed"
	echo "$left" | head -n 30 | diag
fi
