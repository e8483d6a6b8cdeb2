# The ULP on loopback: framing, errors, drops, poll, interleaving (C tool).
"$tools/ulp_test" || FAILS=$((FAILS + 1))
