#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build and run every userspace unit test; print one TAP stream on stdout:
#   - ctl/ (funnelctl, funnel-nl) built with gcc and with clang, -Werror
#   - the cmocka tests (ASan+UBSan, gcc), also built with clang
#   - spec_check.py (header vs YAML) and its negative tests
#   - the fuzz target over generated seed inputs (and a short libFuzzer
#     run when clang's libFuzzer is there)
#   - command-line tests of funnelctl and funnel-nl
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
	status=$?
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
	done <"$work/suite.out"
	if [ $status -ne 0 ] && [ $bad = 0 ]; then
		tap 1 "$name: exited with status $status"
	fi
	if [ $status -ne 0 ] || [ $results = 0 ]; then
		[ $results = 0 ] && [ $status = 0 ] && tap 1 "$name: no results"
		if [ -s "$work/suite.err" ]; then
			echo "--- $name: stderr:" >&2
			cat "$work/suite.err" >&2
		fi
	fi
}

make_() { make --no-print-directory "$@"; }

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

# ---- cmocka ----

if [ $unit_ok = 1 ]; then
	for t in frame extack attrspec; do
		suite "$t" env CMOCKA_MESSAGE_OUTPUT=TAP "$here/build/test_$t"
	done
fi

# ---- spec ----

suite "spec" /usr/bin/python3 "$here/spec_check.py"
suite "spec-negative" sh "$here/spec_check_selftest.sh"

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
put("preamble", b"FUNNEL\x01\x00")
put("preamble-bad-version", b"FUNNEL\x02\x00" + frame(1, 0, 0, 1, b"x"))
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
if [ $unit_ok = 1 ]; then
	nseeds=$(find "$seeds" -type f | wc -l)
	"$here/build/fuzz_frame" "$seeds"/* >"$work/fuzz.out" 2>&1
	st=$?
	tap $st "fuzz_frame over $nseeds seed inputs (ASan+UBSan)"
	[ $st -ne 0 ] && cat "$work/fuzz.out" >&2
fi

have_libfuzzer() {
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' |
		clang -fsanitize=fuzzer -x c -o "$work/probe" - >/dev/null 2>&1
}
if ! command -v clang >/dev/null 2>&1 || ! have_libfuzzer; then
	skip "fuzz_frame: libFuzzer run" "clang with libFuzzer not available"
elif build "fuzz_frame: libFuzzer build (clang)" make_ -C "$here" fuzz \
	O="$work/fuzz"; then
	mkdir -p "$work/corpus"
	cp "$seeds"/* "$work/corpus/"
	"$work/fuzz/fuzz_frame-libfuzzer" -seed=1 -runs=30000 \
		-max_len=70000 "$work/corpus" >"$work/libfuzzer.out" 2>&1
	st=$?
	tap $st "fuzz_frame: 30000 libFuzzer runs"
	[ $st -ne 0 ] && tail -n 40 "$work/libfuzzer.out" >&2
fi

# ---- command line ----

if [ $ctl_ok = 1 ]; then
	suite "cli" sh "$here/test_cli.sh" "$work/ctl-gcc/funnelctl" \
		"$work/ctl-gcc/funnel-nl"
fi
if [ $pump_ok = 1 ]; then
	suite "udp_pump" sh "$here/test_udp_pump.sh" "$work/udp_pump"
fi

echo "1..$n"
exit $failed
