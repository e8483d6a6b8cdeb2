#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Negative tests of spec_check.py: copies of Documentation/netlink/specs/
# funnel.yaml, ctl/common/nlnames.c, architecture.md, operations.md and
# funnelctl.8 with one thing changed must be refused, and unchanged copies accepted (so a
# refusal is due to the change).
# Prints TAP; exits non-zero if any case goes wrong.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
check="$here/spec_check.py"
spec="$top/Documentation/netlink/specs/funnel.yaml"
arch="$top/Documentation/architecture.md"
ops="$top/Documentation/operations.md"
man="$top/Documentation/man/funnelctl.8"
names="$top/ctl/common/nlnames.c"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=selftests/unit/tap.sh
. "$here/tap.sh"

run_check() { # spec_check.py ARGS...; output kept in $tmp/out
	/usr/bin/python3 "$check" "$@" >"$tmp/out" 2>&1
}

# must_refuse NAME --spec|--names|--architecture|--operations|--man ORIGINAL
#             SED-EXPRESSION PATTERN: refused with a failed check whose
#             diagnostics match PATTERN, not by crashing
must_refuse() {
	name=$1 opt=$2 orig=$3 expr=$4 pat=$5
	copy="$tmp/$(basename "$orig")"
	sed "$expr" "$orig" >"$copy"
	if cmp -s "$orig" "$copy"; then
		tap 1 "spec_check refuses $name (the sed expression changed nothing)"
		return
	fi
	run_check "$opt" "$copy"
	status=$?
	if [ $status -eq 1 ] && grep -q '^not ok' "$tmp/out" &&
	   grep -q "$pat" "$tmp/out" && ! grep -q '^Traceback' "$tmp/out"; then
		tap 0 "spec_check refuses $name"
	else
		tap 1 "spec_check refuses $name (exit status $status)"
		sed 's/^/# /' "$tmp/out"
	fi
}

for f in "$spec" "$arch" "$ops" "$man" "$names" "${names%.c}.h"; do cp "$f" "$tmp/"; done
if run_check --spec "$tmp/funnel.yaml" --architecture "$tmp/architecture.md" \
	--operations "$tmp/operations.md" --man "$tmp/funnelctl.8" \
	--names "$tmp/nlnames.c"; then
	tap 0 "spec_check accepts unchanged copies"
else
	tap 1 "spec_check accepts unchanged copies"
	sed 's/^/# /' "$tmp/out"
fi

must_refuse "a spec with a renamed operation" --spec "$spec" \
	's/name: key-swap$/name: key-switch/' 'key-switch is missing from .*architecture.md'
must_refuse "nlnames.c with a misspelt command" --names "$names" \
	's/= "key-swap",/= "key-switch",/' 'nlnames command FUNNEL_CMD_KEY_SWAP is "key-switch"'
must_refuse "nlnames.c with a wrong attribute type" --names "$names" \
	'/"flow-idle-ms"/s/, U32)/, U64)/' 'nlnames funnel.flow-idle-ms kind'
must_refuse "a spec with a renumbered attribute set" --spec "$spec" \
	'/name: stats$/,/value: 0$/s/value: 0$/value: 1/' 'FUNNEL_A_STATS_PAD is 2'
must_refuse "a spec with a counter the documents lack" --spec "$spec" \
	's/^        name: flows-evicted$/        name: flows-evicted\n        type: u64\n      -\n        name: flows-moved/' \
	'flows-moved is missing from .*funnelctl.8'
must_refuse "a spec with an undocumented operation" --spec "$spec" \
	'/name: key-swap$/{n;d}' 'operation key-swap has no doc'
must_refuse "a spec whose key-get needs no privilege" --spec "$spec" \
	'/name: key-get$/,/flags:/{/flags:/d}' 'operation key-get: .* says privilege'
must_refuse "architecture.md without a counter" --architecture "$arch" \
	'/^| `rx-drop-replay` | x/d' 'rx-drop-replay is missing from'
must_refuse "architecture.md with a dump carrier-get has not" --architecture "$arch" \
	's/^| `carrier-get` (do, dump) |/| `carrier-get` (do) |/' 'operation carrier-get: .* says do'
must_refuse "architecture.md without a notification" --architecture "$arch" \
	's/^`flow-limit-ntf` (at most once per second per stream),$/(at most once per second per stream),/' \
	'flow-limit-ntf is missing from'
must_refuse "operations.md with an unknown counter" --operations "$ops" \
	's/^| `tx-drop-toobig` |/| `tx-drop-too-big` |/' 'names tx-drop-too-big, which the spec does not have'
must_refuse "funnelctl.8 without a counter" --man "$man" \
	's/^\.B flows\\-evicted$/.B flows/' 'flows-evicted is missing from'

tap_end
