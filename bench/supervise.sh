#!/bin/bash
# Supervision benchmark (issue 4): ours (./bin) against daemontools 0.76
# (/usr/bin), measured in the same run, rounds interleaved, medians.
#  - latency from "svc -u" to the service running (pid in supervise/status)
#    and from "svc -d" to it being down (pid 0 again);
#  - memory of an idle tree of 50 services: svscan plus 50 supervise,
#    summed VmRSS and PSS (PSS shares the pages of one binary fairly).
# Ratios are C/ours: >= 1.0 means ours is no slower / no bigger.
# Run from the repository root after make.
set -euo pipefail
G=$PWD/bin
C=/usr/bin
for p in supervise svc svscan; do
	[ -x "$G/$p" ] || { echo "bench/supervise.sh: $G/$p not built: run make" >&2; exit 1; }
	[ -x "$C/$p" ] || { echo "bench/supervise.sh: $C/$p missing (apt-get install daemontools)" >&2; exit 1; }
done
W=$(mktemp -d)
trap 'for f in "$W"/*.pid; do [ -f "$f" ] && kill -TERM -- -"$(cat "$f")" 2>/dev/null; done; sleep 0.2; rm -rf "$W"' EXIT

python3 - "$G" "$C" "$W" <<'PY'
import os, sys, time, subprocess, statistics, struct, signal

G, C, W = sys.argv[1:4]
ROUNDS = 11

def pid_of(d):
    try:
        b = open(d + "/supervise/status", "rb").read()
    except OSError:
        return None
    if len(b) != 18:
        return None
    return struct.unpack("<I", b[12:16])[0]

def wait(cond, timeout=10):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise SystemExit("bench/supervise.sh: timed out")
        time.sleep(0.0002)

def start(argv, name, env=None):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True, env=env)
    open(f"{W}/{name}.pid", "w").write(str(p.pid))
    return p

def stop(p, name):
    try:
        os.killpg(p.pid, signal.SIGTERM)
        os.killpg(p.pid, signal.SIGCONT)
    except ProcessLookupError:
        pass
    p.wait()
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.unlink(f"{W}/{name}.pid")

# --- latency: svc -u -> run started, svc -d -> down ------------------------
# "Running" is when ./run itself has started (it writes to a fifo): the C
# supervise writes the pid into status right after fork, ours after the
# exec, so the status file alone would not compare the same moment.
# Each supervise is driven once by the C svc (so that only supervise
# differs) and once by its own svc (the whole chain; a Go svc pays the Go
# runtime's start-up, about twice a small C program's).
import select
sv = {}
for tag, B in (("go", G), ("c", C)):
    d = f"{W}/lat-{tag}"
    os.makedirs(d)
    os.mkfifo(f"{W}/up-{tag}")
    open(d + "/run", "w").write(f"#!/bin/sh\necho > {W}/up-{tag}\nexec sleep 100000\n")
    os.chmod(d + "/run", 0o755)
    open(d + "/down", "w").close()
    fifo = os.open(f"{W}/up-{tag}", os.O_RDWR | os.O_NONBLOCK)
    sv[tag] = (d, B, start([B + "/supervise", d], "lat-" + tag), fifo)
    wait(lambda: pid_of(d) == 0)

res = {}
for r in range(ROUNDS):
    for tag in (("go", "c") if r % 2 == 0 else ("c", "go")):
        d, B, _, fifo = sv[tag]
        for via in ("C svc", "own svc"):
            svc = (C if via == "C svc" else B) + "/svc"
            t0 = time.monotonic()
            subprocess.run([svc, "-u", d], check=True)
            if not select.select([fifo], [], [], 10)[0]:
                raise SystemExit("bench/supervise.sh: run did not start")
            os.read(fifo, 100)
            res.setdefault(("up", via, tag), []).append(time.monotonic() - t0)
            wait(lambda: pid_of(d))
            time.sleep(1.1)  # supervise reads no command during its start throttle
            t0 = time.monotonic()
            subprocess.run([svc, "-d", d], check=True)
            wait(lambda: pid_of(d) == 0)
            res.setdefault(("down", via, tag), []).append(time.monotonic() - t0)
for tag in ("go", "c"):
    stop(sv[tag][2], "lat-" + tag)

def ms(x):
    return f"{statistics.median(x)*1000:.2f} ms"

for what, label in (("up", "svc -u to run started"), ("down", "svc -d to down       ")):
    for via in ("C svc", "own svc"):
        g, c = res[(what, via, "go")], res[(what, via, "c")]
        print(f"{label} ({via:7}): ours {ms(g)}, C {ms(c)}, "
              f"ratio C/ours {statistics.median(c)/statistics.median(g):.2f} (median of {ROUNDS})")

# --- memory of a 50-service tree ------------------------------------------
def field(path, key):
    try:
        for l in open(path):
            if l.startswith(key):
                return int(l.split()[1])
    except OSError:
        pass
    return 0

def tree(root):
    kids = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            st = open(f"/proc/{e}/stat").read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        if ppid == root and "supervise" in open(f"/proc/{e}/cmdline").read():
            kids.append(int(e))
    return kids

N = 50
rss = {"go": [], "c": []}
pss = {"go": [], "c": []}
for r in range(5):
    for tag in (("go", "c") if r % 2 == 0 else ("c", "go")):
        B = G if tag == "go" else C
        d = f"{W}/tree-{tag}-{r}"
        bindir = f"{W}/bin-{tag}"
        if not os.path.isdir(bindir):
            os.makedirs(bindir)
            os.symlink(B + "/supervise", bindir + "/supervise")
        for i in range(N):
            s = f"{d}/s{i}"
            os.makedirs(s)
            open(s + "/run", "w").write("#!/bin/sh\nexec sleep 100000\n")
            os.chmod(s + "/run", 0o755)
        env = dict(os.environ, PATH=bindir + ":/usr/bin:/bin")
        p = start([B + "/svscan", d], "tree", env)
        wait(lambda: all(pid_of(f"{d}/s{i}") for i in range(N)), 30)
        time.sleep(1.5)  # past the start throttle: idle
        kids = tree(p.pid)
        for x in kids:  # the tree must run the supervise it is measuring
            if os.readlink(f"/proc/{x}/exe") != os.path.realpath(B + "/supervise"):
                raise SystemExit(f"bench/supervise.sh: {tag} tree runs {os.readlink(f'/proc/{x}/exe')}")
        procs = [p.pid] + kids
        rss[tag].append(sum(field(f"/proc/{x}/status", "VmRSS:") for x in procs))
        pss[tag].append(sum(field(f"/proc/{x}/smaps_rollup", "Pss:") for x in procs))
        stop(p, "tree")

def mib(x):
    return f"{statistics.median(x)/1024:.1f} MiB"

print(f"50-service tree RSS (svscan + 50 supervise): ours {mib(rss['go'])}, C {mib(rss['c'])}, "
      f"ratio C/ours {statistics.median(rss['c'])/statistics.median(rss['go']):.2f}")
print(f"50-service tree PSS (svscan + 50 supervise): ours {mib(pss['go'])}, C {mib(pss['c'])}, "
      f"ratio C/ours {statistics.median(pss['c'])/statistics.median(pss['go']):.2f}")
PY
