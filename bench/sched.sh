#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Where a query's context switches come from (issue 15): dnsperf with 16
# clients (8 queries outstanding each) against dnsmasq through a UDP map
# over a TCP carrier, plaintext, on funnel.ko's data path and on
# funneld's userspace path (funneld --datapath kernel|user), while the
# kernel's own tracepoints count, per answered query:
#   switches   sched_switch: how often each task went off a CPU, asleep
#              (S/D: it blocked) or still runnable (preempted), and how
#              often it got a CPU
#   wake-ups   sched_waking: who woke whom
#   work       workqueue_queue_work: work items queued, by function, and
#              workqueue_execute_start: run, by function
#   softirqs   softirq_entry: softirq runs by vector and by the task
#              they ran on (ksoftirqd's share: softirqs that overflowed
#              out of the context that raised them), and tasklet_entry
#              by function
# plus the guest's CPU time per query, its context switches per query
# (/proc/stat), the share of CPU time spent in softirqs, and the CPU
# time ksoftirqd and the kworkers used (their schedstat).  A first,
# untraced dnsperf run of each path gives the rates without the
# tracing's own cost.  TCG emulates the CPUs: compare the rows of one
# run, never the absolute numbers.  Not a test: it never fails on a
# number.
#
#   bench/sched.sh [-k KVER] [-t SECONDS]     (on the host: boots the VM)
#
# In the guest's environment (selftests/vm/run -- env ... bench/sched.sh):
#   BENCH_DPS="kernel": funnel.ko's data path only (default "kernel user")
#   BENCH_CLIENTS=N: dnsperf clients (default 16)
#   BENCH_DPS may name "direct" too: dnsperf to fs's address, no relay
#   BENCH_PERF=1: a third dnsperf run of each path under perf: the CPU
#     time by task, its share in softirq, the top symbols
#   BENCH_STACKS=N: also the N most frequent kernel stacks at which a task
#     went to sleep (default 0: none; stack keys cost the guest a lot)
# modprobe leaves a funnel.ko already loaded as it is, so a wrapper may
# insmod another build of it first (an A/B comparison).
set -u
secs=5
if [ -z "${FUNNEL_TOP:-}" ]; then
	# shellcheck source-path=SCRIPTDIR source=lib.sh
	. "$(dirname "$0")/lib.sh"
	bench_boot bench/sched.sh 900 "$secs" "$@"
fi

