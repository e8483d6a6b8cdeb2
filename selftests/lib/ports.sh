# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# port_random: print a random port number to try for a test's server,
# from 20000-59999, or from this lane's share of it when make check runs
# tests side by side (FUNNEL_PORT_LANE=I/N, set by selftests/check.sh:
# lane I of N picks from the I-th of N equal slices), so that two tests
# running at once never pick the same port before either has bound it.
port_random() {
	local lane=${FUNNEL_PORT_LANE:-0/1} i n w
	i=${lane%/*} n=${lane#*/}
	w=$(( 40000 / n ))
	echo $(( 20000 + i * w + (RANDOM * 32768 + RANDOM) % w ))
}
