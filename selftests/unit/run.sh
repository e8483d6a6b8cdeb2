#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build and run every userspace unit test; print one TAP stream on stdout:
#   - ctl/ (funnelctl, funnel-nl) built with gcc and with clang, -Werror
#   - the cmocka tests (ASan+UBSan, gcc), also built with clang
#   - scripts/ynl.sh check: the kernel's ynl-gen-c.py (linux-source-6.12)
#     accepts the netlink spec and regenerates the committed uAPI header
#     and kmod/netlink-gen.[ch] byte for byte; and its negative tests
#   - spec_check.py (ctl/common/nlnames.c and the documentation vs the
#     spec) and its negative tests
#   - scripts/layers.py (ctl/'s includes one way) and its negative tests
#   - show --json of the test snapshots against Documentation/
#     funnel-show.schema.json, and stats --prometheus through promtool
#   - the fuzz targets over generated seed inputs (and a short libFuzzer
#     run when clang's libFuzzer is there), the LDAP message framer's among them
#   - command-line tests of funnelctl and funnel-nl, and funnelctl's bash
#     completion
#   - scripts/deps.sh against stub apt commands (test_deps.sh)
#   - udp_pump (built with gcc and clang, -Werror) on loopback
# Build output goes to a log, shown on stderr when a build fails.  Builds
# of ctl/ go to a temporary directory: the tree's own binaries are left
# alone.  Exit status: non-zero if anything failed.
#
#   selftests/unit/run.sh [-k]     -k: keep the temporary directory

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
keep=0
[ "${1:-}" = "-k" ] && keep=1

work=$(mktemp -d) || exit 1
cleanup() {
	if [ "$keep" = 1 ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
log=$work/build.log
: >"$log"

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

skip() { # NAME REASON
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# build NAME COMMAND...: run a build, log its output, one TAP line
build() {
	name=$1
	shift
	echo "=== $name: $*" >>"$log"
	if "$@" >"$work/step.log" 2>&1; then
		cat "$work/step.log" >>"$log"
		tap 0 "$name"
		return 0
	fi
	cat "$work/step.log" >>"$log"
	tap 1 "$name"
	echo "--- $name failed; its output:" >&2
	cat "$work/step.log" >&2
	return 1
}

# suite NAME COMMAND...: run a TAP-printing command; renumber its results
# into this stream as "NAME: result", keep its comments, drop its plans.
suite() {
	name=$1
	shift
	"$@" >"$work/suite.out" 2>"$work/suite.err"
	suite_report "$name" "$work/suite" $?
}

# suite_bg KEY COMMAND...: start a suite in the background, its output in
# $work/bg-KEY.*; suite_fg KEY NAME waits for it and reports it as suite
# does, where it stands in the stream.  The suites at the end are
# single-threaded: they run beside the ones before them on a second core.
suite_bg() {
	key=$1
	shift
	"$@" >"$work/bg-$key.out" 2>"$work/bg-$key.err" &
	eval "bg_$key=\$!"
}
suite_fg() {
	eval "wait \"\$bg_$1\""
	suite_report "$2" "$work/bg-$1" $?
}

# suite_report NAME FILES STATUS: the TAP in FILES.out as this stream's,
# FILES.err shown when the suite failed
suite_report() {
	name=$1
	status=$3
	bad=0
	results=0
	while IFS= read -r line; do
		case $line in
		"ok "*|"not ok "*)
			results=$((results + 1))
			case $line in "not ok "*) st=1 ;; *) st=0 ;; esac
			case $line in
			*" - "*) title=${line#* - } ;;
			*) title="test $results" ;;
			esac
			[ $st = 1 ] && bad=1
			tap $st "$name: $title"
			;;
		[0-9]*..[0-9]*)
			;;
		"#"*)
			echo "$line"
			;;
		*)
			echo "# $line"
			;;
		esac
	done <"$2.out"
	if [ "$status" -ne 0 ] && [ $bad = 0 ]; then
		tap 1 "$name: exited with status $status"
	fi
	if [ "$status" -ne 0 ] || [ $results = 0 ]; then
		[ $results = 0 ] && [ "$status" = 0 ] && tap 1 "$name: no results"
		if [ -s "$2.err" ]; then
			echo "--- $name: stderr:" >&2
			cat "$2.err" >&2
		fi
	fi
}

# -j: each build's objects are independent (one core idle otherwise)
make_() { make --no-print-directory -j"$(nproc)" "$@"; }

