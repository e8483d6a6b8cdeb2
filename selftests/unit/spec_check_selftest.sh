#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Negative tests of spec_check.py: copies of uapi/linux/funnel.h and of
# Documentation/netlink/funnel.yaml with one thing changed must be refused,
# and an unchanged copy accepted (so a refusal is due to the change).
# Prints TAP; exits non-zero if any case goes wrong.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
check="$here/spec_check.py"
header="$top/uapi/linux/funnel.h"
spec="$top/Documentation/netlink/funnel.yaml"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0

tap() { # STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

run_check() { # spec_check.py ARGS...; output kept in $tmp/out
	/usr/bin/python3 "$check" "$@" >"$tmp/out" 2>&1
}

# must_refuse NAME --header|--spec ORIGINAL SED-EXPRESSION
must_refuse() {
	name=$1 opt=$2 orig=$3 expr=$4
	copy="$tmp/$(basename "$orig")"
	sed "$expr" "$orig" >"$copy"
	if cmp -s "$orig" "$copy"; then
		tap 1 "spec_check refuses $name (the sed expression changed nothing)"
		return
	fi
	run_check "$opt" "$copy"
	status=$?
	# Refused with a failed check, not by crashing.
	if [ $status -eq 1 ] && grep -q '^not ok' "$tmp/out" &&
	   ! grep -q '^Traceback' "$tmp/out"; then
		tap 0 "spec_check refuses $name"
	else
		tap 1 "spec_check refuses $name (exit status $status)"
		sed 's/^/# /' "$tmp/out"
	fi
}

cp "$header" "$tmp/funnel.h"
cp "$spec" "$tmp/funnel.yaml"
if run_check --header "$tmp/funnel.h" --spec "$tmp/funnel.yaml"; then
	tap 0 "spec_check accepts unchanged copies of header and spec"
else
	tap 1 "spec_check accepts unchanged copies of header and spec"
	sed 's/^/# /' "$tmp/out"
fi

must_refuse "a header with a changed enum value" --header "$header" \
	's/FUNNEL_STREAM_USER = 1,/FUNNEL_STREAM_USER = 2,/'
must_refuse "a header with an attribute removed" --header "$header" \
	'/^[[:space:]]*FUNNEL_A_FLOW_MAX,/d'
must_refuse "a header with an extra attribute" --header "$header" \
	's/^\([[:space:]]*\)FUNNEL_A_PAD,/\1FUNNEL_A_PAD,\1FUNNEL_A_EXTRA,/'
must_refuse "a header with a renamed command" --header "$header" \
	's/FUNNEL_CMD_KEY_SWAP,/FUNNEL_CMD_KEY_SWITCH,/'
must_refuse "a header with another capability bit" --header "$header" \
	'/define FUNNEL_CAP_IPV6/s/1U << 1/1U << 2/'
must_refuse "a header with another family name" --header "$header" \
	'/define FUNNEL_FAMILY_NAME/s/"funnel"/"funnel2"/'
must_refuse "a header with another key length" --header "$header" \
	'/define FUNNEL_KEY_LEN/s/32/16/'
must_refuse "a spec with a renamed operation" --spec "$spec" \
	's/name: key-swap$/name: key-switch/'
must_refuse "a spec with a renumbered attribute set" --spec "$spec" \
	'/name: stats$/,/value: 1$/s/value: 1$/value: 2/'

echo "1..$n"
exit $failed
