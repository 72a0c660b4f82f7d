#!/bin/bash
# bench/smtpd.sh: qmail-smtpd throughput, connection cost, latency and RSS
# (issue 6). Run from the repo root after `make`, as root (it mounts a
# tmpfs for the Maildirs). Stacks, all on 127.0.0.1, measured in the same
# run in interleaved rounds (median of $ROUNDS):
#   ours  ./bin/tcpserver + ./bin/qmail-smtpd, built-in Maildir store
#   mq    the same with QMAILQUEUE=$PWD/bin/maildir-queue
#   sink  Postfix's smtp-sink (the reference)
#   floor ./bin/tcpserver spawning a static Go program that writes a 220
#         greeting and exits (the cost of starting a Go process per connection)
# Load: Postfix's smtp-source, 8 sessions, 1 KiB messages; bench/smtpload
# for the floor, latency, RSS, and checking every message in the Maildir.
# The whole script is one { ... } block, read in full before it runs:
# bash otherwise reads a script as it goes, and an edit or a git
# checkout of this file during a run (it takes minutes) made it run
# fragments of lines ("line 130: $2: unbound variable").
{
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
NP=${NP:-2000}       # messages per persistent-session run (ours, sink)
NPQ=${NPQ:-300}      # the same through maildir-queue (a process per message)
NC=${NC:-150}        # messages (connections) per one-connection-per-message run
NL=${NL:-100}        # sequential connections per latency sample
KEYS=${KEYS:-1000000}
SRC=/usr/sbin/smtp-source
SINK=/usr/sbin/smtp-sink
FROM=a@x.test
RCPT=b@example.org

for p in bin/tcpserver bin/qmail-smtpd bin/maildir-queue bin/qmail-newmrh bin/qmail-newbmf $SRC $SINK; do
	[ -x "$p" ] || { echo "bench/smtpd.sh: missing $p (run make; install postfix for smtp-source/smtp-sink)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench/smtpd.sh: needs root to mount a tmpfs" >&2; exit 1; }

W=$(mktemp -d /tmp/smtpd-bench.XXXXXX)
mount -t tmpfs -o size=1g,mode=0755 tmpfs "$W"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL -- "-$p" 2>/dev/null || true
	done
	umount "$W" 2>/dev/null || umount -l "$W"
	rmdir "$W"
}
trap cleanup EXIT

# A snapshot of the programs: a rebuild of ./bin during the run must not
# change what is measured.
mkdir "$W/bin"
cp bin/tcpserver bin/qmail-smtpd bin/maildir-queue "$W/bin/"
go build -o "$W/smtpload" ./bench/smtpload
mkdir "$W/floor"
cat > "$W/floor/main.go" <<'GO'
package main

import "os"

func main() { os.Stdout.Write([]byte("220 floor ESMTP\r\n")) }
GO
(cd "$W/floor" && CGO_ENABLED=0 go build -o "$W/floor-greet" main.go)
# A second, informative floor for one connection per message: a static Go
# program that answers smtp-source's whole lock-step dialogue (220, 250,
# 354, 250 after the dot, 221) and stores nothing. The gap between the
# greeting floor and this one is the dialogue's round trips, not our code.
mkdir "$W/tfloor"
cat > "$W/tfloor/main.go" <<'GO'
package main

import (
	"bufio"
	"os"
)

func main() {
	r := bufio.NewReader(os.Stdin)
	w := os.Stdout
	w.Write([]byte("220 floor ESMTP\r\n"))
	data := false
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if len(l) >= 2 && l[len(l)-2] == '\r' {
			l = l[:len(l)-2]
		} else {
			l = l[:len(l)-1]
		}
		switch {
		case data:
			if l == "." {
				data = false
				w.Write([]byte("250 ok\r\n"))
			}
		case l == "DATA":
			data = true
			w.Write([]byte("354 go ahead\r\n"))
		case l == "QUIT":
			w.Write([]byte("221 floor\r\n"))
			return
		default:
			w.Write([]byte("250 ok\r\n"))
		}
	}
}
GO
(cd "$W/tfloor" && CGO_ENABLED=0 go build -o "$W/floor-smtp" main.go)

