#!/bin/sh
# Install everything Funnel needs to build, test and run its demo, with apt.
# Idempotent: a second run installs nothing new and is quick.
#
# Two Debian kernels are installed side by side for the VM tests: the
# bookworm one (6.1) and the bookworm-backports one (6.12).  To get both,
# bookworm-backports is enabled in /etc/apt/sources.list.d/funnel-backports.list
# and the *versioned* image and header packages that each suite's
# linux-image-amd64 / linux-headers-amd64 metapackage points at are installed
# (the metapackage can only be at one version at a time).
#
# Under "set -e" every step that may be false is an "if" or ends in "|| die":
# a bare "[ ... ] && cmd" is a failure when the test is false, and as the
# last command of the EXIT trap it would become the script's exit status.
#
# Test hook (selftests/unit/test_deps.sh): FUNNEL_DEPS_ROOT is put in front
# of every system path the script reads or writes; apt-get, apt-cache and id
# are whatever PATH finds first.
set -eu

die() { echo "deps: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get install); try: sudo $0"
command -v apt-get >/dev/null || die "apt-get not found: Funnel's dependencies are installed from Debian packages"
root=${FUNNEL_DEPS_ROOT:-}
[ -r "$root/etc/debian_version" ] || die "not a Debian system"

# prometheus is here for promtool only (make check's metrics check): its
# server, enabled by the package, would listen on :9090 on every dev and
# test host; slapd is here for the LDAP plugin's tests, which run their
# own: the package's, enabled at boot, would serve its default tree on
# :389 of every address.  Disabled (and stopped when systemd runs) at
# every run, before the stamp's early exit, so hosts that installed them
# before get them off too; idempotent; without systemctl (a container)
# nothing to do.
service_off() { # UNIT FILE: UNIT, if FILE (its unit or init script) is there
	[ -e "$root$2" ] || return 0
	if [ -z "$root" ] && [ -d /run/systemd/system ]; then
		systemctl disable --now "$1" >/dev/null 2>&1 || true
	else
		systemctl --root="${root:-/}" disable "$1" >/dev/null 2>&1 || true
	fi
}
services_off() {
	command -v systemctl >/dev/null || return 0
	service_off prometheus.service /lib/systemd/system/prometheus.service
	service_off slapd.service /etc/init.d/slapd
}

stamp=$root/var/lib/funnel-deps.stamp
log=$root/var/log/funnel-deps.log
want_rev=12
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_rev" ] && [ "${FORCE:-0}" = 0 ]; then
	services_off
	echo "deps: already installed (FORCE=1 to redo)"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
codename=$(. "$root/etc/os-release" && echo "${VERSION_CODENAME:-bookworm}")
bpo=$root/etc/apt/sources.list.d/funnel-backports.list
if ! grep -rqs "${codename}-backports" "$root/etc/apt/sources.list" "$root/etc/apt/sources.list.d/"; then
	echo "deps: enabling ${codename}-backports for the 6.12 kernel ($bpo)"
	echo "deb http://deb.debian.org/debian ${codename}-backports main" > "$bpo"
fi

apt-get update -q >/dev/null || die "apt-get update failed"

# Keep package maintainer scripts from starting the servers we install
# (dnsmasq, freeradius, slapd...): the tests start their own instances.
# The ssh server is dropbear-bin: binaries only, no service (openssh-server
# would enable an ssh server on every dev and test host).
# A policy-rc.d that was there before is the machine's own (Debian's
# container images ship one): it is used as it is and left alone.  Ours
# carries a mark, so one left behind by a run that was killed with SIGKILL
# is recognised as ours and removed at the end of the next run.
prc=$root/usr/sbin/policy-rc.d
prc_mark="# funnel scripts/deps.sh: removed when deps.sh ends"
own_prc=0
cleanup() {
	if [ "$own_prc" = 1 ]; then
		rm -f "$prc"
	fi
}
trap cleanup EXIT
# dash runs the EXIT trap on "exit", not when a signal kills it.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
if [ ! -e "$prc" ] || grep -qxF "$prc_mark" "$prc" 2>/dev/null; then
	own_prc=1
	printf '#!/bin/sh\n%s\nexit 101\n' "$prc_mark" > "$prc"
	chmod 755 "$prc"
fi

# Resolve the versioned kernel image/headers a metapackage depends on in a suite.
versioned() { # $1 metapackage, $2 suite
	apt-cache show "$1/$2" 2>/dev/null |
		sed -n 's/^Depends: //p' | head -n 1 | tr ',' '\n' |
		sed -n "s/^ *\(${1%-amd64}-[0-9][^ ]*-amd64\).*/\1/p" | head -n 1
}
kpkgs=""
for suite in "$codename" "${codename}-backports"; do
	img=$(versioned linux-image-amd64 "$suite")
	hdr=$(versioned linux-headers-amd64 "$suite")
	if [ -z "$img" ] || [ -z "$hdr" ]; then
		die "cannot resolve kernel packages in $suite"
	fi
	# The signed image depends on an unsigned twin; either boots in QEMU.
	kpkgs="$kpkgs $img $hdr"
done
echo "deps: kernels:$kpkgs"

pkgs="
	build-essential clang kmod bc flex bison libelf-dev sparse
	linux-source-6.1 python3 python3-yaml
	linux-source-6.12 python3-jsonschema
	qemu-system-x86 busybox-static cpio xz-utils zstd
	pkg-config libnl-3-dev libnl-genl-3-dev libnl-route-3-dev
	libsctp-dev lksctp-tools libcmocka-dev valgrind libssl-dev
	libkrb5-dev krb5-kdc krb5-admin-server krb5-user
	iproute2 iputils-ping procps psmisc systemd util-linux ethtool
	dnsmasq bind9-dnsutils freeradius freeradius-utils slapd ldap-utils openssl
	iperf3 ncat socat tcpdump tshark nftables pv openssh-client dropbear-bin
	dnsperf sockperf linux-perf
	prometheus
	dkms dh-dkms debhelper lintian dpkg-dev fakeroot
"
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $kpkgs $pkgs >"$log" 2>&1 ||
	{ tail -n 30 "$log" >&2; die "apt-get install failed (log: $log)"; }

# checkpatch.pl ships inside the linux-source tarball: unpack the scripts once.
cp_dir=$root/usr/local/share/funnel/checkpatch
if [ ! -x "$cp_dir/scripts/checkpatch.pl" ]; then
	tarball=$(ls "$root"/usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n 1)
	[ -n "$tarball" ] || die "linux-source-6.1 tarball not found"
	top=$(tar -tf "$tarball" | head -n 1 | cut -d/ -f1)
	mkdir -p "$cp_dir"
	tar -xf "$tarball" -C "$cp_dir" --strip-components=1 \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch"
fi

services_off
echo "$want_rev" > "$stamp"
echo "deps: done"
