#!/bin/bash
# multilog throughput: `multilog t s16777215 n10`, 1,000,000 lines of 100
# bytes from a pipe, on tmpfs and on disk, /usr/bin/multilog vs ./bin/multilog
# in interleaved rounds; prints the median lines/s of each and their ratio
# (target: ours at least 1.5x), and our peak RSS (limit 3 MiB). Every run's
# log is checked: every line present, in order, each with a timestamp.
# Run from the repository root after make.
set -u
C=/usr/bin/multilog
G=$PWD/bin/multilog
ROUNDS=${ROUNDS:-5}
LINES=1000000
[ -x "$C" ] || { echo "bench/multilog.sh: $C missing"; exit 1; }
[ -x "$G" ] || { echo "bench/multilog.sh: $G missing: run make"; exit 1; }

shm=$(mktemp -d /dev/shm/tinymx-mlbench.XXXXXX) || exit 1
disk=$(mktemp -d /var/tmp/tinymx-mlbench.XXXXXX) || exit 1
trap 'rm -rf "$shm" "$disk"' EXIT

# 100-byte lines: an 8-digit sequence number, a space, 90 letters, newline
input=$shm/input
awk -v n=$LINES 'BEGIN { pad = sprintf("%90s", ""); gsub(/ /, "x", pad);
	for (i = 0; i < n; i++) printf "%08d %s\n", i, pad }' > "$input"

fail=0
# run IMPL FS: prints lines/s, checks the log, records RSS for ours
run() {
	local bin=$1 where=$2 dir=$2/log
	rm -rf "$dir"
	local t0 t1
	t0=$(date +%s%N)
	cat "$input" | /usr/bin/time -f %M -o "$shm/rss" "$bin" t s16777215 n10 "$dir"
	t1=$(date +%s%N)
	local bad
	bad=$(cat "$dir"/@* "$dir"/current | LC_ALL=C grep -cvE '^@[0-9a-f]{24} ')
	if [ "$bad" != 0 ] || ! cat "$dir"/@* "$dir"/current | cut -c27- | cmp -s - "$input"; then
		echo "bench/multilog.sh: $bin in $where: log differs from the input" >&2
		fail=1
	fi
	[ "$bin" = "$G" ] && cat "$shm/rss" >> "$shm/rss.all"
	echo $(( LINES * 1000000000 / (t1 - t0) ))
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for fs in tmpfs disk; do
	where=$shm
	[ $fs = disk ] && where=$disk
	: > "$shm/c.$fs"; : > "$shm/g.$fs"
	for r in $(seq "$ROUNDS"); do
		# alternate which goes first so neither always gets the warm cache
		if [ $((r % 2)) = 1 ]; then
			run $C "$where" >> "$shm/c.$fs"; run $G "$where" >> "$shm/g.$fs"
		else
			run $G "$where" >> "$shm/g.$fs"; run $C "$where" >> "$shm/c.$fs"
		fi
	done
	c=$(median < "$shm/c.$fs")
	g=$(median < "$shm/g.$fs")
	printf 'multilog t s16777215 n10, %d lines from a pipe, %s: C %d lines/s, Go %d lines/s, Go/C %s (target 1.5, median of %d)\n' \
		$LINES $fs "$c" "$g" "$(awk -v g="$g" -v c="$c" 'BEGIN { printf "%.2f", g / c }')" "$ROUNDS"
done
rss=$(sort -n "$shm/rss.all" | tail -1)
echo "multilog peak RSS (Go): ${rss} KiB (limit 3072 KiB)"
[ "$rss" -le 3072 ] || fail=1
exit $fail