secs=${BENCH_SECS:-5}
dps=${BENCH_DPS:-kernel user}
clients=${BENCH_CLIENTS:-16}
stacks=${BENCH_STACKS:-0}
perf=${BENCH_PERF:-0}
export PATH=$FUNNEL_TOP/build/tools:$FUNNEL_TOP/ctl/bin:$PATH
[ -n "${BENCH_BIN:-}" ] && export PATH=$BENCH_BIN:$PATH
# shellcheck source=lib.sh
. "$FUNNEL_TOP/bench/lib.sh"
# shellcheck source=../selftests/kmod/lib.sh
. "$FUNNEL_TOP/selftests/kmod/lib.sh"
# shellcheck source=../selftests/lib/services.sh
. "$FUNNEL_TOP/selftests/lib/services.sh"
T=/sys/kernel/tracing
W=$(mktemp -d)
cleanup() {
	trace_off 2>/dev/null
	svc_stop_all; sites_down >/dev/null 2>&1; rm -rf "$W"
}
trap cleanup EXIT
[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null ||
	{ echo "bench: no tracefs"; exit 1; }
modprobe funnel
sites_up >/dev/null || exit 1
ip netns exec fc ip link set lo up
svc_init
DNS=5353
svc_dnsmasq dns fs 127.0.0.1,10.99.0.2 $DNS || { echo "bench: dnsmasq did not start"; exit 1; }
for i in $(seq 0 49); do echo "h$i.funnel.test A"; done >"$W/queries"

# The hist triggers: EVENT|KEYS[|FILTER].  The stack key is spelled
# common_stacktrace from 6.5 on, stacktrace before.
TRIGGERS=(
	"sched/sched_switch|prev_comm,prev_state"
	"sched/sched_switch|next_comm"
	"sched/sched_waking|common_pid.execname,comm"
	"workqueue/workqueue_queue_work|function.sym"
	"workqueue/workqueue_execute_start|function.sym"
	"irq/softirq_entry|vec,common_pid.execname"
)
[ -d $T/events/irq/tasklet_entry ] && TRIGGERS+=("irq/tasklet_entry|func.sym")
if [ "$stacks" -gt 0 ]; then
	sk=stacktrace
	grep -q common_stacktrace $T/README 2>/dev/null && sk=common_stacktrace
	TRIGGERS+=("sched/sched_switch|prev_comm,$sk|prev_state == 1 || prev_state == 2")
fi

# trig SPEC [PREFIX] [SUFFIX]: the trigger line of SPEC: PREFIX "!"
# removes it, SUFFIX ":pause", ":cont" or ":clear" acts on it
trig() {
	local ev keys filt
	IFS='|' read -r ev keys filt <<<"$1"
	echo "${2:-}hist:keys=$keys:sort=hitcount:size=4096${3:-}${filt:+ if $filt}"
}
# trig_all [PREFIX] [SUFFIX]: trig on every trigger
trig_all() {
	local s ev
	for s in "${TRIGGERS[@]}"; do
		ev=${s%%|*}
		trig "$s" "${1:-}" "${2:-}" >>"$T/events/$ev/trigger" ||
			echo "bench: $(trig "$s" "${1:-}" "${2:-}") on $ev refused"
	done
}
# The triggers are set once, paused, before any load: setting one turns
# its tracepoint on, which patches the kernel's text, and under TCG a
# patch made while other vCPUs run that code sometimes crashed the
# guest (an int3 oops in __schedule()).  Each row clears them, lets them
# count for its run, pauses them again and reads them.
trace_setup() { trace_off; trig_all "" ":pause"; }
trace_on() { trig_all "" ":clear"; trig_all "" ":cont"; }
# trace_off [DIR]: pause the triggers, save each event's histograms in
# DIR; with no DIR remove the triggers
trace_off() {
	local s ev i=0
	if [ -z "${1:-}" ]; then
		for s in "${TRIGGERS[@]}"; do
			ev=${s%%|*}
			trig "$s" '!' >>"$T/events/$ev/trigger" 2>/dev/null
		done
		return
	fi
	trig_all "" ":pause"
	for s in "${TRIGGERS[@]}"; do
		ev=${s%%|*}
		i=$((i + 1))
		cat "$T/events/$ev/hist" >"$1/h$i" 2>/dev/null
	done
}

# snap FILE: /proc/stat, /proc/softirqs and the run time (ns, schedstat)
# of the ksoftirqd and kworker threads
snap() {
	{
		cat /proc/stat
		awk '/NET_RX|NET_TX|TASKLET|TIMER|RCU|SCHED|HRTIMER/ {
			s = 0; for (i = 2; i <= NF; i++) s += $i; print "softirqs", $1, s }' /proc/softirqs
		for p in /proc/[0-9]*; do
			read -r c <"$p/comm" 2>/dev/null || continue
			case $c in
			ksoftirqd/*|kworker/*) read -r ns _ <"$p/schedstat" 2>/dev/null &&
				echo "thread ${c%%/*} $ns" ;;
			esac
		done
	} >"$1"
}

# dnsperf_run ADDR PORT: dnsperf's summary; prints "completed qps"
dnsperf_run() {
	ip netns exec fc dnsperf -s "$1" -p "$2" -d "$W/queries" \
		-c "$clients" -q $((8 * clients)) -l "$secs" -t 2 >"$W/dnsperf" 2>&1
	awk '/Queries completed:/ { c = $3 } /Queries per second:/ { q = $4 }
	     END { printf "%d %.0f\n", c, q }' "$W/dnsperf"
}

# cost ROW S0 S1 Q: CPU, switches, softirq share per query from two snaps
cost() {
	awk -v row="$1" -v q="$4" -v hz="$(getconf CLK_TCK)" '
		FNR == 1 { f++ }
		$1 == "cpu" { b = 0; for (i = 2; i <= 8; i++) if (i != 5) b += $i
			      busy[f] = b; soft[f] = $8; all[f] = b + $5 }
		$1 == "ctxt" { ctxt[f] = $2 }
		$1 == "softirqs" { si[f, $2] += $3 }
		$1 == "thread" { th[f, $2] += $3 }
		END {
			if (q <= 0) { print "  no query answered"; exit }
			printf "  %s: %.0f us CPU/q (%.0f%% of the CPUs busy, softirq %.0f%% of the busy time), %.2f ctxt/q\n", row,
				1e6 * (busy[2] - busy[1]) / hz / q,
				100 * (busy[2] - busy[1]) / (all[2] - all[1] + 1e-9),
				100 * (soft[2] - soft[1]) / (busy[2] - busy[1] + 1e-9),
				(ctxt[2] - ctxt[1]) / q
			printf "  %s: per query: NET_RX %.2f, NET_TX %.2f, TASKLET %.2f, TIMER %.2f softirqs; ksoftirqd ran %.0f us, kworkers %.0f us\n", row,
				(si[2, "NET_RX:"] - si[1, "NET_RX:"]) / q,
				(si[2, "NET_TX:"] - si[1, "NET_TX:"]) / q,
				(si[2, "TASKLET:"] - si[1, "TASKLET:"]) / q,
				(si[2, "TIMER:"] - si[1, "TIMER:"]) / q,
				(th[2, "ksoftirqd"] - th[1, "ksoftirqd"]) / 1e3 / q,
				(th[2, "kworker"] - th[1, "kworker"]) / 1e3 / q
		}' "$2" "$3"
}

# hist_rows FILE KEYS: "KEY...<TAB>COUNT" from the histogram of KEYS in
# a hist file (which holds every histogram of its event), comm-like keys
# with their CPU or thread number and pids cut off (kworker/1:2 ->
# kworker, "dnsmasq [211]" -> dnsmasq), merged
hist_rows() {
	awk -v keys="$2" '
		/^# trigger info: / { mine = index($0, "hist:keys=" keys ":") > 0; next }
		mine && /^\{.*hitcount:/ {
			line = $0
			sub(/^\{ */, "", line)
			split(line, parts, "} hitcount:")
			cnt = parts[2] + 0
			m = split(parts[1], fields, ",")
			out = ""
			for (i = 1; i <= m; i++) {
				v = fields[i]
				sub(/^[^:]*: */, "", v)
				sub(/ *$/, "", v)
				sub(/ *\[ *[0-9]+\]$/, "", v)	# execname pid
				sub(/^\[[0-9a-f]+\] */, "", v)	# .sym address
				if (v ~ /^(kworker|ksoftirqd|swapper|migration|rcu_|cpuhp|idle_inject)/)
					sub(/\/.*/, "", v)
				sub(/ *$/, "", v)
				out = out (i > 1 ? "\t" : "") v
			}
			sum[out] += cnt
		}
		END { for (k in sum) print k "\t" sum[k] }' "$1"
}

