#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bash completion of funnelctl: the script of "funnelctl completion bash"
# loaded into bash and run as bash runs it at a TAB (COMP_LINE,
# COMP_POINT), against what the grammar allows at that point.  That the
# candidates agree with the parser everywhere is test_complete.c's part.
#
#   test_completion.sh [FUNNELCTL]     (default: ctl/bin/funnelctl)
#
# Prints TAP; exits non-zero if a test failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
funnelctl=${1:-$top/ctl/bin/funnelctl}
# shellcheck source=tap.sh
. "$here/tap.sh"

script=$("$funnelctl" completion bash)
tap $? "funnelctl completion bash: exit 0"
bash -n <<<"$script"
tap $? "the script is valid bash"
"$funnelctl" completion zsh >/dev/null 2>&1
[ $? = 2 ]
tap $? "funnelctl completion zsh: exit 2 (bash only)"

# complete LINE: the candidates bash offers at the end of LINE, sorted, on
# one line; "funnelctl" in LINE is the one under test
complete_line() {
	bash -c '
		eval "$1"
		COMP_LINE=$2
		COMP_POINT=${#2}
		COMPREPLY=()
		_funnelctl
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		_ "$script" "$funnelctl${1#funnelctl}" | sed 's/ $//'
}

# expect LINE WANT: the candidates at the end of LINE are WANT
expect() {
	local got
	got=$(complete_line "$1")
	[ "$got" = "$2" ]
	tap $? "'$1<TAB>': '$2'$([ "$got" = "$2" ] || echo " (got '$got')")"
}

expect "funnelctl " "--help --json --socket -s completion identity listen map peer plaintext relay service show stats version"
expect "funnelctl pe" "peer"
expect "funnelctl peer " "add del"
expect "funnelctl peer add gw " ""
expect "funnelctl peer add gw 192.0.2.1:9899 " "carrier principal udp-port"
expect "funnelctl peer add gw 192.0.2.1:9899 carrier sctp-udp " "principal udp-port"
expect "funnelctl peer add gw 192.0.2.1:9899 carrier sctp " "principal"
expect "funnelctl peer add gw 192.0.2.1:9899 udp-port 9900 carrier " "auto sctp-udp"
expect "funnelctl peer add gw 192.0.2.1:9899 carrier sc" "sctp sctp-udp"
expect "funnelctl peer add gw [fd00::2]:9899 carrier tcp " "principal"
expect "funnelctl service add dns " "tcp udp"
expect "funnelctl service add dns udp 127.0.0.1:53 " "allow identity lifetime"
expect "funnelctl service add web tcp 127.0.0.1:80 " "allow identity plugin proxy"
expect "funnelctl service add web tcp 127.0.0.1:80 proxy " "v2"
expect "funnelctl service add web tcp 127.0.0.1:80 proxy v2 " "allow identity plugin"
expect "funnelctl service add web tcp 127.0.0.1:80 plugin " "ldap"
expect "funnelctl relay " "add del"
expect "funnelctl relay add dns " "tcp udp"
expect "funnelctl relay add dns udp " "allow identity lifetime peer principal service"
expect "funnelctl relay add dns udp peer h service dns " "allow identity lifetime principal"
expect "funnelctl relay add ldap tcp " "allow identity peer principal service"
expect "funnelctl relay add ldap tcp peer h " "allow identity principal service"
expect "funnelctl service add web tcp 127.0.0.1:80 plugin ldap identity ldap/gw@R keytab /k " "allow proxy"
expect "funnelctl service add dns udp 127.0.0.1:53 identity dns/gw@R " "keytab"
expect "funnelctl service add dns udp 127.0.0.1:53 identity dns/gw@R keytab $top/selftests/unit/test_compl" \
	"$top/selftests/unit/test_complete.c $top/selftests/unit/test_completion.sh"
expect "funnelctl service add dns udp 127.0.0.1:53 identity dns/gw@R keytab /k " "allow lifetime"
expect "funnelctl map add udp 127.0.0.1:5300 peer gw " "identity lifetime principal service"
expect "funnelctl map add tcp [::1]:8080 " "identity peer plugin principal service"
expect "funnelctl map add tcp [::1]:8080 identity alice@R keytab /k principal " ""
expect "funnelctl map add tcp [::1]:8080 identity alice@R keytab /k principal ldap/gw@R " "peer plugin service"
expect "funnelctl map add tcp [::1]:8080 plugin ldap principal ldap/gw@R " "identity peer service"
expect "funnelctl map del " "tcp udp"
expect "funnelctl --json stats " ""
expect "funnelctl -s /run/x.sock stats " "--json --prometheus"
expect "funnelctl stats --prometheus " ""
expect "funnelctl show " "--json"
expect "funnelctl show x " ""
expect "funnelctl stats bogus " ""
expect "funnelctl identity funnel/gw@R " "keytab"
expect "funnelctl identity funnel/gw@R keytab $top/selftests/unit/test_compl" \
	"$top/selftests/unit/test_complete.c $top/selftests/unit/test_completion.sh"
expect "funnelctl -s $top/selftests/unit/test_compl" \
	"$top/selftests/unit/test_complete.c $top/selftests/unit/test_completion.sh"
expect "funnelctl frobnicate " ""
expect "funnelctl version " ""
expect "funnelctl completion " "bash"

if command -v valgrind >/dev/null 2>&1; then
	valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		"$funnelctl" __complete map add udp 5300 peer gw >/dev/null 2>&1
	tap $? "funnelctl __complete under valgrind: no errors or leaks"
fi
tap_end
