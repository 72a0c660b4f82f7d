#!/bin/bash
# bench/smtpd-startup.sh: qmail-smtpd's start-up cost per connection (issue 6:
# "keep its init lean ... and measure it"; "1,000,000 keys in
# morercpthosts.cdb and badmailfrom.cdb: connect-to-greeting grows by at
# most 2 ms"). Run from the repo root after `make`.
#
# Each sample runs one program N times in a row, each time with "QUIT" on a
# pipe, and takes wall and CPU time per run (greeting, QUIT, exit):
#   floor  a static Go program that writes a 220 greeting and exits
#   empty  ./bin/qmail-smtpd, qmail home with small lists
#   huge   ./bin/qmail-smtpd, 1,000,000 keys in morercpthosts.cdb and in
#          badmailfrom.cdb (the plain lists too, older than the cdbs)
# Rounds are interleaved; medians of $ROUNDS (at least 5).
# The whole script is one { ... } block, read in full before it runs:
# bash otherwise reads a script as it goes, and an edit or a git
# checkout of this file during a run (it takes minutes) made it run
# fragments of lines ("line 130: $2: unbound variable").
{
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-7}
N=${N:-200}
KEYS=${KEYS:-1000000}
for p in bin/qmail-smtpd bin/qmail-newmrh bin/qmail-newbmf; do
	[ -x "$p" ] || { echo "bench/smtpd-startup.sh: missing $p (run make)" >&2; exit 1; }
done
W=$(mktemp -d /tmp/smtpd-startup.XXXXXX)
trap 'rm -rf "$W"' EXIT

mkdir "$W/floor"
cat > "$W/floor/main.go" <<'GO'
package main

import "os"

func main() { os.Stdout.Write([]byte("220 floor ESMTP\r\n")) }
GO
(cd "$W/floor" && printf 'module floor\ngo 1.26\n' > go.mod && CGO_ENABLED=0 go build -o "$W/floor-greet" .)

home() {
	mkdir -p "$1/control"
	echo mx.example.org > "$1/control/me"
	printf 'example.org\n.example.org\n' > "$1/control/rcpthosts"
}
home "$W/empty"
home "$W/huge"
awk -v n="$KEYS" 'BEGIN { for (i = 0; i < n; i++) printf "host%d.example.net\n", i }' > "$W/huge/control/morercpthosts"
awk -v n="$KEYS" 'BEGIN { for (i = 0; i < n; i++) printf "user%d@spam%d.example.com\n", i, i % 1000 }' > "$W/huge/control/badmailfrom"
touch -d '1 hour ago' "$W/huge/control/badmailfrom"
QMAILHOME="$W/huge" bin/qmail-newmrh
QMAILHOME="$W/huge" bin/qmail-newbmf
printf 'QUIT\r\n' > "$W/in"

loop() { # loop PROG: N runs
	local i
	for ((i = 0; i < N; i++)); do "$1" < "$W/in" > /dev/null; done
}
sample() { # sample KEY HOME PROG: appends "wall_ms cpu_ms" per run
	local key=$1 h=$2 prog=$3 t
	export QMAILHOME=$h
	t=$( { /usr/bin/time -f '%e %U %S' bash -c "$(declare -f loop); N=$N; W=$W; loop $prog" ; } 2>&1 | tail -1)
	awk -v n="$N" -v t="$t" 'BEGIN { split(t, a, " "); printf "%.3f %.3f\n", a[1] * 1000 / n, (a[2] + a[3]) * 1000 / n }' >> "$W/r.$key"
}
echo "smtpd start-up bench: $ROUNDS rounds of $N runs each; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
	# Alternate the order so that no variant always runs after another.
	if [ $((r % 2)) = 1 ]; then
		sample floor "$W/empty" "$W/floor-greet"
		sample empty "$W/empty" "$PWD/bin/qmail-smtpd"
		sample huge "$W/huge" "$PWD/bin/qmail-smtpd"
	else
		sample huge "$W/huge" "$PWD/bin/qmail-smtpd"
		sample empty "$W/empty" "$PWD/bin/qmail-smtpd"
		sample floor "$W/empty" "$W/floor-greet"
	fi
done
med() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { awk -v c="$2" '{ print $c }' "$W/r.$1" | med; }
FW=$(col floor 1); EW=$(col empty 1); HW=$(col huge 1)
FC=$(col floor 2); EC=$(col empty 2); HC=$(col huge 2)
x() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
d() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
echo "per run, wall ms (median): floor $FW; qmail-smtpd $EW = $(x "$EW" "$FW")x floor; with $KEYS keys $HW: growth $(d "$HW" "$EW") ms (target <= 2)"
echo "per run, CPU ms (median): floor $FC; qmail-smtpd $EC = $(x "$EC" "$FC")x floor; with $KEYS keys $HC: growth $(d "$HC" "$EC") ms"
exit
}
