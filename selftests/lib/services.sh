# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Real services for the Funnel tests and the demo, each in a temp dir:
# dnsmasq answering for funnel.test, freeradius with a private config
# (one test user), and the clients to query them (dig, radclient).
# Plus the helpers to run funneld instances and read their JSON state.
#
# Source it from bash; every function takes a network namespace NS, ""
# for the current one.  Everything started here is recorded and ended by
# svc_stop_all (call it from the caller's EXIT trap).
#
#   svc_init                         make $SVC_DIR (once) and the registry
#   svc_pick_port VAR                a free port (20000-59999, UDP and TCP) into VAR
#   svc_wait_port NS udp|tcp PORT SECONDS [ADDR]
#   svc_dnsmasq NAME NS ADDR[,ADDR...] PORT [DNSMASQ-ARGS...]
#   svc_freeradius NAME NS ADDR PORT
#   svc_slapd NAME NS ADDR PORT ENTRIES [BIG]   slapd, ENTRIES people
#   svc_stop NAME; svc_stop_all
#   svc_dig NS SERVER PORT [NAME]    print the A answer (dig +short)
#   svc_dig_many NS SERVER PORT COUNT   COUNT queries, print "good N of COUNT"
#   svc_radauth NS SERVER PORT [USER PASS]   0 iff Access-Accept
#   fd_start NAME NS CONFIG-TEXT [FUNNELD-ARGS...]   funneld -f, waits for
#                                    its socket $SVC_DIR/NAME.sock
#   fd_ctl NAME ARGS...              funnelctl -s that socket (in its NS)
#   fd_json NAME PYTHON-EXPR...      evaluate EXPRs over `show --json` (as j;
#                                    by one python process, fdjson.py)
#   fd_wait NAME SECONDS PYTHON-EXPR until EXPR is true
#   fd_stop NAME [SIGNAL]            signal (TERM) and wait; returns its exit
#
# The answers: www.funnel.test (any *.funnel.test) -> 192.0.2.53,
# hN.funnel.test -> 198.51.100.(N+1) for N in 0..49; RADIUS user
# alice/wonderland, secret funnel-secret, clients 127/8 10/8 ::1 fd00::/8.