# qmail homes: "empty" has empty lists, "huge" $KEYS keys in each cdb.
home() {
	mkdir -p "$1/control"
	echo mx.example.org > "$1/control/me"
	printf 'example.org\n.example.org\n' > "$1/control/rcpthosts"
}
home "$W/empty"
: > "$W/empty/control/morercpthosts"
: > "$W/empty/control/badmailfrom"
home "$W/huge"
awk -v n="$KEYS" 'BEGIN { for (i = 0; i < n; i++) printf "host%d.example.net\n", i }' > "$W/huge/control/morercpthosts"
awk -v n="$KEYS" 'BEGIN { for (i = 0; i < n; i++) printf "user%d@spam%d.example.com\n", i, i % 1000 }' > "$W/huge/control/badmailfrom"
for h in empty huge; do
	QMAILHOME="$W/$h" bin/qmail-newmrh
	QMAILHOME="$W/$h" bin/qmail-newbmf
done
for m in ours mq lat; do mkdir -p "$W/md-$m/tmp" "$W/md-$m/new" "$W/md-$m/cur"; done

# start NAME ENV... -- CMD...: run a server in its own session, learn its port.
start() {
	local name=$1; shift
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env -i PATH="$PATH" "${envs[@]}" setsid "$@" > "$W/$name.port" 2> "$W/$name.err" &
	PIDS+=($!)
	eval "PID_$name=$!"
	for _ in $(seq 100); do [ -s "$W/$name.port" ] && break; sleep 0.05; done
	eval "ADDR_$name=127.0.0.1:$(head -1 "$W/$name.port")"
}
TS="$W/bin/tcpserver -1 -HR -l mx.example.org -c 40 127.0.0.1 0"
start ours QMAILHOME="$W/empty" MAILDIRQUEUE="$W/md-ours" -- $TS "$W/bin/qmail-smtpd"
start mq QMAILHOME="$W/empty" MAILDIRQUEUE="$W/md-mq" QMAILQUEUE="$W/bin/maildir-queue" -- $TS "$W/bin/qmail-smtpd"
start huge QMAILHOME="$W/huge" MAILDIRQUEUE="$W/md-lat" -- $TS "$W/bin/qmail-smtpd"
start floor -- $TS "$W/floor-greet"
start tfloor -- $TS "$W/floor-smtp"
SINKPORT=$("$W/smtpload" freeport)
env -i PATH="$PATH" setsid $SINK -u nobody "127.0.0.1:$SINKPORT" 256 > /dev/null 2>&1 &
PIDS+=($!)
ADDR_sink=127.0.0.1:$SINKPORT
for _ in $(seq 100); do "$W/smtpload" greet 1 1 "$ADDR_sink" > /dev/null 2>&1 && break; sleep 0.05; done

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f\n", n / (b - a) }'; }
run() { # run KEY N ADDR SMTP-SOURCE-ARGS...
	local key=$1 n=$2 addr=$3; shift 3
	local t0 t1; t0=$(now)
	$SRC "$@" -s 8 -m "$n" -l 1024 -f $FROM -t $RCPT "$addr"
	t1=$(now)
	rate "$n" "$t0" "$t1" >> "$W/r.$key"
}
verify() { "$W/smtpload" verify "$W/md-$1" "$2" $FROM $RCPT || { echo "bench/smtpd.sh: $1: messages missing or wrong" >&2; exit 1; }; }
greet() { # greet KEY CONC N ADDR: appends "rate latency"
	"$W/smtpload" greet "$2" "$3" "$4" >> "$W/r.$1"
}

