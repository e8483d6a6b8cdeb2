#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: build everything, then run every test and count TAP lines.
#   host:  unit tests (cmocka, spec check, clang build), lint
#   VM:    the kmod selftests on each installed Debian kernel, one boot
#          each, side by side on 4 cores or more (the newest with slub_debug,
#          init_on_free, page poison and KFENCE; t_76 left out and
#          t_70/72/74 on the oldest only, for time); make check-long runs every
#          test on every kernel (t_76 with its long sizes) and adds
#          the runner's own selftest and the package tests (selftests/pkg:
#          funnel-dkms on the host, funnel in a guest on each kernel)
# Ends with "N passed, N failed"; exit status 1 if anything failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
mkdir -p build
tap=build/check.tap
: > "$tap"
t0=$(date +%s)

# Debian's python3 first: the tests need its packages (python3-yaml,
# python3-jsonschema), and a version manager's shim in front of it (pyenv
# here) costs 0.3 s at every start, which polling loops pay many times.
if [ -x /usr/bin/python3 ]; then
	mkdir -p build/python
	ln -sf /usr/bin/python3 build/python/python3
	export PATH=$top/build/python:$PATH
fi

kvers=$(make -s -f Makefile print-kvers)
newest=$(echo "$kvers" | tr ' ' '\n' | tail -n 1)
oldest=$(echo "$kvers" | tr ' ' '\n' | head -n 1)

step() { # NAME CMD...: run CMD, keep its TAP lines, note its failure
	local name=$1 rc s raw; shift
	s=$(date +%s)
	raw=$(mktemp build/step.XXXXXX)	# its own: steps may run side by side
	echo "== $name"
	"$@" 2>&1 | tee -a "$raw" | grep -E '^(not )?ok |^#|^vm/run: FAIL' | tee -a "$tap"
	rc=${PIPESTATUS[0]}
	if [ "$rc" != 0 ] && ! grep -q '^not ok' <(tail -n 200 "$raw"); then
		echo "not ok - $name: exit status $rc" | tee -a "$tap"
	fi
	rm -f "$raw"
	echo "# step $name: $(( $(date +%s) - s )) s"
}

