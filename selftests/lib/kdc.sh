# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# A throwaway MIT Kerberos realm for the Funnel tests: realm FUNNEL.TEST,
# its database, stash and configuration in a directory of the caller's,
# and krb5kdc -n on one address and a free port, optionally inside a
# network namespace.  No root needed outside a namespace; nothing of the
# system's or the user's Kerberos setup is read or written.
#
# Source it from bash (set -u safe) and call the functions from the test's
# own shell, not in a $(...) subshell: kdc_start exports the environment
# that every later process needs.
#
#   kdc_start DIR [ADDR] [NETNS]   realm in DIR, KDC on ADDR (127.0.0.1):port
#   kdc_addprinc NAME [MAXLIFE]    principal with a random key
#   kdc_keytab FILE PRINC...       their keys into keytab FILE
#   kdc_maxlife DURATION           cap every ticket of the realm
#   kdc_down; kdc_up; kdc_restart  stop / start the KDC, same realm and port
#   kdc_stop                       stop the KDC; idempotent, for EXIT traps
#   kdc_kadmin QUERY               one kadmin.local query
#
# After kdc_start: KDC_REALM, KDC_DIR, KDC_ADDR, KDC_PORT, KDC_NETNS and
# KDC_PID (the running krb5kdc, "" when down) are set.  DIR holds
# krb5.conf, kdc.conf, principal* (the database), stash, kdc.log (the
# KDC's log), krb5kdc.out (its stdout and stderr), krb5kdc.pid.
# kdc_stop leaves DIR in place: it belongs to the caller.
#
# Environment: KDC_MAX_LIFE (default 10h) is the realm's max_life, the
# krbtgt's maxlife and the default maxlife of principals added without
# MAXLIFE (so a realm started with it short stays short for those, also
# after kdc_maxlife raises the cap again); KDC_TIMEOUT (default 20) the seconds
# kdc_up waits for the KDC to answer.  When services.sh's registry
# $SVC_DIR/.ports exists, the port is taken from and recorded there too.
#
# Durations (MAXLIFE, DURATION, KDC_MAX_LIFE): a number of seconds ("70"),
# or a krb5 duration: "70s", "5m", "10h", "1d", "0:01:10".  kadmin.local
# also takes getdate strings ("1 minute 10 seconds") but kdc.conf does
# not, so kdc_maxlife and KDC_MAX_LIFE want the short forms.
#
# Ticket lifetimes are the minimum of the client's and the server's
# maxlife, the realm's max_life and what is asked for (kinit: 1 day), and
# a service ticket never outlives the TGT it came from.  So a principal
# added with MAXLIFE 70 gets a 70 s TGT as a client and 70 s service
# tickets as a service; kdc_maxlife makes every ticket that short.
# (Checked on krb5 1.20: a principal with MAXLIFE 70 gets a TGT, and its
# service tickets via kvno, of exactly 70 s in klist; a gss_pair context
# to it reports lifetime 70 on the initiator side.)
#
# Messages go to stderr only on failure, as "kdc_...: ..." and "#   "
# lines; success is silent.

