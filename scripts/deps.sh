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
set -eu

die() { echo "deps: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get install); try: sudo $0"
command -v apt-get >/dev/null || die "apt-get not found: Funnel's dependencies are installed from Debian packages"
[ -r /etc/debian_version ] || die "not a Debian system"

stamp=/var/lib/funnel-deps.stamp
want_rev=3
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_rev" ] && [ "${FORCE:-0}" = 0 ]; then
	echo "deps: already installed (FORCE=1 to redo)"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
bpo=/etc/apt/sources.list.d/funnel-backports.list
if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "deps: enabling ${codename}-backports for the 6.12 kernel ($bpo)"
	echo "deb http://deb.debian.org/debian ${codename}-backports main" > "$bpo"
fi

apt-get update -q >/dev/null || die "apt-get update failed"

# Keep package maintainer scripts from starting the servers we install
# (dnsmasq, freeradius, slapd...): the tests start their own instances.
prc=/usr/sbin/policy-rc.d
own_prc=0
if [ ! -e "$prc" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$prc"
	chmod 755 "$prc"
	own_prc=1
fi
cleanup() { [ "$own_prc" = 1 ] && rm -f "$prc"; }
trap cleanup EXIT

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
	[ -n "$img" ] && [ -n "$hdr" ] || die "cannot resolve kernel packages in $suite"
	# The signed image depends on an unsigned twin; either boots in QEMU.
	kpkgs="$kpkgs $img $hdr"
done
echo "deps: kernels:$kpkgs"

pkgs="
	build-essential clang kmod bc flex bison libelf-dev sparse
	linux-source-6.1 python3 python3-yaml
	qemu-system-x86 busybox-static cpio xz-utils zstd
	pkg-config libnl-3-dev libnl-genl-3-dev libnl-route-3-dev
	libsctp-dev lksctp-tools libcmocka-dev valgrind libssl-dev
	libkrb5-dev krb5-kdc krb5-admin-server krb5-user
	iproute2 iputils-ping procps psmisc
	dnsmasq bind9-dnsutils freeradius freeradius-utils
	iperf3 ncat socat tcpdump
"
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $kpkgs $pkgs >/tmp/funnel-deps.log 2>&1 ||
	{ tail -n 30 /tmp/funnel-deps.log >&2; die "apt-get install failed (log: /tmp/funnel-deps.log)"; }

# checkpatch.pl ships inside the linux-source tarball: unpack the scripts once.
cp_dir=/usr/local/share/funnel/checkpatch
if [ ! -x "$cp_dir/scripts/checkpatch.pl" ]; then
	tarball=$(ls /usr/src/linux-source-6.1*.tar.* 2>/dev/null | head -n 1)
	[ -n "$tarball" ] || die "linux-source-6.1 tarball not found"
	top=$(tar -tf "$tarball" | head -n 1 | cut -d/ -f1)
	mkdir -p "$cp_dir"
	tar -xf "$tarball" -C "$cp_dir" --strip-components=1 \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch"
fi

echo "$want_rev" > "$stamp"
echo "deps: done"
