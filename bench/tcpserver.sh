#!/bin/bash
# Connections per second of ./bin/tcpserver against /usr/bin/tcpserver,
# same static C child, 4 clients in flight, interleaved rounds, median of
# ROUNDS; then 100,000 rules against 3, and the idle RSS of ./bin/tcpserver.
# Run from the repository root after make.
set -eu
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-2}
GO=./bin/tcpserver
C=/usr/bin/tcpserver
for p in "$GO" "$C" /usr/bin/tcprules gcc; do
	command -v "$p" >/dev/null || { echo "bench/tcpserver.sh: missing $p" >&2; exit 1; }
done
T=$(mktemp -d)
SERVER=
cleanup() {
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

cat >"$T/child.c" <<'C'
#include <unistd.h>
int main(void) { write(1, "x\n", 2); return 0; }
C
gcc -O2 -static -o "$T/child" "$T/child.c"

# load N SECS PORT [BYTES]: N threads connect, read to EOF, close, for SECS
# seconds; prints connections per second.
cat >"$T/load.c" <<'C'
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static int port, want; static double secs; static double t0;
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec / 1e9; }
static void *run(void *arg) {
	long n = 0; char buf[64];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(0x7f000001);
	while (now() - t0 < secs) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0) continue;
		if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) {
			int got = 0, r;
			while ((r = read(s, buf, sizeof buf)) > 0) got += r;
			if (got == want) n++;
		}
		close(s);
	}
	return (void *)n;
}
int main(int argc, char **argv) {
	int k = atoi(argv[1]); secs = atof(argv[2]); port = atoi(argv[3]); want = argc > 4 ? atoi(argv[4]) : 2;
	pthread_t th[64]; long total = 0; void *r;
	t0 = now();
	for (int i = 0; i < k; i++) pthread_create(&th[i], 0, run, 0);
	for (int i = 0; i < k; i++) { pthread_join(th[i], &r); total += (long)r; }
	printf("%.0f\n", total / (now() - t0));
	return 0;
}
C
gcc -O2 -pthread -o "$T/load" "$T/load.c"

printf '127.0.0.1:allow,X="y"\n10.:deny\n:allow\n' | /usr/bin/tcprules "$T/small.cdb" "$T/small.tmp"
python3 - "$T/big.txt" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(100000):
        f.write("10.%d.%d.%d:deny\n" % (i >> 16 & 255, i >> 8 & 255, i & 255))
    f.write('127.0.0.1:allow,X="y"\n:allow\n')
PY
/usr/bin/tcprules "$T/big.cdb" "$T/big.tmp" <"$T/big.txt"
printf '127.0.0.1:deny\n' | /usr/bin/tcprules "$T/deny.cdb" "$T/deny.tmp"

# measure BIN CDB [BYTES]: one round, connections per second
measure() {
	"$1" -1 -vRHl0 -x "$2" 127.0.0.1 0 "$T/child" >"$T/port" 2>/dev/null &
	SERVER=$!
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	"$T/load" 4 "$SECS" "$(cat "$T/port")" "${3:-2}"
	kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
	SERVER=
	: >"$T/port"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: >"$T/go"; : >"$T/c"; : >"$T/go100k"; : >"$T/c100k"; : >"$T/godeny"; : >"$T/cdeny"
for r in $(seq "$ROUNDS"); do
	measure "$GO" "$T/small.cdb" >>"$T/go"
	measure "$C" "$T/small.cdb" >>"$T/c"
	measure "$GO" "$T/big.cdb" >>"$T/go100k"
	measure "$C" "$T/big.cdb" >>"$T/c100k"
	measure "$GO" "$T/deny.cdb" 0 >>"$T/godeny"
	measure "$C" "$T/deny.cdb" 0 >>"$T/cdeny"
done
go=$(median <"$T/go"); c=$(median <"$T/c"); go100k=$(median <"$T/go100k"); c100k=$(median <"$T/c100k")
echo "tcpserver connections/s, 4 clients, 3-rule cdb: ours $go, C $c, ratio $(awk "BEGIN{printf \"%.2f\", $go/$c}") (target >= 1.0)"
echo "tcpserver connections/s, 100,000-rule cdb: ours $go100k, C $c100k"
godeny=$(median <"$T/godeny"); cdeny=$(median <"$T/cdeny")
echo "tcpserver denied connections/s (helper process path): ours $godeny, C $cdeny, ratio $(awk "BEGIN{printf \"%.2f\", $godeny/$cdeny}")"
echo "tcpserver 100,000 rules vs 3 rules: ours $(awk "BEGIN{printf \"%.2f\", $go100k/$go}") (target >= 0.95), C $(awk "BEGIN{printf \"%.2f\", $c100k/$c}")"

# idle RSS: serve a few connections, then let the server go idle
"$GO" -1 -vRHl0 -x "$T/small.cdb" 127.0.0.1 0 "$T/child" >"$T/port" 2>/dev/null &
SERVER=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
"$T/load" 4 0.5 "$(cat "$T/port")" >/dev/null
sleep 3
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER/status")
echo "tcpserver idle VmRSS: ${rss} kB (target <= 3072 kB)"
