#!/bin/bash
# ucspi-tcp's small tools: ours vs /usr/bin on the same input, rounds
# interleaved C/Go, median of ROUNDS. Prints Go/C speed (higher is better).
#  - addcr, delcr: 16 MiB of mail-like lines through a pipe (throughput)
#  - fixcrio cat, recordio cat: 4 MiB through the copier (throughput)
#  - rblsmtpd: 40 starts with RBLSMTPD= (accept, exec true): start-up cost
# Run from the repository root after make.
set -eu
ROUNDS=${ROUNDS:-5}
G=$PWD/bin
for p in addcr delcr fixcrio recordio rblsmtpd; do
	[ -x /usr/bin/$p ] || { echo "ucspitools bench: /usr/bin/$p not installed, skipped"; exit 0; }
	[ -x $G/$p ] || { echo "ucspitools bench: $G/$p not built (run make)"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - > "$tmp/big" <<'PY'
import sys
line = b"Received: from mail.example.org (1.2.3.4) by mx.example.net; a line of mail\r\n"
short = b"short\n"
chunk = (line * 20 + short * 10) * 64
out = sys.stdout.buffer
n = 0
while n < 16 << 20:
    out.write(chunk); n += len(chunk)
PY
head -c $((4 << 20)) "$tmp/big" > "$tmp/small"

ns() { date +%s%N; }
t_filter() { local t0=$(ns); cat "$tmp/big" | "$1" > /dev/null; echo $(( $(ns) - t0 )); }
t_copier() { local t0=$(ns); "$1" cat < "$tmp/small" > /dev/null 2>&1; echo $(( $(ns) - t0 )); }
t_starts() {
	local t0=$(ns) i
	for i in $(seq 40); do RBLSMTPD= "$1" true < /dev/null; done
	echo $(( $(ns) - t0 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
bench() { # name timer
	local name=$1 timer=$2 i c g
	if [ "$timer" = t_filter ]; then
		cmp -s <(cat "$tmp/big" | /usr/bin/$name) <(cat "$tmp/big" | $G/$name) || { echo "$name: outputs differ" >&2; exit 1; }
	fi
	: > "$tmp/c"; : > "$tmp/g"
	for i in $(seq "$ROUNDS"); do
		$timer /usr/bin/$name >> "$tmp/c"
		$timer $G/$name >> "$tmp/g"
	done
	c=$(median < "$tmp/c"); g=$(median < "$tmp/g")
	awk -v n="$name" -v c="$c" -v g="$g" -v r="$ROUNDS" 'BEGIN {
		printf "%-9s median of %d: C %.3f s, Go %.3f s, Go/C speed %.2fx\n", n, r, c/1e9, g/1e9, c/g }'
}
bench addcr t_filter
bench delcr t_filter
bench fixcrio t_copier
bench recordio t_copier
bench rblsmtpd t_starts
