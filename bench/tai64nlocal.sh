#!/bin/bash
# tai64nlocal: ours vs /usr/bin/tai64nlocal on 1,000,000 lines of 100 bytes
# (labels a few milliseconds apart, as a busy log), read from a pipe, in a
# zone with daylight saving time. Rounds alternate C and Go; we print the
# median time of each and the ratio (target: Go at least 1.5x the C speed).
# Run from the repository root after make.
set -eu
ROUNDS=${ROUNDS:-7}
LINES=${LINES:-1000000}
C=/usr/bin/tai64nlocal
G=$PWD/bin/tai64nlocal
[ -x "$C" ] || { echo "tai64nlocal bench: $C not installed, skipped"; exit 0; }
[ -x "$G" ] || { echo "tai64nlocal bench: $G not built (run make)"; exit 1; }
export TZ=Europe/Berlin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$LINES" > "$tmp/in" <<'PY'
import random, sys
random.seed(3)
base = 2**62 + 10
s = 1.78e9
pad = 'x' * 73
w = sys.stdout.write
for _ in range(int(sys.argv[1])):
    s += random.random() * 0.002
    sec = int(s)
    w('@%016x%08x %s\n' % (base + sec, int((s - sec) * 1e6) * 1000 + 500, pad))
PY

# Same output first: a fast wrong answer is no answer.
if ! cmp -s <(cat "$tmp/in" | "$C") <(cat "$tmp/in" | "$G"); then
	echo "tai64nlocal bench: outputs differ" >&2
	exit 1
fi

ns() { date +%s%N; }
run() { # prints nanoseconds for one pass of $1 over the input, from a pipe
	local t0 t1
	t0=$(ns)
	cat "$tmp/in" | "$1" > /dev/null
	t1=$(ns)
	echo $((t1 - t0))
}
for i in $(seq "$ROUNDS"); do
	run "$C" >> "$tmp/c"
	run "$G" >> "$tmp/g"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mc=$(median "$tmp/c")
mg=$(median "$tmp/g")
awk -v c="$mc" -v g="$mg" -v n="$LINES" -v r="$ROUNDS" 'BEGIN {
	printf "tai64nlocal %d lines, median of %d: C %.3f s (%.0f lines/s), Go %.3f s (%.0f lines/s), Go/C speed %.2fx (target >= 1.5x)\n",
		n, r, c/1e9, n/(c/1e9), g/1e9, n/(g/1e9), c/g }'
