#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# "stats --prometheus" of the test snapshots (test_show --dump FILE) passes
# promtool check metrics (Debian's prometheus package): the exposition
# format and Prometheus' own lint rules (counters end in _total, HELP on
# every family, base units, label names).  Then text promtool must refuse,
# so that the check is known to be able to fail.  TAP on stdout.
#
#   selftests/unit/prom_check.sh DUMP
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tap.sh
. "$here/tap.sh"

dump=$1
if ! command -v promtool >/dev/null 2>&1; then
	tap 1 "promtool not found (apt-get install prometheus; make deps)"
	tap_end
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# promtool_ok NAME FILE: exit 0 and nothing said
promtool_ok() {
	promtool check metrics <"$2" >"$tmp/out" 2>&1
	st=$?
	[ $st -eq 0 ] && [ ! -s "$tmp/out" ]
	tap $? "$1 (promtool exit $st)"
	sed 's/^/#   /' "$tmp/out"
}
# promtool_refuses NAME TEXT: promtool says something
promtool_refuses() {
	printf '%s\n' "$2" >"$tmp/bad"
	promtool check metrics <"$tmp/bad" >"$tmp/out" 2>&1
	st=$?
	[ $st -ne 0 ] && [ -s "$tmp/out" ]
	tap $? "promtool refuses $1: $(head -n 1 "$tmp/out")"
}

n_prom=0
for fx in $(sed -n 's/^---- \(.*\): stats --prometheus$/\1/p' "$dump"); do
	awk -v h="---- $fx: stats --prometheus" \
		'$0 == h { p = 1; next } /^---- / { p = 0 } p' "$dump" >"$tmp/$fx.prom"
	promtool_ok "snapshot $fx: stats --prometheus, $(grep -c '^funnel_' "$tmp/$fx.prom") samples" \
		"$tmp/$fx.prom"
	n_prom=$((n_prom + 1))
done
[ $n_prom -ge 1 ]
tap $? "$n_prom stats --prometheus renderings in $(basename "$dump")"

promtool_refuses "a counter without _total" '# HELP funnel_x_frames Frames
# TYPE funnel_x_frames counter
funnel_x_frames 1'
promtool_refuses "a sample with a bad label" '# HELP funnel_x_total X
# TYPE funnel_x_total counter
funnel_x_total{peer=hoster} 1'
promtool_refuses "a family without HELP" '# TYPE funnel_x_total counter
funnel_x_total 1'
tap_end