echo "smtpd bench: $ROUNDS rounds; persistent $NP msgs ($NPQ via maildir-queue), per-connection $NC, 8 clients, 1 KiB; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
	run p-sink "$NP" "$ADDR_sink" -d
	run p-ours "$NP" "$ADDR_ours" -d; verify ours "$NP"
	run p-mq "$NPQ" "$ADDR_mq" -d; verify mq "$NPQ"
	greet floor 8 "$NC" "$ADDR_floor"
	run c-sink "$NC" "$ADDR_sink"
	run c-tfloor "$NC" "$ADDR_tfloor"
	run c-ours "$NC" "$ADDR_ours"; verify ours "$NC"
	run c-mq "$NC" "$ADDR_mq"; verify mq "$NC"
	greet g-ours 8 "$NC" "$ADDR_ours"
	greet l-ours 1 "$NL" "$ADDR_ours"
	greet l-huge 1 "$NL" "$ADDR_huge"
	greet l-floor 1 "$NL" "$ADDR_floor"
	echo "  round $r done"
done
RSS_OURS=$("$W/smtpload" rss "$PID_ours" 500 "$ADDR_ours")
RSS_MQ=$("$W/smtpload" rss "$PID_mq" 100 "$ADDR_mq")

# Rates are medians over rounds; ratios are medians of the per-round
# ratios (the two sides of a ratio ran back to back under the same load).
med() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { awk -v c="$2" '{ print $c }' "$W/r.$1" | med; }
# ratio A B [COL]: median over rounds of A/B
ratio() {
	local c=${3:-1}
	paste -d' ' <(awk -v c="$c" '{ print $c }' "$W/r.$1") <(awk -v c="$c" '{ print $c }' "$W/r.$2") |
		awk '{ printf "%.3f\n", $1 / $2 }' | med | awk '{ printf "%.2f", $1 }'
}
# growth A B: median over rounds of A-B (latency, ms)
growth() {
	paste -d' ' <(awk '{ print $2 }' "$W/r.$1") <(awk '{ print $2 }' "$W/r.$2") |
		awk '{ printf "%.3f\n", $1 - $2 }' | med
}
P_SINK=$(col p-sink 1); P_OURS=$(col p-ours 1); P_MQ=$(col p-mq 1)
C_SINK=$(col c-sink 1); C_OURS=$(col c-ours 1); C_MQ=$(col c-mq 1)
FLOOR=$(col floor 1); G_OURS=$(col g-ours 1)
L_OURS=$(col l-ours 2); L_HUGE=$(col l-huge 2); L_FLOOR=$(col l-floor 2)
echo "persistent sessions (msgs/s): smtp-sink $P_SINK; ours $P_OURS = $(ratio p-ours p-sink)x smtp-sink (target >= 0.20); with maildir-queue $P_MQ = $(ratio p-mq p-sink)x; every message verified in the Maildir"
echo "one connection per message (msgs/s): floor $FLOOR conn/s (greeting only); ours $C_OURS = $(ratio c-ours floor)x floor (target >= 0.8), $(ratio c-ours c-sink)x smtp-sink ($C_SINK); with maildir-queue $C_MQ = $(ratio c-mq floor)x floor, $(ratio c-mq c-sink)x smtp-sink"
echo "  informative: a static Go program answering the same dialogue, storing nothing: $(col c-tfloor 1) msgs/s = $(ratio c-tfloor floor)x floor; ours = $(ratio c-ours c-tfloor)x that"
echo "greeting-only connection rate: ours $G_OURS conn/s = $(ratio g-ours floor)x floor"
echo "connect-to-greeting latency (sequential, median ms): floor $L_FLOOR; ours $L_OURS; ours with $KEYS keys in morercpthosts.cdb and badmailfrom.cdb $L_HUGE: growth $(growth l-huge l-ours) ms (target <= 2)"
echo "qmail-smtpd VmHWM: $RSS_OURS kB after 500 messages in one session (built-in store), $RSS_MQ kB with maildir-queue"
exit
}
