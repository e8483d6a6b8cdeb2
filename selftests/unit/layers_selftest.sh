#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Negative tests of scripts/layers.py: a copy of ctl/ with one include
# pointing the wrong way, a file in no part, or a cycle in the layers of
# a copy of architecture.md must be refused with a message naming it;
# the unchanged copies are accepted (so a refusal is due to the change).
# Prints TAP; exits non-zero if any case goes wrong.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
check="$top/scripts/layers.py"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=selftests/unit/tap.sh
. "$here/tap.sh"

fresh() { # a new copy of ctl/'s sources and of architecture.md
	rm -rf "$tmp/ctl" "$tmp/arch.md"
	mkdir -p "$tmp/ctl"
	cp -a "$top/ctl/." "$tmp/ctl/"
	cp "$top/Documentation/architecture.md" "$tmp/arch.md"
}

run() { /usr/bin/python3 "$check" --ctl "$tmp/ctl" --doc "$tmp/arch.md" >"$tmp/out" 2>&1; }

# must_refuse NAME PATTERN: the check fails and prints PATTERN
must_refuse() {
	if run; then
		tap 1 "$1: accepted"
		sed 's/^/# /' "$tmp/out"
	elif grep -q "$2" "$tmp/out"; then
		tap 0 "$1: refused"
	else
		tap 1 "$1: refused without naming it ($2)"
		sed 's/^/# /' "$tmp/out"
	fi
}

fresh
run
tap $? "unchanged copies are accepted"

fresh
sed -i '1a #include "funneld/carrier/priv.h"' "$tmp/ctl/common/frame.c"
must_refuse "common/ includes carrier/" \
	'ctl/common/frame.c:2: common includes funneld/carrier/priv.h (carrier)'

fresh
sed -i '1a #include "funneld/carrier/carrier.h"' "$tmp/ctl/funneld/sec/gss.c"
must_refuse "sec/ includes carrier/ (upwards)" \
	'ctl/funneld/sec/gss.c:2: sec includes funneld/carrier/carrier.h'

fresh
sed -i '1a #include "funneld/daemon.h"' "$tmp/ctl/funnelctl/main.c"
must_refuse "funnelctl includes funneld" \
	'ctl/funnelctl/main.c:2: funnelctl includes funneld/daemon.h'

fresh
sed -i '1a #include "frame.h"' "$tmp/ctl/common/stmt.c"
must_refuse "an include not named from ctl/" '"frame.h" is not a path from ctl/'

fresh
sed -i '1a #include "common/../funneld/carrier/priv.h"' "$tmp/ctl/common/frame.c"
must_refuse "an include through .. out of its folder" \
	'"common/../funneld/carrier/priv.h" is not a plain path from ctl/'

fresh
sed -i '1a #include <funneld/carrier/priv.h>' "$tmp/ctl/common/frame.c"
must_refuse "an include of ctl/ in angle brackets" \
	'ctl/common/frame.c:2: common includes funneld/carrier/priv.h (carrier)'

fresh
sed -i '1a #include "funneld/carrier/priv.h"' "$tmp/ctl/funneld/daemon.c"
must_refuse "carrier/priv.h outside carrier/" \
	'ctl/funneld/daemon.c:2: funneld/carrier/priv.h is private to funneld/carrier/'

fresh
echo 'int x;' > "$tmp/ctl/funneld/newpart.c"
must_refuse "a file in no part" 'ctl/funneld/newpart.c is in no part'

fresh
sed -i 's/^common: common\/ -> -$/common: common\/ -> funnelctl/' "$tmp/arch.md"
must_refuse "a cycle in the layers" 'cycle: '

tap_end
