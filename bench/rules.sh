#!/bin/bash
# tcprules and tcprulescheck: ours vs /usr/bin on a 100,000-rule file
# (addresses, prefixes, ranges, hosts, variables) and a 1,000,000-rule one.
# Rounds alternate C and Go; we print the median time of each and the ratio
# C/Go (above 1: ours is faster). The cdbs are checked identical first.
# Run from the repository root after make.
set -eu
ROUNDS=${ROUNDS:-5}
C=/usr/bin
G=$PWD/bin
[ -x "$C/tcprules" ] || { echo "rules bench: $C/tcprules not installed, skipped"; exit 0; }
[ -x "$G/tcprules" ] || { echo "rules bench: $G/tcprules not built (run make)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gen() { # $1 rules
	python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
w = sys.stdout.write
for i in range(n):
    k = i % 10
    if k < 6:
        w('10.%d.%d.%d:allow,RELAYCLIENT="",N="%d"\n' % (i >> 16 & 255, i >> 8 & 255, i & 255, i))
    elif k < 8:
        w('=h%d.example.com:deny\n' % i)
    elif k == 8:
        w('172.%d.%d.:allow,X=/a b/\n' % (i >> 8 & 255, i & 255))
    else:
        w('# comment %d\n' % i)
w(':allow\n')
PY
}
gen 100000 > "$tmp/100k"
gen 1000000 > "$tmp/1m"

ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for size in 100k 1m; do
	"$C/tcprules" "$tmp/c.cdb" "$tmp/c.tmp" < "$tmp/$size"
	"$G/tcprules" "$tmp/g.cdb" "$tmp/g.tmp" < "$tmp/$size"
	cmp -s "$tmp/c.cdb" "$tmp/g.cdb" || { echo "rules bench: cdbs differ ($size)" >&2; exit 1; }
	: > "$tmp/tc"; : > "$tmp/tg"
	for _ in $(seq "$ROUNDS"); do
		for who in C G; do
			dir=$C; [ $who = G ] && dir=$G
			t0=$(ns); "$dir/tcprules" "$tmp/x.cdb" "$tmp/x.tmp" < "$tmp/$size"; t1=$(ns)
			echo $((t1 - t0)) >> "$tmp/t$(echo $who | tr CG cg)"
		done
	done
	mc=$(median < "$tmp/tc"); mg=$(median < "$tmp/tg")
	awk -v c="$mc" -v g="$mg" -v s="$size" 'BEGIN {
		printf "tcprules %s rules: C %.1f ms, Go %.1f ms, speed ratio Go/C %.2fx\n", s, c/1e6, g/1e6, c/g }'
done

# tcprulescheck: 200 lookups on the 1,000,000-rule cdb (process start dominates).
"$G/tcprules" "$tmp/big.cdb" "$tmp/big.tmp" < "$tmp/1m"
: > "$tmp/tc"; : > "$tmp/tg"
for _ in $(seq "$ROUNDS"); do
	for who in C G; do
		dir=$C; [ $who = G ] && dir=$G
		t0=$(ns)
		for i in $(seq 200); do
			TCPREMOTEIP=10.1.$((i % 256)).7 TCPREMOTEHOST=h$i.example.com "$dir/tcprulescheck" "$tmp/big.cdb" > /dev/null
		done
		t1=$(ns)
		echo $((t1 - t0)) >> "$tmp/t$(echo $who | tr CG cg)"
	done
done
mc=$(median < "$tmp/tc"); mg=$(median < "$tmp/tg")
awk -v c="$mc" -v g="$mg" 'BEGIN {
	printf "tcprulescheck 200 runs on 1,000,000 rules: C %.1f ms, Go %.1f ms, speed ratio Go/C %.2fx\n", c/1e6, g/1e6, c/g }'
