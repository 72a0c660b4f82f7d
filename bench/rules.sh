#!/bin/bash
# tcprules and tcprulescheck: ours vs /usr/bin on a 100,000-line rules file
# (addresses, prefixes, hosts, variables, comments) and a 1,000,000-line one.
# Rounds alternate C and Go; we print the median wall and CPU (user+sys)
# time of each and the ratios C/Go (above 1: ours is faster). The cdbs are
# checked identical first. Run from the repository root after make.
set -eu
ROUNDS=${ROUNDS:-5}
C=/usr/bin
G=$PWD/bin
[ -x "$C/tcprules" ] || { echo "rules bench: $C/tcprules not installed, skipped"; exit 0; }
[ -x "$G/tcprules" ] || { echo "rules bench: $G/tcprules not built (run make)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gen() { # $1 lines
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
for size in 100k 1m; do
	"$C/tcprules" "$tmp/c.cdb" "$tmp/c.tmp" < "$tmp/$size"
	"$G/tcprules" "$tmp/g.cdb" "$tmp/g.tmp" < "$tmp/$size"
	cmp -s "$tmp/c.cdb" "$tmp/g.cdb" || { echo "rules bench: cdbs differ ($size)" >&2; exit 1; }
done
cp "$tmp/g.cdb" "$tmp/big.cdb"

python3 - "$ROUNDS" "$C" "$G" "$tmp" <<'PY'
import os, resource, subprocess, sys, time
rounds, C, G, tmp = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

def measure(fn):
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    fn()
    t1 = time.monotonic()
    a = resource.getrusage(resource.RUSAGE_CHILDREN)
    return t1 - t0, (a.ru_utime - b.ru_utime) + (a.ru_stime - b.ru_stime)

def med(xs):
    return sorted(xs)[len(xs) // 2]

def compare(name, make):
    res = {'C': [], 'G': []}
    for _ in range(rounds):
        for who, d in (('C', C), ('G', G)):
            res[who].append(measure(make(d)))
    cw, cc = med([x[0] for x in res['C']]), med([x[1] for x in res['C']])
    gw, gc = med([x[0] for x in res['G']]), med([x[1] for x in res['G']])
    print('%s: C wall %.1f ms cpu %.1f ms, Go wall %.1f ms cpu %.1f ms; ratio C/Go wall %.2fx cpu %.2fx'
          % (name, cw * 1e3, cc * 1e3, gw * 1e3, gc * 1e3, cw / gw, cc / gc))

for size in ('100k', '1m'):
    def make(d, size=size):
        def run():
            with open(os.path.join(tmp, size), 'rb') as f:
                subprocess.run([d + '/tcprules', tmp + '/x.cdb', tmp + '/x.tmp'], stdin=f, check=True)
        return run
    compare('tcprules %s lines' % size, make)

def check(d):
    def run():
        for i in range(100):
            env = {'TCPREMOTEIP': '10.1.%d.7' % (i % 256), 'TCPREMOTEHOST': 'h%d.example.com' % i}
            subprocess.run([d + '/tcprulescheck', tmp + '/big.cdb'], env=env, stdout=subprocess.DEVNULL, check=True)
    return run
compare('tcprulescheck 100 runs on the 1,000,000-line cdb', check)
PY