# report ROW DIR Q: the tables of one traced run
report() {
	local row=$1 d=$2 q=$3 i=0 s keys
	for s in "${TRIGGERS[@]}"; do
		i=$((i + 1))
		keys=${s#*|}
		keys=${keys%%|*}
		case $s in
		"sched/sched_switch|prev_comm,prev_state") hist_rows "$d/h$i" "$keys" >"$d/out" ;;
		"sched/sched_switch|next_comm") hist_rows "$d/h$i" "$keys" >"$d/in" ;;
		sched/sched_waking*) hist_rows "$d/h$i" "$keys" >"$d/wake" ;;
		workqueue/workqueue_queue_work*) hist_rows "$d/h$i" "$keys" >"$d/wq" ;;
		workqueue/workqueue_execute_start*) hist_rows "$d/h$i" "$keys" >"$d/wx" ;;
		irq/softirq_entry*) hist_rows "$d/h$i" "$keys" >"$d/si" ;;
		irq/tasklet_entry*) hist_rows "$d/h$i" "$keys" >"$d/tl" ;;
		sched/sched_switch*stacktrace*)
			awk -v keys="$keys" '/^# trigger info: / { mine = index($0, "hist:keys=" keys ":") > 0; next }
			     mine' "$d/h$i" >"$d/stacks" ;;
		esac
	done
	echo "## $row: switches per query by task (off: went off a CPU, asleep or preempted; on: got a CPU)"
	awk -F'\t' -v q="$q" '
		FILENAME ~ /out$/ {
			# prev_state: 0 runnable, TASK_REPORT_MAX (256 on the
			# kernels we build for) preempted; else S, D, I... asleep
			if ($2 == 0 || $2 >= 256) pre[$1] += $3; else slept[$1] += $3
			t[$1] = 1; tot += $3
		}
		FILENAME ~ /in$/ { on[$1] += $2; t[$1] = 1 }
		END {
			printf "  %-16s %8s %8s %8s %8s\n", "task", "off", "asleep", "preempt", "on"
			for (k in t)
				printf "  %-16s %8.3f %8.3f %8.3f %8.3f\n", k,
					(slept[k] + pre[k]) / q, slept[k] / q, pre[k] / q, on[k] / q | "sort -k2 -rn"
			close("sort -k2 -rn")
			printf "  %-16s %8.3f\n", "all", tot / q
		}' "$d/out" "$d/in"
	echo "## $row: wake-ups per query (waker -> wakee), the 12 most frequent"
	awk -F'\t' -v q="$q" '{ printf "  %8.3f  %s -> %s\n", $3 / q, $1, $2 }' "$d/wake" |
		sort -rn | head -n 12
	echo "## $row: work items per query by function (queued, run)"
	awk -F'\t' -v q="$q" '
		FILENAME ~ /wq$/ { qd[$1] += $2; f[$1] = 1 }
		FILENAME ~ /wx$/ { rn[$1] += $2; f[$1] = 1 }
		END { for (k in f) printf "  %8.4f %8.4f  %s\n", qd[k] / q, rn[k] / q, k }' "$d/wq" "$d/wx" |
		sort -rn | head -n 12
	echo "## $row: softirq runs per query by vector and by the task they ran on"
	awk -F'\t' -v q="$q" '
		BEGIN { split("HI TIMER NET_TX NET_RX BLOCK IRQ_POLL TASKLET SCHED HRTIMER RCU", nm, " ") }
		{ v = $1; sub(/ .*/, "", v); k = (v ~ /^[0-9]+$/ ? nm[v + 1] : v); printf "  %8.3f  %-8s on %s\n", $3 / q, k, $2 }' "$d/si" |
		sort -rn | head -n 12
	if [ -s "$d/tl" ]; then
		echo "## $row: tasklet runs per query by function"
		awk -F'\t' -v q="$q" '{ printf "  %8.4f  %s\n", $2 / q, $1 }' "$d/tl" | sort -rn | head -n 6
	fi
	if [ -s "$d/stacks" ]; then
		echo "## $row: the $stacks most frequent stacks at which a task went to sleep"
		awk -v q="$q" -v n="$stacks" '
			/^\{/ { cur = $0; sub(/^\{ *prev_comm: */, "", cur); sub(/ *,.*/, "", cur); st = ""; next }
			/^ +[a-z_]/ && cur != "" { f = $1; sub(/\+0x.*/, "", f); if (f !~ /^(__schedule|schedule|schedule_timeout|__traceiter|trace_)/ && split(st, x, " < ") < 8) st = st (st == "" ? "" : " < ") f; next }
			/hitcount:/ && cur != "" { c = $0; sub(/.*hitcount: */, "", c); printf "%.4f\t%s: %s\n", c / q, cur, st; cur = "" }' "$d/stacks" |
			sort -rn | head -n "$stacks" | awk -F'\t' '{ printf "  %8s  %s\n", $1, $2 }'
	fi
}

# perf_run ROW ADDR PORT: dnsperf under perf (all CPUs, cpu-clock: TCG
# has no PMU), then the CPU time by task and the top symbols
perf_run() {
	local row=$1 data=$W/perf.data
	if ! timeout $((secs + 60)) perf record -q -e cpu-clock -F 499 -a -g -o "$data" -- \
		ip netns exec fc dnsperf -s "$2" -p "$3" -d "$W/queries" -c "$clients" \
		-q $((8 * clients)) -l "$secs" -t 2 >"$W/dnsperf" 2>"$W/perf.err"; then
		echo "bench: perf record failed: $(tail -n 2 "$W/perf.err")"
		return
	fi
	echo "## $row: perf: $(awk '/Queries per second:/ { printf "%.0f", $4 }' "$W/dnsperf") queries/s; CPU time by task (% of all samples, both CPUs), and the share of it in softirq"
	timeout 120 perf report -q -i "$data" --no-children --sort comm -g none 2>/dev/null |
		grep . | head -n 8 | sed 's/^ */  /'
	timeout 120 perf report -q -i "$data" --children --sort comm,sym -g none 2>/dev/null |
		awk '/\[k\] (handle_softirqs|__do_softirq)$/ && !seen[$3]++ { printf "  %s in softirq: %s\n", $3, $1 }'
	echo "## $row: perf: top symbols, self time"
	timeout 120 perf report -q -i "$data" --no-children --sort sym -g none \
		--percent-limit 0.5 2>/dev/null | grep . | head -n 20 | sed 's/^ */  /'
}

# one DATAPATH N: a pair of funneld (a UDP map on fc 127.0.0.1:(8600+N)
# to dnsmasq on fs, carrier port 7600+N), or DATAPATH direct: fs's
# address itself; dnsperf untraced, then traced
one() {
	local dp=$1 n=$2 row="funnel $1 plain tcp" dport=$((8600 + $2)) addr=127.0.0.1
	if [ "$dp" = direct ]; then
		row=direct addr=10.99.0.2 dport=$DNS
		run_rows "$row" "$addr" "$dport" "$dp"
		return
	fi
	fd_start "s$n" fs "plaintext
listen 10.99.0.2:$((7600 + n))
service add dns udp 127.0.0.1:$DNS" --datapath "$dp" -l warning &&
	fd_start "c$n" fc "plaintext
peer add s 10.99.0.2:$((7600 + n)) carrier tcp
map add udp 127.0.0.1:$dport peer s service dns" --datapath "$dp" -l warning &&
	fd_wait "c$n" 30 'len(j["maps"]) == 1 and all(m["state"] == "open" for m in j["maps"])' ||
		echo "bench: $row: the map did not open: its numbers mean nothing"
	echo "# $row: carrier $(bench_carrier_path fc "$SVC_DIR/c$n.sock")"
	run_rows "$row" "$addr" "$dport" "$dp"
	fd_stop "c$n"
	fd_stop "s$n"
}

# run_rows ROW ADDR PORT DIR: the untraced run, the traced one, perf's
run_rows() {
	local row=$1 addr=$2 dport=$3 dp=$4 q qps
	snap "$W/s0"
	read -r q qps < <(dnsperf_run "$addr" "$dport")
	snap "$W/s1"
	echo "# $row: untraced: $qps queries/s, $q answered"
	cost "$row untraced" "$W/s0" "$W/s1" "$q"
	mkdir -p "$W/$dp"
	trace_on
	snap "$W/s0"
	read -r q qps < <(dnsperf_run "$addr" "$dport")
	snap "$W/s1"
	trace_off "$W/$dp"
	echo "# $row: traced: $qps queries/s, $q answered"
	cost "$row traced" "$W/s0" "$W/s1" "$q"
	report "$row" "$W/$dp" "$q"
	[ "$perf" = 1 ] && perf_run "$row" "$addr" "$dport"
}

echo "bench: $(uname -r), ${secs}s per run, dnsperf -c $clients (8 outstanding each) to dnsmasq through a UDP map, TCP carrier, plaintext, 2 CPUs (TCG)"
trace_setup
n=0
for dp in $dps; do
	n=$((n + 1))
	one "$dp" $n
done