# ---- builds ----

unit_ok=0
build "unit tests: build (gcc, ASan+UBSan)" make_ -C "$here" && unit_ok=1
ctl_ok=0
build "gcc build" make_ -C "$top/ctl" O="$work/ctl-gcc" && ctl_ok=1
if command -v clang >/dev/null 2>&1; then
	build "clang build" make_ -C "$top/ctl" CC=clang O="$work/ctl-clang"
	build "unit tests: clang build" make_ -C "$here" CC=clang \
		O="$work/unit-clang"
else
	skip "clang build" "clang not installed"
	skip "unit tests: clang build" "clang not installed"
fi
# udp_pump, with the language and warning flags of the top-level tools target
pump_src=$top/selftests/tools/udp_pump.c
pump_flags="-std=gnu11 -O2 -g -Wall -Wextra -Werror"
pump_ok=0
# shellcheck disable=SC2086
build "udp_pump build (gcc)" gcc $pump_flags -o "$work/udp_pump" \
	"$pump_src" -lpthread && pump_ok=1
if command -v clang >/dev/null 2>&1; then
	# shellcheck disable=SC2086
	build "udp_pump build (clang)" clang $pump_flags \
		-o "$work/udp_pump-clang" "$pump_src" -lpthread
else
	skip "udp_pump build (clang)" "clang not installed"
fi

# ---- the last suites (command line), started now, reported at the end ----

if [ $ctl_ok = 1 ]; then
	suite_bg completion bash "$here/test_completion.sh" \
		"$work/ctl-gcc/bin/funnelctl"
fi
suite_bg deps sh "$here/test_deps.sh"
if [ $pump_ok = 1 ]; then
	suite_bg pump sh "$here/test_udp_pump.sh" "$work/udp_pump"
fi

# ---- cmocka ----

if [ $unit_ok = 1 ]; then
	for t in frame extack attrspec stmt complete ctrlmsg show seal json kpath loop flowtab dpstream origin upath origintab txruns tpwin ldapber relay_tcp plugseq tpath ctrmark csec sctprx; do
		suite "$t" env CMOCKA_MESSAGE_OUTPUT=TAP "$here/build/test_$t"
	done
fi

# ---- show --json against its schema, stats --prometheus through promtool ----

if [ $unit_ok = 1 ] && "$here/build/test_show" --dump >"$work/show.dump"; then
	suite "show-schema" /usr/bin/python3 "$here/show_schema.py" --dump \
		"$work/show.dump"
	suite "prometheus" sh "$here/prom_check.sh" "$work/show.dump"
fi

# ---- spec ----

suite "ynl" sh "$top/scripts/ynl.sh" check
suite "ynl-negative" sh "$here/ynl_check_selftest.sh"
suite "spec" /usr/bin/python3 "$here/spec_check.py"
suite "spec-negative" sh "$here/spec_check_selftest.sh"

# ---- ctl/'s includes point one way (architecture.md section 3.0) ----

suite "layers" /usr/bin/python3 "$top/scripts/layers.py"
suite "layers-negative" sh "$here/layers_selftest.sh"

# ---- fuzz target over seeds ----

seeds=$work/seeds
mkdir -p "$seeds"
/usr/bin/python3 - "$seeds" <<'EOF'
import os, random, struct, sys

d = sys.argv[1]
def frame(stream, ftype, flags, flow, body):
    return (struct.pack(">H", 8 + len(body)) +
            struct.pack(">HBBI", stream, ftype, flags, flow) + body)