# lane OUT NAME SCRIPT [NAME SCRIPT...]: those steps one after the other,
# what they print in OUT, their TAP lines in OUT.tap (not $tap: two
# lanes appending to one file would split each other's lines, and a
# split "not ok" would not be counted); the caller appends OUT.tap to
# $tap once the lane is done.  FUNNEL_PORT_LANE: each lane picks its
# test ports from its own range (selftests/lib/services.sh).
lane() {
	local out=$1 tap=$1.tap lanes=$2; shift 2
	: > "$out"
	: > "$tap"
	export FUNNEL_PORT_LANE=$lanes
	while [ $# -ge 2 ]; do
		step "$1" "$2" >>"$out" 2>&1
		shift 2
	done
}

build() {
	# -j: the two kernels' trees share nothing, nor do ctl, tools, ynl
	make -j"$(nproc)" kmods >build/build.log 2>&1 &&
		make -j"$(nproc)" ctl tools ynl >>build/build.log 2>&1
	local rc=$?
	if [ $rc = 0 ]; then echo "ok - build: funnel.ko for $kvers, funnelctl, tools, ynl"
	else echo "not ok - build"; tail -n 30 build/build.log | sed 's/^/#   /'; fi
	return $rc
}

step build build || { echo "0 passed, 1 failed"; exit 1; }
step unit selftests/unit/run.sh
# The host tests wait on timers and peers far more than they compute:
# two lanes side by side (about 175 s one after the other, 90 s so),
# each lane's output shown whole once both are done.
s=$(date +%s)
lane build/host-a.out 0/2 \
	"host funneld async" selftests/host/t_funneld_async.sh \
	"host gss" selftests/host/t_gss.sh \
	"host map retry" selftests/host/t_mapretry.sh \
	"host funneld gss" selftests/host/t_funneld_gss.sh \
	"host funneld identities" selftests/host/t_funneld_ident.sh \
	"host funneld relay" selftests/host/t_funneld_relay.sh \
	"host funneld tcp relay" selftests/host/t_funneld_relay_tcp.sh \
	"host keytab" selftests/host/t_keytab.sh &
lane build/host-b.out 1/2 \
	"host control socket" selftests/host/t_ctlsock.sh \
	"host funneld" selftests/host/t_funneld_user.sh \
	"host funneld tcp services" selftests/host/t_funneld_tcpsvc.sh \
	"host funneld accept" selftests/host/t_funneld_accept.sh \
	"host funneld principal" selftests/host/t_funneld_principal.sh \
	"host unit" selftests/host/t_unit.sh \
	"host funneld proxy" selftests/host/t_funneld_proxy.sh \
	"host funneld ldap" selftests/host/t_funneld_ldap.sh &
wait
cat build/host-a.out build/host-b.out
cat build/host-a.out.tap build/host-b.out.tap >>"$tap"
echo "# host tests in two lanes: $(( $(date +%s) - s )) s"
# make deb (dpkg-buildpackage -b, lintian) and the upgrade's version;
# make check-long installs them (below)
step packages selftests/pkg/build.sh
step lint scripts/lint.sh $kvers
# The newest kernel boots with the memory checkers it has (vm/run -d:
# slub_debug=FZPU init_on_free=1 page_poison=1 KFENCE), so that a
# use-after-free or double free fails the run instead of passing
# silently; the oldest runs at full speed, where races show more.
vm_limit=1200
[ "${FUNNEL_CHECK_LONG:-}" = 1 ] && vm_limit=1800
vm() {
	local s rc el dbg=""
	s=$(date +%s)
	[ "$1" = "$newest" ] && dbg=-d
	# make check-long runs every test on every kernel, t_76 with its
	# long sizes.  make check, to stay within its 25 minutes (it took
	# 1770 s with them all), leaves out t_76 (ssh, scp, pv -L, 1000
	# flows, a man in the middle: issue 14's tests with real tools),
	# and runs funneld's own tests t_70, t_72 and t_74 (137 s on 6.1,
	# 259 s under the memory checkers) on the oldest kernel only: under
	# the memory checkers funnel.ko's paths they drive are driven by
	# t_35, t_50, t_73, t_80-t_90 too (t_85: funneld, sealed, UDP and
	# TCP streams; t_90: SCTP carriers).  t_77 (the LDAP plugin with
	# slapd over TCP and SCTP carriers, 47 s on 6.1) is check-long's
	# too: make check drives the same code in t_funneld_ldap.sh.  t_86
	# (relays in funnel.ko and tcp relays, three funneld, about 60 s)
	# and t_87 (a gateway operator's trials on relays, 60 to 100 s) run
	# on the newest kernel only, under the memory checkers (make check
	# took 1426 s with t_87 on both; check-long runs it on both).  So
	# does t_85 (funneld with Kerberos, sealed kernel streams: 101 s on
	# 6.1; make check took 1635 s with it on both on a slower host,
	# 2026-12-07): the oldest kernel's sealing is t_80's and t_82's
	local skip=""
	if [ "${FUNNEL_CHECK_LONG:-}" != 1 ]; then
		skip="t_76_tcpsvc.sh t_77_funneld_ldap.sh"
		[ "$1" != "$oldest" ] &&
			skip="$skip t_70_funneld.sh t_72_funneld_tcp.sh t_74_funneld_sctp.sh"
		[ "$1" != "$newest" ] && skip="$skip t_85_gss.sh t_86_relay.sh t_87_relay_ops.sh"
	fi
	FUNNEL_VM_SKIP=$skip selftests/vm/run $dbg -k "$1" -t "$vm_limit" -- selftests/kmod/run-all.sh | tee build/vm-$1.out
	rc=${PIPESTATUS[0]}
	# a run whose TAP lines went missing must not pass as a clean one
	if [ $rc = 0 ] && ! grep -q '^ok ' build/vm-$1.out; then
		echo "# vm $1: the guest printed no test result"
		rc=1
	fi
	el=$(( $(date +%s) - s ))
	if [ $rc = 0 ]; then
		echo "ok - vm $1${dbg:+ (memory checkers on)}: selftests pass, no kernel warning, taint O/E only, rmmod clean (${el}s)"
	else
		echo "not ok - vm $1: run failed ($rc)"
	fi
	return $rc
}
# With 4 cores or more the guests run side by side (FUNNEL_CHECK_SERIAL=1:
# never; FUNNEL_CHECK_SERIAL=0: always).  Each guest's output is kept
# and shown whole, in order, once both are done.  On 2 cores they do not:
# a TCG guest keeps about one core busy, and two of them side by side
# took 1141 s together against 1023 s one after the other (t_50 148 s
# instead of 19), with timing checks and the guests' 1200 s limit at risk.
vm_pids=""
vm_bg() { # KVER: vm KVER in the background, output and status kept
	( vm "$1" > "build/vm-$1.step" 2>&1; echo $? > "build/vm-$1.rc" ) &
	vm_pids="$vm_pids $!"
}
vm_show() { # KVER: what vm KVER printed, and its status (no status: 1)
	local rc
	cat "build/vm-$1.step"
	rc=$(cat "build/vm-$1.rc" 2>/dev/null)
	case "$rc" in ''|*[!0-9]*) rc=1 ;; esac
	return "$rc"
}
serial=${FUNNEL_CHECK_SERIAL:-}
[ -n "$serial" ] || { [ "$(nproc)" -ge 4 ] && serial=0 || serial=1; }
if [ "$serial" = 1 ]; then
	for k in $kvers; do
		step "vm $k" vm "$k"
	done
else
	s=$(date +%s)
	# interrupted: vm/run (a child of each background subshell) stops
	# its guest when it gets SIGTERM
	trap 'for p in $vm_pids; do pkill -TERM -P "$p"; kill "$p"; done 2>/dev/null; exit 130' INT TERM
	for k in $kvers; do
		rm -f "build/vm-$k.step" "build/vm-$k.rc"
		vm_bg "$k"
	done
	wait
	trap - INT TERM
	echo "# guests side by side: $(( $(date +%s) - s )) s (each guest's own time: its ok line)"
	for k in $kvers; do
		step "vm $k" vm_show "$k"
	done
fi
# make check-long: what does not fit in make check's 25 minutes
if [ "${FUNNEL_CHECK_LONG:-}" = 1 ]; then
	step "vm runner" selftests/vm/selftest.sh "$oldest"
	# the packages: funnel-dkms built by DKMS on the host for every
	# kernel (minutes in a TCG guest), then funnel installed, run,
	# upgraded and purged in a guest on each kernel with that module
	step "packages dkms" selftests/pkg/t_dkms.sh
	for k in $kvers; do
		step "packages vm $k" selftests/vm/run -k "$k" -t 900 -- selftests/pkg/t_pkg.sh
	done
fi

pass=$(grep -c '^ok ' "$tap")
fail=$(grep -c '^not ok ' "$tap")
echo "== make check took $(( $(date +%s) - t0 ))s"
grep '^not ok ' "$tap" | sed 's/^/FAILED: /'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