_kdc_lib=${BASH_SOURCE[0]%/*}
[ "$_kdc_lib" = "${BASH_SOURCE[0]}" ] && _kdc_lib=.
# shellcheck source-path=SCRIPTDIR source=ports.sh
. "$_kdc_lib/ports.sh"
KDC_REALM=${KDC_REALM:-FUNNEL.TEST}
KDC_DIR=${KDC_DIR:-} KDC_ADDR=${KDC_ADDR:-} KDC_PORT=${KDC_PORT:-}
KDC_NETNS=${KDC_NETNS:-} KDC_PID=${KDC_PID:-}

# _kdc_err MSG...: a failure message on stderr ("WARNING" is a kernel
# warning to the VM runner: never print it)
_kdc_err() { local m="$*"; echo "${m//WARNING/warning}" >&2; }

# _kdc_diag FILE...: the tails of logs, as TAP comments on stderr
_kdc_diag() {
	local f
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "#   ---- $f"
		tail -n 15 "$f" | sed 's/^/#   /; s/WARNING/warning/g'
	done >&2
}

# _kdc_in NS CMD...: CMD in network namespace NS ("" = here)
_kdc_in() {
	local ns=$1; shift
	if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# _kdc_bin NAME: the path of a program, also from /usr/sbin and /sbin
# when these are not in PATH (a user's shell)
_kdc_bin() {
	local d
	command -v "$1" 2>/dev/null && return 0
	for d in /usr/sbin /sbin; do
		[ -x "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}

# _kdc_hostport ADDR PORT: ADDR:PORT, [ADDR]:PORT for IPv6
_kdc_hostport() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

# _kdc_env CMD...: CMD with this realm's configuration, whatever the
# caller did to KRB5_CONFIG and KRB5_KDC_PROFILE since
_kdc_env() {
	KRB5_CONFIG=$KDC_DIR/krb5.conf KRB5_KDC_PROFILE=$KDC_DIR/kdc.conf "$@"
}

# _kdc_duration D: D with "s" appended when it is a bare number
_kdc_duration() { case $1 in *[!0-9]*|"") echo "$1" ;; *) echo "$1s" ;; esac; }

# _kdc_pick_port: print a port free for UDP and TCP in $KDC_NETNS (and
# not in services.sh's registry of this run)
_kdc_pick_port() {
	local n=200 p reg=""
	[ -n "${SVC_DIR:-}" ] && [ -f "$SVC_DIR/.ports" ] && reg=$SVC_DIR/.ports
	while [ $n -gt 0 ]; do
		n=$((n - 1))
		p=$(port_random)
		[ -n "$reg" ] && grep -qx "$p" "$reg" && continue
		[ -n "$(_kdc_in "$KDC_NETNS" ss -Hantu "( sport = :$p )" 2>/dev/null)" ] && continue
		[ -n "$reg" ] && echo "$p" >>"$reg"
		echo "$p"
		return 0
	done
	return 1
}

# _kdc_bound PROTO: krb5kdc's socket for PROTO (udp, tcp) is bound on
# KDC_ADDR:KDC_PORT
_kdc_bound() {
	local flag=-Hlun
	[ "$1" = tcp ] && flag=-Hltn
	_kdc_in "$KDC_NETNS" ss $flag "( sport = :$KDC_PORT )" 2>/dev/null |
		grep -qF " $(_kdc_hostport "$KDC_ADDR" "$KDC_PORT") "
}

# _kdc_answers: an AS-REQ for an unknown client, sent from the KDC's own
# namespace, gets the KDC's "not found" answer (not "Cannot contact")
_kdc_answers() {
	local out
	out=$(_kdc_in "$KDC_NETNS" env LC_ALL=C KRB5_CONFIG="$KDC_DIR/krb5.conf" \
		KRB5CCNAME="FILE:$KDC_DIR/probe.ccache" KRB5_TRACE=/dev/null \
		kinit "kdc-probe@$KDC_REALM" </dev/null 2>&1)
	case $out in *"not found in Kerberos database"*) return 0 ;; esac
	return 1
}

# _kdc_alive PID: PID is a live (not zombie) krb5kdc of ours (or still
# the "ip netns exec" that is about to become one)
_kdc_alive() {
	local pid=$1 comm st rest
	[ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
	read -r comm 2>/dev/null <"/proc/$pid/comm" || return 1
	case $comm in krb5kdc|ip|env) ;; *) return 1 ;; esac
	read -r _ _ st rest 2>/dev/null <"/proc/$pid/stat" || return 1
	[ "$st" != Z ] && [ "$st" != X ]
}

# kdc_kadmin QUERY: run one kadmin.local query (e.g. "modprinc -maxlife
# 70s alice") on the realm; 0 iff it succeeded (kadmin.local exits 0 on
# most failures, but then says so on stderr), else the message on stderr
kdc_kadmin() {
	local err rc
	if [ -z "$KDC_DIR" ] || [ ! -f "$KDC_DIR/kdc.conf" ]; then
		_kdc_err "kdc_kadmin: no realm (kdc_start first)"; return 1
	fi
	err=$(_kdc_env "$(_kdc_bin kadmin.local)" -r "$KDC_REALM" -q "$1" 2>&1 >/dev/null)
	rc=$?
	if [ $rc != 0 ] || [ -n "$err" ]; then
		_kdc_err "kdc_kadmin: kadmin.local -q '$1' failed (exit $rc):"
		# (a bad option adds kadmin's usage text: the first lines say it)
		_kdc_err "$(echo "${err:-(no message)}" | head -n 3)"
		return 1
	fi
}

# kdc_start DIR [ADDR] [NETNS]: create the realm $KDC_REALM (FUNNEL.TEST)
# in DIR (made if missing; a former realm there is replaced), pick a port
# free for UDP and TCP, start krb5kdc -n on ADDR (default 127.0.0.1, IPv6
# allowed) and that port, inside network namespace NETNS if given, and
# wait until it answers.  Exports KRB5_CONFIG, KRB5_KDC_PROFILE,
# KRB5RCACHEDIR, KRB5CCNAME, KRB5_KTNAME and KRB5_CLIENT_KTNAME, all into
# DIR, so that every later process, also one in another namespace that
# can route to ADDR, uses this realm (set them again afterwards to
# differ, e.g. KRB5CCNAME per client).  The realm has no principal but
# the krbtgt yet.  Returns 1 with a message on stderr on failure.
kdc_start() {
	local dir=${1:-} addr=${2:-127.0.0.1} ns=${3:-} p life out
	if [ -z "$dir" ]; then
		_kdc_err "kdc_start: usage: kdc_start DIR [ADDR] [NETNS]"; return 1
	fi
	for p in krb5kdc kdb5_util kadmin.local kinit ss; do
		_kdc_bin "$p" >/dev/null || {
			_kdc_err "kdc_start: $p not found (packages krb5-kdc, krb5-admin-server, krb5-user, iproute2)"
			return 1; }
	done
	if [ -n "$ns" ] && ! ip netns exec "$ns" true; then
		_kdc_err "kdc_start: cannot enter network namespace $ns"; return 1
	fi
	if _kdc_alive "$KDC_PID"; then
		_kdc_err "kdc_start: a KDC (pid $KDC_PID, $KDC_DIR) is running: kdc_stop first"
		return 1
	fi
	if ! mkdir -p "$dir" || ! dir=$(cd "$dir" && pwd); then
		_kdc_err "kdc_start: cannot make $dir"; return 1
	fi
	KDC_DIR=$dir KDC_ADDR=$addr KDC_NETNS=$ns KDC_PID=""
	KDC_PORT=$(_kdc_pick_port) || { _kdc_err "kdc_start: no free port found"; return 1; }
	life=$(_kdc_duration "${KDC_MAX_LIFE:-10h}")
	case $life in
	*[!0-9dhms:]*) _kdc_err "kdc_start: KDC_MAX_LIFE '$life': a krb5 duration like 70s, 5m, 10h"; return 1 ;;
	esac
	p=$(_kdc_hostport "$addr" "$KDC_PORT")
	rm -f "$dir"/principal "$dir"/principal.* "$dir/stash" "$dir/krb5kdc.pid" \
		"$dir/kdc.log" "$dir/krb5kdc.out"
	cat >"$dir/kdc.conf" <<-EOF
	[kdcdefaults]
		kdc_listen = $p
		kdc_tcp_listen = $p
	[realms]
		$KDC_REALM = {
			database_name = $dir/principal
			key_stash_file = $dir/stash
			kdc_listen = $p
			kdc_tcp_listen = $p
			max_life = $life
			max_renewable_life = 1d
			supported_enctypes = aes256-cts-hmac-sha1-96:normal aes256-cts-hmac-sha384-192:normal
		}
	[logging]
		kdc = FILE:$dir/kdc.log
		default = FILE:$dir/kdc.log
	EOF
	cat >"$dir/krb5.conf" <<-EOF
	[libdefaults]
		default_realm = $KDC_REALM
		rdns = false
		dns_canonicalize_hostname = false
		qualify_shortname = ""
		dns_lookup_kdc = false
		dns_lookup_realm = false
	[realms]
		$KDC_REALM = {
			kdc = $p
		}
	EOF
	# the krbtgt gets the realm's max_life as its maxlife
	if ! out=$(_kdc_env "$(_kdc_bin kdb5_util)" create -s -r "$KDC_REALM" \
			-P "funnel-master-$$-$RANDOM" 2>&1 </dev/null); then
		_kdc_err "kdc_start: kdb5_util create failed:"
		_kdc_err "$out"
		return 1
	fi
	export KRB5_CONFIG=$dir/krb5.conf KRB5_KDC_PROFILE=$dir/kdc.conf
	export KRB5RCACHEDIR=$dir KRB5CCNAME=FILE:$dir/ccache
	export KRB5_KTNAME=FILE:$dir/default.keytab
	export KRB5_CLIENT_KTNAME=FILE:$dir/default-client.keytab
	kdc_up
}

# kdc_up: start krb5kdc again for the realm of kdc_start, on the same
# address, port and namespace, and wait (KDC_TIMEOUT, 20 s) until it
# answers; 0 at once if it runs.  Returns 1 with a message on stderr if
# it does not come up (e.g. the port was taken meanwhile).
kdc_up() {
	local pid end pre comm st rest
	if [ -z "$KDC_DIR" ] || [ ! -f "$KDC_DIR/kdc.conf" ]; then
		_kdc_err "kdc_up: no realm (kdc_start first)"; return 1
	fi
	_kdc_alive "$KDC_PID" && return 0
	echo "---- krb5kdc start $(date +%T.%N)" >>"$KDC_DIR/krb5kdc.out"
	# not through _kdc_in: a function run with & is a subshell, and $!
	# would be its pid; ip and env exec, so $! is krb5kdc's
	pre=()
	[ -n "$KDC_NETNS" ] && pre=(ip netns exec "$KDC_NETNS")
	"${pre[@]}" env KRB5_CONFIG="$KDC_DIR/krb5.conf" \
		KRB5_KDC_PROFILE="$KDC_DIR/kdc.conf" \
		"$(_kdc_bin krb5kdc)" -n -r "$KDC_REALM" \
		</dev/null >>"$KDC_DIR/krb5kdc.out" 2>&1 &
	pid=$!
	KDC_PID=$pid
	echo "$pid" >"$KDC_DIR/krb5kdc.pid"
	end=$(( SECONDS + ${KDC_TIMEOUT:-20} ))
	# until the forked shell (its comm is the script's name) has exec'd
	# ip, env or krb5kdc, or died
	while [ $SECONDS -lt $end ]; do
		comm=""
		read -r comm 2>/dev/null <"/proc/$pid/comm"
		st=""
		read -r _ _ st rest 2>/dev/null <"/proc/$pid/stat"
		case $comm:$st in krb5kdc:*|ip:*|env:*|*:Z|*:X|*:) break ;; esac
		sleep 0.01
	done
	# bound first (cheap), then answering (a kinit each)
	while _kdc_alive "$pid" && [ $SECONDS -lt $end ]; do
		if _kdc_bound udp && _kdc_bound tcp; then
			_kdc_answers && return 0
		fi
		sleep 0.05
	done
	if _kdc_alive "$pid"; then
		_kdc_err "kdc_up: krb5kdc (pid $pid) does not answer on $(_kdc_hostport "$KDC_ADDR" "$KDC_PORT")${KDC_NETNS:+ in netns $KDC_NETNS} after ${KDC_TIMEOUT:-20}s"
	else
		_kdc_err "kdc_up: krb5kdc exited at start (on $(_kdc_hostport "$KDC_ADDR" "$KDC_PORT")${KDC_NETNS:+ in netns $KDC_NETNS})"
	fi
	_kdc_diag "$KDC_DIR/krb5kdc.out" "$KDC_DIR/kdc.log"
	kdc_down
	return 1
}

# kdc_down: stop the KDC (SIGTERM, after 5 s SIGKILL) and wait for it;
# the realm, its port and the environment stay for kdc_up.  Idempotent;
# kills nothing but the krb5kdc that kdc_up started.
kdc_down() {
	local pid n=100
	pid=$KDC_PID
	[ -z "$pid" ] && [ -n "$KDC_DIR" ] && [ -f "$KDC_DIR/krb5kdc.pid" ] &&
		read -r pid <"$KDC_DIR/krb5kdc.pid"
	KDC_PID=""
	[ -n "$KDC_DIR" ] && rm -f "$KDC_DIR/krb5kdc.pid"
	[ -n "$pid" ] || return 0
	{
		if _kdc_alive "$pid"; then
			kill -TERM "$pid"
			while [ $n -gt 0 ] && _kdc_alive "$pid"; do
				sleep 0.05; n=$((n - 1))
			done
			[ $n = 0 ] && kill -KILL "$pid"
		fi
		# reap it if it is our child (else: not a child, no matter)
		wait "$pid"
	} 2>/dev/null
	return 0
}

# kdc_restart: kdc_down, then kdc_up
kdc_restart() { kdc_down; kdc_up; }

# kdc_stop: stop the KDC for good (kdc_down); safe to call any number of
# times, before kdc_start or after a failed one: made for EXIT traps.
# DIR and the exported environment stay.
kdc_stop() { kdc_down; }

# kdc_addprinc NAME [MAXLIFE]: add principal NAME (realm appended if
# missing) with a random key; MAXLIFE caps its tickets, as client (its
# TGT) and as service ("70" or "70s" for 70 seconds, "5m", or a
# kadmin.local getdate string like "1 minute 10 seconds").  Returns 1
# with kadmin.local's message if NAME exists already or MAXLIFE is bad.
kdc_addprinc() {
	local name=${1:-} life=${2:-}
	case $name in
	""|*[\ \"\']*) _kdc_err "kdc_addprinc: bad principal name '$name'"; return 1 ;;
	esac
	# -clearpolicy: no "no policy specified" chatter on stderr
	if [ -n "$life" ]; then
		kdc_kadmin "addprinc -clearpolicy -randkey -maxlife \"$(_kdc_duration "$life")\" $name"
	else
		kdc_kadmin "addprinc -clearpolicy -randkey $name"
	fi
}

# kdc_keytab FILE PRINC...: add the current keys of the principals to
# keytab FILE (made if missing; kadmin.local ktadd -norandkey: the keys
# and kvno stay as they are, so a principal can be put in several
# keytabs).  Returns 1 if a principal does not exist.
kdc_keytab() {
	local file=${1:-} p
	if [ -z "$file" ] || [ $# -lt 2 ]; then
		_kdc_err "kdc_keytab: usage: kdc_keytab FILE PRINC..."; return 1
	fi
	shift
	case $file in *\"*) _kdc_err "kdc_keytab: bad file name '$file'"; return 1 ;; esac
	for p in "$@"; do
		case $p in ""|*[\ \"\']*) _kdc_err "kdc_keytab: bad principal name '$p'"; return 1 ;; esac
	done
	kdc_kadmin "ktadd -norandkey -k \"$file\" $*" && [ -s "$file" ]
}

# kdc_maxlife DURATION: no ticket of the realm lives longer than DURATION
# ("70" or "70s", "5m", "10h"): sets the krbtgt's maxlife (which bounds
# every TGT, and so every service ticket got with one) and the realm's
# max_life in kdc.conf (which bounds the rest, and is the default maxlife
# of principals added afterwards); restarts the KDC if it runs, for
# kdc.conf to take effect.
kdc_maxlife() {
	local life
	case ${1:-} in
	"") _kdc_err "kdc_maxlife: usage: kdc_maxlife DURATION"; return 1 ;;
	esac
	life=$(_kdc_duration "$1")
	case $life in
	*[!0-9dhms:]*) _kdc_err "kdc_maxlife: '$1': a krb5 duration like 70s, 5m, 1h30m, 0:01:10"; return 1 ;;
	esac
	kdc_kadmin "modprinc -maxlife \"$life\" krbtgt/$KDC_REALM@$KDC_REALM" || return 1
	sed -i "s|^\([[:space:]]*max_life = \).*|\1$life|" "$KDC_DIR/kdc.conf" || return 1
	if _kdc_alive "$KDC_PID"; then
		kdc_restart
	fi
}