def put(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

rnd = random.Random(1)
put("empty", b"")
put("one-byte", b"\x00")
put("preamble", b"FUNNEL\x02\x00")
put("preamble-bad-version", b"FUNNEL\x01\x00" + frame(1, 0, 0, 1, b"x"))
put("data", frame(1, 0, 0, 7, b"hello"))
put("ctrl-flow-end", frame(0, 1, 0, 0, b"c") + frame(3, 2, 0, 9, b""))
put("sealed", frame(2, 0, 0x03, 5, bytes(24)) + frame(2, 0, 0x02, 5, bytes(23)))
put("reserved-and-unknown", frame(1, 0, 0x80, 1, b"") + frame(1, 9, 0, 1, b"z"))
put("bad-length", frame(1, 0, 0, 1, b"ok") + b"\x00\x05" + bytes(10))
put("truncated", frame(1, 0, 0, 1, bytes(100))[:-1])
put("max-frame", frame(1, 0, 0, 1, bytes(65535 - 8)) + frame(1, 0, 0, 2, b"after"))
put("many", b"".join(frame(rnd.randrange(65536), rnd.randrange(4),
                           rnd.randrange(8), rnd.randrange(1 << 32),
                           bytes(rnd.randrange(64))) for _ in range(500)))
for i in range(8):
    put("random-%d" % i, bytes(rnd.randrange(256)
                               for _ in range(rnd.randrange(1, 3000))))
EOF
# fuzz_seeds TARGET DIR: the ASan+UBSan build of fuzz target TARGET
# over every seed input in DIR
fuzz_seeds() {
	local t=$1 dir=$2 nseeds st
	[ $unit_ok = 1 ] || return 0
	nseeds=$(find "$dir" -type f | wc -l)
	"$here/build/$t" "$dir"/* >"$work/$t.out" 2>&1
	st=$?
	tap $st "$t over $nseeds seed inputs (ASan+UBSan)"
	[ $st -ne 0 ] && tail -n 40 "$work/$t.out" >&2
	return 0
}

have_libfuzzer() {
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' |
		clang -fsanitize=fuzzer -x c -o "$work/probe" - >/dev/null 2>&1
}

# fuzz_lib TARGET DIR RUNS MAXLEN [OPTION...]: a short libFuzzer run of
# TARGET (clang) from the seed inputs in DIR, with more libFuzzer options
fuzz_lib() {
	local t=$1 dir=$2 runs=$3 max=$4 st
	shift 4
	if ! command -v clang >/dev/null 2>&1 || ! have_libfuzzer; then
		skip "$t: libFuzzer run" "clang with libFuzzer not available"
	elif build "$t: libFuzzer build (clang)" make_ -C "$here" \
		O="$work/fuzz" "$work/fuzz/$t-libfuzzer"; then
		mkdir -p "$work/$t-corpus"
		cp "$dir"/* "$work/$t-corpus/"
		"$work/fuzz/$t-libfuzzer" -seed=1 -runs="$runs" -max_len="$max" \
			"$@" "$work/$t-corpus" >"$work/$t-libfuzzer.out" 2>&1
		st=$?
		tap $st "$t: $runs libFuzzer runs"
		[ $st -ne 0 ] && tail -n 40 "$work/$t-libfuzzer.out" >&2
	fi
	return 0
}

fuzz_seeds fuzz_frame "$seeds"

fuzz_lib fuzz_frame "$seeds" 30000 70000

# ---- sealing fuzz target: frame seeds, then mutated sealed frames ----

if [ $unit_ok = 1 ]; then
	nseeds=$(find "$seeds" -type f | wc -l)
	"$here/build/fuzz_seal" "$seeds"/* >"$work/fuzz_seal.out" 2>&1
	st=$?
	tap $st "fuzz_seal over $nseeds seed inputs (ASan+UBSan)"
	[ $st -ne 0 ] && tail -n 40 "$work/fuzz_seal.out" >&2
	"$here/build/fuzz_seal" >"$work/fuzz_seal.out" 2>&1
	st=$?
	tap $st "fuzz_seal: 50000 mutated sealed frames (ASan+UBSan)"
	[ $st -ne 0 ] && tail -n 40 "$work/fuzz_seal.out" >&2
fi
fuzz_lib fuzz_seal "$seeds" 20000 70000

# ---- LDAP message framer fuzz target over generated seeds ----

ldap_seeds=$work/ldap-seeds
mkdir -p "$ldap_seeds"
/usr/bin/python3 - "$ldap_seeds" <<'EOF'
import os, random, sys

d = sys.argv[1]
rnd = random.Random(1)

def ln(n, wide=0):
    # BER length: short form, or long form (wide: in that many octets)
    if not wide and n < 128:
        return bytes([n])
    k = wide or max(1, (n.bit_length() + 7) // 8)
    return bytes([0x80 | k]) + n.to_bytes(k, "big")
def tlv(tag, body, wide=0):
    return bytes([tag]) + ln(len(body), wide) + body
def integer(v):
    return tlv(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big"))
def s(t):
    return tlv(0x04, t.encode())
def msg(mid, op, ctrls=b"", wide=0):
    return tlv(0x30, integer(mid) + op + ctrls, wide)
def result(tag, code):
    return tlv(tag, tlv(0x0a, bytes([code])) + s("") + s(""))
def entry(mid, i, big=0):
    attrs = tlv(0x30, tlv(0x30, s("cn") + tlv(0x31, s("User %d" % i))) +
                tlv(0x30, s("description") + tlv(0x31, s("x" * big))))
    return msg(mid, tlv(0x64, s("uid=u%d,ou=people,dc=example,dc=test" % i)
                        + attrs))
def put(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

paged = tlv(0xa0, tlv(0x30, s("1.2.840.113556.1.4.319") +
                      tlv(0x04, bytes.fromhex("3005020102 0400"))))
bind = msg(1, tlv(0x60, integer(3) + s("cn=admin,dc=example,dc=test") +
                  tlv(0x80, b"secret")))
sasl = msg(1, tlv(0x60, integer(3) + s("") + tlv(0xa3, s("GSSAPI"))))
search_op = tlv(0x63, s("dc=example,dc=test") + tlv(0x0a, b"\x02") +
                tlv(0x0a, b"\x00") + integer(0) + integer(0) +
                tlv(0x01, b"\x00") + tlv(0x87, b"uid") + tlv(0x30, s("cn")))
compare = msg(3, tlv(0x6e, s("uid=u1,ou=people,dc=example,dc=test") +
                     tlv(0x30, s("cn") + s("User 1"))))
starttls = msg(4, tlv(0x77, tlv(0x80, b"1.3.6.1.4.1.1466.20037")))
client = [bind, msg(2, search_op, paged), compare, msg(5, tlv(0x50, b"\x02")),
          msg(6, tlv(0x4a, b"uid=u9,dc=example,dc=test")), msg(9, tlv(0x42, b""))]
service = ([msg(1, result(0x61, 0))] + [entry(2, i) for i in range(20)] +
           [msg(2, tlv(0x73, s("ldap://other/"))),
            msg(2, result(0x65, 0), paged), msg(3, result(0x6f, 6)),
            msg(0, result(0x78, 52)), msg(7, tlv(0x79, tlv(0x80, b"1.2.3")))])
put("client", b"".join(client))
put("service", b"".join(service))
put("ad-long-form", msg(1, result(0x61, 0), wide=4) + msg(2, search_op, wide=2))
put("big-entry", entry(2, 1, 3000) + msg(2, result(0x65, 0)))
put("over-limit", entry(2, 1, 5000))
put("starttls-then-tls", starttls + b"\x16\x03\x01\x00\x05hello")
put("sasl-then-buffers", sasl + msg(1, result(0x61, 0)) + b"\x00\x00\x00\x04abcd")
put("empty", b"")
for i, h in enumerate(["3080", "30ff", "3085", "30050401014200",
                       "3006020200054200", "30050201807100", "30050201016200",
                       "30070201014200a005", "30080201014200 1f8001",
                       "301d02010177"]):
    put("bad-%d" % i, bytes.fromhex(h))
good = client + service
for i in range(60):                          # mutated streams
    b = bytearray(b"".join(rnd.choice(good)
                           for _ in range(rnd.randrange(1, 6))))
    for _ in range(rnd.randrange(1, 4)):
        j = rnd.randrange(len(b))
        op = rnd.randrange(3)
        if op == 0:
            b[j] = rnd.choice([0x00, 0x30, 0x7f, 0x80, 0x84, 0xff,
                               rnd.randrange(256)])
        elif op == 1:
            del b[j]
        else:
            b.insert(j, rnd.randrange(256))
    put("mut-%02d" % i, bytes(b))
for i in range(4):
    put("random-%d" % i, bytes(rnd.randrange(256)
                               for _ in range(rnd.randrange(1, 500))))
EOF
fuzz_seeds fuzz_ldapber "$ldap_seeds"
fuzz_lib fuzz_ldapber "$ldap_seeds" 30000 8192

# ---- plugin streams' sub-header and ordering fuzz target over seeds ----

pseq_seeds=$work/plugseq-seeds
mkdir -p "$pseq_seeds"
/usr/bin/python3 - "$pseq_seeds" <<'EOF'
import os, random, struct, sys
out = sys.argv[1]
rnd = random.Random(7)
def put(name, b):
    open(os.path.join(out, name), "wb").write(b)
# even first byte: a sender's messages (key, order, frames), then picks
for i in range(24):
    n = rnd.randrange(1, 200)
    put("sim-%02d" % i, bytes([0]) + bytes(rnd.randrange(256)
                                         for _ in range(2 * n)))
put("sim-barriers", bytes([0]) + bytes([0x08] * 40 + [31] * 40))
put("sim-pieces", bytes([0]) + bytes([0x61, 0x02] * 30 + [5] * 60))
for i in range(6):	# unopened: the opening frame after a few others
    put("sim-unopened-%d" % i, bytes([0, 0x80 | i, 3 * i]) +
        bytes(rnd.randrange(256) for _ in range(2 * rnd.randrange(20, 150))))
for i in range(6):	# Sequences from 0xffffff00, across the wrap
    put("sim-wrap-%d" % i, bytes([0, 0x40 | (0x80 if i & 1 else 0), 3 * i]) +
        bytes(rnd.randrange(256) for _ in range(2 * rnd.randrange(100, 250))))
# odd first byte: raw sub-headers from a hostile peer
def hdr(seq, flags, after):
    return struct.pack(">IB", seq, flags) + after.to_bytes(3, "big")
put("raw-inorder", bytes([63]) + b"".join(hdr(s, 0, 0) for s in range(1, 40)))
put("raw-reverse", bytes([63]) + b"".join(hdr(s, 0, 1) for s in range(40, 0, -1)))
put("raw-chain", bytes([63]) + hdr(1, 0x40, 0) + hdr(3, 0, 0) + hdr(2, 0, 1))
put("raw-badchain", bytes([63]) + hdr(1, 0x40, 0) + hdr(2, 0, 5))
put("raw-reserved", bytes([63]) + hdr(1, 0x01, 0))
put("raw-barrier-after", bytes([63]) + hdr(1, 0x80, 1))
put("raw-window", bytes([3]) + hdr(100, 0, 0))
put("raw-zero", bytes([63]) + hdr(0, 0, 0))
put("raw-wrap", bytes([63]) + hdr(0xffffffff, 0, 0) + hdr(1, 0, 2))
# first byte 2: the peer's flow ids (a base, then 3-byte records, the
# top bit: seen); in order, out of order, a jump past the window, across
# 2^32
def ids(base, recs):
    return bytes([2]) + struct.pack(">I", base) + b"".join(
        (r & 0x3ffff | (0x800000 if s else 0)).to_bytes(3, "big")
        for r, s in recs)
put("ids-inorder", ids(1, [(i, 1) for i in range(300)] + [(i, 0) for i in range(310)]))
put("ids-shuffled", ids(100, [(rnd.randrange(2000), rnd.randrange(2))
                              for _ in range(800)]))
put("ids-jump", ids(5, [(1, 1), (2, 1), (70000, 1), (2, 0), (4470, 0),
                        (4466, 0), (70000, 0), (70001, 1), (4466, 1)]))
put("ids-wrap", ids(0xffffff00, [(i, 1) for i in range(0, 600, 3)] +
                    [(i, 0) for i in range(600)]))
put("ids-edge", ids(0, [(65536 + 10, 1), (10, 0), (11, 0), (11, 1),
                        (65536 + 11, 1), (11, 0), (12, 0)]))
for i in range(12):
    put("raw-rnd-%02d" % i, bytes([1 | rnd.randrange(256)]) +
        b"".join(hdr(rnd.randrange(1, 70), rnd.choice([0, 0x40, 0x80]),
                     rnd.choice([0, 1, 2, rnd.randrange(70)]))
                 for _ in range(rnd.randrange(1, 80))))
EOF
fuzz_seeds fuzz_plugseq "$pseq_seeds"
fuzz_lib fuzz_plugseq "$pseq_seeds" 5000 1024

# ---- statement parser fuzz target over seeds ----

stmt_seeds=$work/stmt-seeds
mkdir -p "$stmt_seeds"
/usr/bin/python3 - "$stmt_seeds" "$work/stmt.dict" <<'EOF'
import os, random, sys

d = sys.argv[1]
rnd = random.Random(1)
good = [
    "identity host/gw.example.com@EXAMPLE.COM keytab /etc/krb5.keytab",
    "listen :9899", "listen 9899", "listen 192.0.2.1:9899", "listen [::1]:53",
    "peer add gw1 192.0.2.1", "peer add gw1 [fd00::2]:9899 carrier tcp",
    "peer add gw1 gw1.example.com:9899 principal host/gw1@R carrier sctp-udp",
    "peer del gw1",
    "service add dns udp 127.0.0.1:53",
    "service add web tcp [fd00::80]:80 allow a@R,b@R,c",
    "service add web tcp www.example.com:80 allow a",
    "service add ldap tcp 127.0.0.1:389 proxy v2 allow a@R",
    "service del dns",
    "map add udp 5353 peer gw1 service dns",
    "map add tcp [::1]:8080 service web peer gw1",
    "service add dns udp 127.0.0.1:53 identity dns/h@R keytab /k allow a@R",
    "map add udp 5300 peer h service dns identity a@R keytab /k principal dns/h@R lifetime 0",
    "service add ldap tcp 127.0.0.1:389 plugin ldap identity ldap/h@R keytab /k",
    "map add tcp 3890 peer h service ldap identity a@R keytab /k principal ldap/h@R plugin ldap",
    "map del udp 127.0.0.1:53", "show", "stats", "stats --prometheus",
    "plaintext",
]
bad = [
    "mpa", "peer", "peer remove x", "listen ::1:53", "listen [::1]",
    "map add udp 127.0.0.1:70000 peer a service b", "listen :0",
    "peer add a h carrier quic", "service add s sctp h:1",
    "service add s udp h:1 allow a,,b", "identity a keytab rel/path",
    "peer add a h carrier tcp carrier tcp", "show extra",
    "service add s tcp h:1 proxy v1", "service add s udp h:1 proxy v2",
    "service add s tcp h:1 proxy",
    "service add s udp h:1 identity a file /k", "map add udp 1 peer a service b principal",
    "map add udp 1 peer a service b identity a keytab /k identity a keytab /k",
    "service add s udp h:1 plugin ldap", "map add tcp 1 peer a service b plugin x500",
]
other = ["", " ", "#", "# comment", "\t show # c\r\n", "listen :1#x",
         "peer add gw1 #h"]
words = sorted({w for line in good + bad for w in line.split()} |
               {"[", "]", ":", ",", "#", "[::]", "0", "65535", "65536",
                "allow", "a,b", "\x00", "\xff"})

n = 0
def put(data):
    global n
    if isinstance(data, str):
        data = data.encode("latin-1")
    with open(os.path.join(d, "s%04d" % n), "wb") as f:
        f.write(data)
    n += 1

for line in good + bad + other:
    put(line)
for line in good:
    put(line.replace(" ", "\x00"))          # argv form
for _ in range(400):                         # shuffled vocabulary
    k = rnd.randrange(1, 10)
    put(rnd.choice([" ", "\t", "  "]).join(rnd.choice(words)
                                           for _ in range(k)))
for _ in range(400):                         # mutated good lines
    b = bytearray(rnd.choice(good).encode())
    for _ in range(rnd.randrange(1, 4)):
        i = rnd.randrange(len(b))
        op = rnd.randrange(3)
        if op == 0:
            b[i] = rnd.randrange(256)
        elif op == 1:
            del b[i]
        else:
            b.insert(i, rnd.choice(b"[]:,#. \t0123456789az\x00"))
    put(bytes(b))
for _ in range(8):
    put(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300))))
put("identity a keytab /" + "k" * 5000)
put("peer add " + "n" * 100 + " h")
put("show " + " " * 20000 + "x" * 20000)

with open(sys.argv[2], "w") as f:
    for w in sorted(set(words) - {"\x00", "\xff"}):
        f.write('"%s"\n' % w.replace("\\", "\\\\").replace('"', '\\"'))
EOF
fuzz_seeds fuzz_stmt "$stmt_seeds"
if [ $unit_ok = 1 ]; then
	"$here/build/fuzz_ctrlmsg" >"$work/fuzz_ctrlmsg.out" 2>&1
	st=$?
	tap $st "fuzz_ctrlmsg: 200000 mutated control messages (ASan+UBSan)"
	[ $st -ne 0 ] && tail -n 40 "$work/fuzz_ctrlmsg.out" >&2
fi

fuzz_lib fuzz_stmt "$stmt_seeds" 30000 4096 -dict="$work/stmt.dict"

# ---- command line ----

if [ $ctl_ok = 1 ]; then
	suite "cli" sh "$here/test_cli.sh" "$work/ctl-gcc/bin/funnelctl" \
		"$work/ctl-gcc/funnel-nl"
	suite_fg completion "completion"
fi
suite_fg deps "deps"
if [ $pump_ok = 1 ]; then
	suite_fg pump "udp_pump"
fi

echo "1..$n"
exit $failed