# this file's directory (fdjson.py is there), absolute
SVC_LIB=${BASH_SOURCE[0]%/*}
[ "$SVC_LIB" = "${BASH_SOURCE[0]}" ] && SVC_LIB=.
case $SVC_LIB in /*) ;; *) SVC_LIB=$PWD/$SVC_LIB ;; esac
# shellcheck source-path=SCRIPTDIR source=ports.sh
. "$SVC_LIB/ports.sh"

SVC_DNS_ANSWER=192.0.2.53
SVC_RADIUS_SECRET=funnel-secret
SVC_RADIUS_USER=alice
SVC_RADIUS_PASS=wonderland

svc_init() {
	if [ -z "${SVC_DIR:-}" ] || [ ! -d "$SVC_DIR" ]; then
		SVC_DIR=$(mktemp -d "${TMPDIR:-/tmp}/funnel-svc.XXXXXX") || return 1
		SVC_OWN_DIR=1
	fi
	: >>"$SVC_DIR/.pids"
	: >>"$SVC_DIR/.ports"
}

# svc_in NS CMD...: CMD in network namespace NS ("" = here)
svc_in() {
	local ns=$1; shift
	if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# svc_pre NS: set the array SVC_PRE to the command prefix that runs in NS,
# for processes started in the background (a function run with & would be
# a subshell, and $! its pid, not the server's)
svc_pre() {
	SVC_PRE=()
	[ -n "$1" ] && SVC_PRE=(ip netns exec "$1")
	return 0
}

svc_log() { echo "# $*" >&2; }

# svc_pick_port VAR: a random port free for UDP and TCP on
# every address of this namespace and not handed out before in this run
svc_pick_port() {
	local var=$1 i p
	svc_init
	for i in $(seq 200); do
		p=$(port_random)
		grep -qx "$p" "$SVC_DIR/.ports" && continue
		[ -n "$(ss -Hantu "( sport = :$p )" 2>/dev/null)" ] && continue
		echo "$p" >>"$SVC_DIR/.ports"
		printf -v "$var" %s "$p"
		return 0
	done
	svc_log "svc_pick_port: no free port found"
	return 1
}

# svc_port_bound NS udp|tcp PORT [ADDR]: something listens there
svc_port_bound() {
	local ns=$1 proto=$2 port=$3 addr=${4:-} flag out
	case $proto in udp) flag=-Hlun ;; *) flag=-Hltn ;; esac
	out=$(svc_in "$ns" ss $flag "( sport = :$port )" 2>/dev/null) || return 1
	[ -n "$out" ] || return 1
	[ -z "$addr" ] && return 0
	case $addr in *:*) addr="[$addr]" ;; esac
	echo "$out" | grep -qF " $addr:$port " ||
		echo "$out" | grep -qE " (\*|0\.0\.0\.0|\[::\]):$port "
}

svc_wait_port() { # NS PROTO PORT SECONDS [ADDR]
	local end=$(( SECONDS + $4 ))
	while :; do
		svc_port_bound "$1" "$2" "$3" "${5:-}" && return 0
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}

# svc_register NAME PID: remember a process for svc_stop/svc_stop_all
svc_register() {
	echo "$1 $2" >>"$SVC_DIR/.pids"
	printf -v "svc_pid_$1" %s "$2"
}

svc_pid() { awk -v n="$1" '$1 == n { p = $2 } END { print p }' "$SVC_DIR/.pids"; }

svc_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# svc_running PID: PID exists and is no zombie (read from /proc: no ps
# to start at every turn of a wait loop, 0.3 s each in the TCG VM)
svc_running() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# svc_kill PID SIGNAL: signal, wait up to 15 s (then KILL); the exit status
# if PID is our child, else 0.  (Its stderr is closed so that bash's
# "Killed" job notice does not land in the test output.)
svc_kill() {
	local pid=$1 sig=${2:-TERM} n=300 rc
	{
		if svc_alive "$pid"; then
			kill -s "$sig" "$pid"
			# a child that exited stays a zombie until waited for
			while [ $n -gt 0 ] && svc_running "$pid"; do
				sleep 0.05; n=$((n - 1))
			done
			[ $n = 0 ] && kill -KILL "$pid"
		fi
		wait "$pid"; rc=$?
	} 2>/dev/null
	[ $n = 0 ] && svc_log "pid $pid ignored SIG$sig for 15 s: killed"
	return $rc
}

svc_stop() { # NAME [SIGNAL]
	local pid rc
	pid=$(svc_pid "$1")
	[ -n "$pid" ] || return 0
	svc_kill "$pid" "${2:-TERM}"; rc=$?
	sed -i "/^$1 /d" "$SVC_DIR/.pids"
	return $rc
}

svc_stop_all() {
	[ -n "${SVC_DIR:-}" ] && [ -f "$SVC_DIR/.pids" ] || return 0
	local name pid
	# last started first
	tac "$SVC_DIR/.pids" | while read -r name pid; do
		svc_alive "$pid" && kill "$pid" 2>/dev/null
	done
	tac "$SVC_DIR/.pids" | while read -r name pid; do
		svc_kill "$pid" TERM >/dev/null 2>&1
	done
	: >"$SVC_DIR/.pids"
	if [ "${SVC_OWN_DIR:-0}" = 1 ] && [ "${SVC_KEEP:-0}" = 0 ]; then
		rm -rf "$SVC_DIR"
		SVC_DIR=""
	fi
	return 0
}

# ---- dnsmasq ------------------------------------------------------------

# svc_dnsmasq NAME NS ADDR[,ADDR...] PORT [ARGS...]: dnsmasq in the
# foreground, answering funnel.test from its own records only
svc_dnsmasq() {
	local name=$1 ns=$2 addrs=$3 port=$4 pid i a first
	shift 4
	svc_init
	local records=(--address=/funnel.test/$SVC_DNS_ANSWER)
	for i in $(seq 0 49); do
		records+=(--host-record=h$i.funnel.test,198.51.100.$((i + 1)))
	done
	svc_pre "$ns"
	"${SVC_PRE[@]}" dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--no-resolv --no-hosts --bind-interfaces \
		--listen-address="$addrs" --port="$port" --pid-file= \
		--user=root --group=root --log-facility=- \
		"${records[@]}" "$@" >"$SVC_DIR/$name.log" 2>&1 &
	pid=$!
	svc_register "$name" "$pid"
	first=${addrs%%,*}
	if ! svc_wait_port "$ns" udp "$port" 10 "$first"; then
		svc_log "dnsmasq $name did not bind $first:$port:"
		sed 's/^/#   /' "$SVC_DIR/$name.log" >&2
		return 1
	fi
	# answering, not only bound
	for i in $(seq 20); do
		a=$(svc_dig "$ns" "$first" "$port" www.funnel.test)
		[ "$a" = "$SVC_DNS_ANSWER" ] && return 0
		svc_alive "$pid" || break
		sleep 0.1
	done
	svc_log "dnsmasq $name does not answer on $first:$port"
	sed 's/^/#   /' "$SVC_DIR/$name.log" >&2
	return 1
}

# ---- freeradius ---------------------------------------------------------

# svc_radius_conf DIR ADDR PORT: a minimal private configuration: PAP
# against a users file, clients on loopback and 10/8, runs as root
svc_radius_conf() {
	local d=$1 addr=$2 port=$3 key=ipaddr
	case $addr in *:*) key=ipv6addr ;; esac
	mkdir -p "$d" || return 1
	cat >"$d/radiusd.conf" <<-EOF
	prefix = /usr
	exec_prefix = /usr
	sysconfdir = /etc
	localstatedir = $d
	sbindir = /usr/sbin
	logdir = $d
	raddbdir = $d
	radacctdir = $d
	name = freeradius
	confdir = $d
	modconfdir = $d
	run_dir = $d
	db_dir = $d
	libdir = /usr/lib/freeradius
	pidfile = $d/radiusd.pid
	max_request_time = 30
	cleanup_delay = 5
	max_requests = 16384
	hostname_lookups = no
	log {
		destination = stdout
		colourise = no
		stripped_names = no
		auth = yes
	}
	security {
		allow_core_dumps = no
		max_attributes = 200
		reject_delay = 0
		status_server = yes
	}
	proxy_requests = no
	\$INCLUDE clients.conf
	thread pool {
		start_servers = 2
		max_servers = 4
		min_spare_servers = 1
		max_spare_servers = 3
		max_requests_per_server = 0
		auto_limit_acct = no
	}
	modules {
		pap {
		}
		files {
			filename = $d/users
		}
	}
	instantiate {
	}
	server default {
		listen {
			type = auth
			$key = $addr
			port = $port
		}
		authorize {
			files
			pap
		}
		authenticate {
			Auth-Type PAP {
				pap
			}
		}
		post-auth {
		}
	}
	EOF
	cat >"$d/clients.conf" <<-EOF
	client lo4 {
		ipaddr = 127.0.0.0/8
		secret = $SVC_RADIUS_SECRET
	}
	client net10 {
		ipaddr = 10.0.0.0/8
		secret = $SVC_RADIUS_SECRET
	}
	client lo6 {
		ipv6addr = ::1/128
		secret = $SVC_RADIUS_SECRET
	}
	client ula6 {
		ipv6addr = fd00::/8
		secret = $SVC_RADIUS_SECRET
	}
	EOF
	cat >"$d/users" <<-EOF
	$SVC_RADIUS_USER	Cleartext-Password := "$SVC_RADIUS_PASS"
	        Reply-Message := "Hello, %{User-Name}"
	EOF
	: >"$d/dictionary"
}

# svc_freeradius NAME NS ADDR PORT
svc_freeradius() {
	local name=$1 ns=$2 addr=$3 port=$4 pid n d
	svc_init
	d=$SVC_DIR/$name.raddb
	svc_radius_conf "$d" "$addr" "$port" || return 1
	svc_pre "$ns"
	"${SVC_PRE[@]}" freeradius -f -d "$d" -l stdout >"$SVC_DIR/$name.log" 2>&1 &
	pid=$!
	svc_register "$name" "$pid"
	n=600
	while [ $n -gt 0 ]; do
		grep -q 'Ready to process requests' "$SVC_DIR/$name.log" && break
		svc_alive "$pid" || break
		sleep 0.05; n=$((n - 1))
	done
	if grep -q 'Ready to process requests' "$SVC_DIR/$name.log" &&
	   svc_wait_port "$ns" udp "$port" 5 "$addr"; then
		return 0
	fi
	svc_log "freeradius $name did not start on $addr:$port:"
	tail -n 20 "$SVC_DIR/$name.log" | sed 's/^/#   /' >&2
	return 1
}

# svc_slapd NAME NS ADDR PORT ENTRIES [BIG]: OpenLDAP's slapd (mdb) for
# dc=funnel,dc=test on ldap://ADDR:PORT/ and, with a certificate of its
# own (self-signed, $SVC_DIR/NAME.slapd/cert.pem), StartTLS; ENTRIES
# people uid=uN,ou=people,dc=funnel,dc=test (cn "User N", sn, mail,
# description), and with BIG one more, uid=big, whose description has
# BIG bytes.  Its manager: $SVC_LDAP_ADMIN, password $SVC_LDAP_PASS.
SVC_LDAP_BASE=dc=funnel,dc=test
SVC_LDAP_ADMIN=cn=admin,dc=funnel,dc=test
SVC_LDAP_PASS=funnel-secret
svc_slapd() {
	local name=$1 ns=$2 addr=$3 port=$4 entries=$5 big=${6:-0} pid d
	svc_init
	d=$SVC_DIR/$name.slapd
	rm -rf "$d"
	mkdir -p "$d/db" || return 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$addr" \
		-keyout "$d/key.pem" -out "$d/cert.pem" >"$d/openssl.log" 2>&1 ||
		{ svc_log "slapd $name: openssl req failed"; return 1; }
	cat >"$d/slapd.conf" <<-EOF
	include /etc/ldap/schema/core.schema
	include /etc/ldap/schema/cosine.schema
	include /etc/ldap/schema/inetorgperson.schema
	pidfile $d/slapd.pid
	modulepath /usr/lib/ldap
	moduleload back_mdb
	TLSCertificateFile $d/cert.pem
	TLSCertificateKeyFile $d/key.pem
	sizelimit unlimited
	database mdb
	suffix "$SVC_LDAP_BASE"
	rootdn "$SVC_LDAP_ADMIN"
	rootpw $SVC_LDAP_PASS
	directory $d/db
	maxsize 1073741824
	EOF
	python3 - "$entries" "$big" >"$d/data.ldif" <<-'EOF'
	import sys
	n, big = int(sys.argv[1]), int(sys.argv[2])
	base = "dc=funnel,dc=test"
	print("dn: %s\nobjectClass: dcObject\nobjectClass: organization\n"
	      "dc: funnel\no: Funnel\n" % base)
	print("dn: ou=people,%s\nobjectClass: organizationalUnit\n"
	      "ou: people\n" % base)
	for i in range(n):
	    print("dn: uid=u%d,ou=people,%s\nobjectClass: inetOrgPerson\n"
	          "uid: u%d\ncn: User %d\nsn: U%d\nmail: u%d@funnel.test\n"
	          "description: entry %d of %d\n" % (i, base, i, i, i, i, i, n))
	if big:
	    print("dn: uid=big,ou=people,%s\nobjectClass: inetOrgPerson\n"
	          "uid: big\ncn: Big\nsn: Big\ndescription: %s\n"
	          % (base, "".join(chr(97 + k % 26) for k in range(big))))
	EOF
	slapadd -q -f "$d/slapd.conf" -l "$d/data.ldif" >"$d/slapadd.log" 2>&1 ||
		{ svc_log "slapd $name: slapadd failed:"; sed 's/^/#   /' "$d/slapadd.log" >&2; return 1; }
	svc_pre "$ns"
	# -d 0: in the foreground, so that its pid is the server's
	"${SVC_PRE[@]}" slapd -d 0 -f "$d/slapd.conf" -h "ldap://$(svc_hostport "$addr" "$port")/" \
		>"$SVC_DIR/$name.log" 2>&1 &
	pid=$!
	svc_register "$name" "$pid"
	if svc_wait_port "$ns" tcp "$port" 10 "$addr"; then
		return 0
	fi
	svc_log "slapd $name did not start on $addr:$port:"
	tail -n 20 "$SVC_DIR/$name.log" | sed 's/^/#   /' >&2
	return 1
}

# ---- clients ------------------------------------------------------------

svc_hostport() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

# svc_dig NS SERVER PORT [NAME]: the answer's addresses, one a line
svc_dig() {
	svc_in "$1" dig @"$2" -p "$3" +short +tries=2 +time=2 "${4:-www.funnel.test}" A 2>&1
}

# svc_dig_many NS SERVER PORT COUNT [TIME]: COUNT queries for h0..h49 in one
# dig run (each from its own source port); prints "good N of COUNT (Ts)"
# and returns 0 iff every answer is right
svc_dig_many() {
	local ns=$1 server=$2 port=$3 count=$4 tm=${5:-2} i good t0 t1 f
	f=$(mktemp "$SVC_DIR/dig.XXXXXX")
	: >"$f.q"; : >"$f.want"
	for i in $(seq 0 $((count - 1))); do
		echo "h$((i % 50)).funnel.test A" >>"$f.q"
		echo "198.51.100.$((i % 50 + 1))" >>"$f.want"
	done
	t0=$(date +%s.%N)
	svc_in "$ns" dig @"$server" -p "$port" +short +tries=3 +time="$tm" \
		-f "$f.q" >"$f.got" 2>&1
	t1=$(date +%s.%N)
	good=$(paste -d' ' "$f.want" "$f.got" | awk '$1 == $2 { n++ } END { print n + 0 }')
	echo "good $good of $count ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s)"
	rm -f "$f" "$f.q" "$f.want" "$f.got"
	[ "$good" = "$count" ]
}

# svc_radauth NS SERVER PORT [USER PASS]: one Access-Request; prints
# radclient's output; 0 iff the answer is an Access-Accept
svc_radauth() {
	local ns=$1 server=$2 port=$3 user=${4:-$SVC_RADIUS_USER} pass=${5:-$SVC_RADIUS_PASS} out
	out=$(echo "User-Name=$user,User-Password=$pass" |
		svc_in "$ns" radclient -r 3 -t 2 "$(svc_hostport "$server" "$port")" \
			auth "$SVC_RADIUS_SECRET" 2>&1)
	echo "$out"
	echo "$out" | grep -q 'Received Access-Accept'
}

# ---- funneld ------------------------------------------------------------

# fd_start NAME NS CONFIG-TEXT [ARGS...]: write $SVC_DIR/NAME.conf, run
# funneld -f with socket $SVC_DIR/NAME.sock and log $SVC_DIR/NAME.log
# (appended), wait for the socket; FD_WRAP (e.g. "valgrind ...") is put
# in front of funneld
fd_start() {
	local name=$1 ns=$2 conf=$3 pid n
	shift 3
	svc_init
	printf '%s\n' "$conf" >"$SVC_DIR/$name.conf"
	rm -f "$SVC_DIR/$name.sock"
	sed -i "/^$name /d" "$SVC_DIR/.fdns" 2>/dev/null
	echo "$name $ns" >>"$SVC_DIR/.fdns"
	echo "---- funneld start $(date +%T.%N)" >>"$SVC_DIR/$name.log"
	svc_pre "$ns"
	# shellcheck disable=SC2086
	"${SVC_PRE[@]}" ${FD_WRAP:-} funneld -f -c "$SVC_DIR/$name.conf" \
		-s "$SVC_DIR/$name.sock" "$@" 2>>"$SVC_DIR/$name.log" &
	pid=$!
	svc_register "$name" "$pid"
	n=$(( ${FD_START_TIMEOUT:-10} * 20 ))
	while [ $n -gt 0 ]; do
		[ -S "$SVC_DIR/$name.sock" ] && return 0
		svc_alive "$pid" || break
		sleep 0.05; n=$((n - 1))
	done
	svc_log "funneld $name did not come up (socket $SVC_DIR/$name.sock):"
	tail -n 20 "$SVC_DIR/$name.log" | sed 's/^/#   /' >&2
	return 1
}

# the namespace a funneld NAME runs in
fd_ns() { awk -v n="$1" '$1 == n { print $2 }' "$SVC_DIR/.fdns" 2>/dev/null; }

fd_ctl() {
	local name=$1; shift
	svc_in "$(fd_ns "$name")" funnelctl -s "$SVC_DIR/$name.sock" "$@"
}

# fd_json NAME EXPR...: evaluate each python EXPR over NAME's `show --json`
# (j is the object; carrier([PEER]), stream(SERVICE[, CARRIER]) and
# map_(PORT) find things, {} if absent).  One EXPR: a list prints one
# element a line, None nothing, a bool "true"/"false" and sets the exit
# status.  Several EXPRs: one line each (lists space-separated).
# One python process (fdjson.py, started at the first call, ended by
# svc_stop_all) answers every call: python starts slowly in the TCG VM,
# where a new one for each poll cost 0.6 s.  funnelctl runs here, not in
# NAME's netns: the control socket is a path, the same from every netns.
fd_json() {
	local name=$1 js id e req line w r rc=; shift
	js=$(funnelctl -s "$SVC_DIR/$name.sock" --json show 2>/dev/null) || return 1
	fdj_start || return 1
	id=$BASHPID.$RANDOM
	req=$id
	for e in "$@"; do req+=$'\x1f'${e//$'\n'/$'\x01'}; done
	req+=$'\x1f'${js//$'\n'/ }
	exec {w}<>"$SVC_DIR/.fdj.in" {r}<>"$SVC_DIR/.fdj.out"
	printf '%s\n' "$req" >&"$w"
	while IFS= read -r -t 60 -u "$r" line; do
		case $line in
		"$id o "*) printf '%s\n' "${line#"$id o "}" ;;
		"$id e "*) printf '%s\n' "${line#"$id e "}" >&2 ;;
		"$id end "*) rc=${line#"$id end "}; break ;;
		esac
	done
	exec {w}>&- {r}<&-
	case $rc in
	[0-9]) return "$rc" ;;
	'') svc_log "fd_json: no answer from fdjson.py in 60 s ($SVC_DIR/fdjson.log)" ;;
	esac
	return 1
}

# fdj_start: fdjson.py --serve for fd_json, unless it runs already; its
# requests and answers go through the FIFOs $SVC_DIR/.fdj.in and .fdj.out
# (opened read-write by both sides: no open blocks, and a caller in a
# subshell finds them by name)
fdj_start() {
	local d pid=
	svc_init || return 1
	d=$SVC_DIR
	read -r pid 2>/dev/null <"$d/.fdj.pid"
	svc_alive "$pid" && return 0
	rm -f "$d/.fdj.in" "$d/.fdj.out"
	mkfifo "$d/.fdj.in" "$d/.fdj.out" || return 1
	"${FD_PYTHON:-python3}" -S "$SVC_LIB/fdjson.py" --serve "$d" \
		<>"$d/.fdj.in" 1<>"$d/.fdj.out" 2>>"$d/fdjson.log" &
	pid=$!
	echo "$pid" >"$d/.fdj.pid"
	svc_register fdjson "$pid"
}

# fd_wait NAME SECONDS EXPR: until fd_json EXPR is true (by the clock)
fd_wait() {
	local end=$(( SECONDS + $2 ))
	while :; do
		fd_json "$1" "$3" >/dev/null 2>&1 && return 0
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}

fd_stop() { svc_stop "$1" "${2:-TERM}"; }

# vg_check NAME: stop funneld NAME (started with FD_WRAP="valgrind ...
# --log-file=$SVC_DIR/vg-NAME.txt") with SIGTERM; ok if it exited 0 and
# its valgrind log shows no error and no leak
vg_check() {
	local s=$1 rc sumline leak
	svc_stop "$s" TERM; rc=$?
	sumline=$(grep -E 'ERROR SUMMARY' "$SVC_DIR/vg-$s.txt" | tail -n 1 | sed 's/^==[0-9]*== //')
	if [ $rc = 0 ] && grep -q 'ERROR SUMMARY: 0 errors' "$SVC_DIR/vg-$s.txt" &&
	   ! grep -qE 'definitely lost: [1-9]|indirectly lost: [1-9]' "$SVC_DIR/vg-$s.txt"; then
		leak=$(grep -E 'definitely lost|All heap blocks were freed' "$SVC_DIR/vg-$s.txt" | tail -n 1 | sed 's/^==[0-9]*== *//')
		ok "valgrind: $s: SIGTERM, exit 0, $sumline; ${leak:-no leak summary}"
	else
		not_ok "valgrind: $s: exit $rc, ${sumline:-no summary}"
		grep -E -A 14 'Invalid|uninitialised|definitely lost|indirectly lost|Syscall param' \
			"$SVC_DIR/vg-$s.txt" | head -n 80 | diag
	fi
}
