#!/bin/bash
# bench/peers.sh: our SMTP stack against the servers a user would pick
# instead (issue 11). Later issues set their speed goals against Postfix;
# this is where they are measured. Run from the repo root after `make`, as
# root. Every stack listens on 127.0.0.1 only and keeps every message it
# accepts on the same disk (not tmpfs), durable by its own rules:
#   tinymx     ./bin/tcpserver -v -D -H -R -x tcp.cdb + ./bin/qmail-smtpd with
#              the built-in Maildir store (MAILDIRQUEUE), as qmail-smtpd-conf's
#              run script; counted in the Maildir's new/ (tmp/ must be empty)
#   postfix    a private Postfix instance: its own config_directory,
#              queue_directory and data_directory under the work dir (the
#              system's Postfix is never started, read or touched);
#              smtpd_recipient_restrictions = check_recipient_access static:HOLD,
#              so every message is fsynced into hold/ and never delivered;
#              counted in hold/ (incoming/ active/ deferred/ ... must be empty)
#   opensmtpd  Debian's opensmtpd, which conflicts with postfix as a package:
#              fetched with apt-get download, unpacked with dpkg-deb -x, never
#              installed. Its paths (/var/spool/smtpd, its two users) are
#              compiled in, so it runs in a private mount namespace (unshare
#              -m) where the work dir's var/, passwd and group are bound over
#              the real ones; transfers and deliveries paused (-P mta -P mda);
#              counted as envelopes in its queue. Skipped, with a warning, if
#              it cannot be fetched or run (OPENSMTPD_DEB=file gives the .deb).
#   smtp-sink  Postfix's smtp-sink: no queue at all, the upper bound; counted
#              by its own -c counter
# Load: Postfix's smtp-source, CONC sessions, SIZE-byte bodies, in two shapes:
#   conn       one connection per message (smtp-source's default)
#   session    persistent sessions: smtp-source -d ("don't disconnect after
#              sending a message"), NSESSION/CONC messages per session
# Rounds: per load shape, one unrecorded warm-up round, then ROUNDS rounds
# interleaved A B C D, D C B A, ... Each measurement starts its stack afresh
# on a free port, times smtp-source alone, waits (bounded) until every
# message is where it lands, counts them there and fails the bench unless
# the count is exact, then stops the stack, checks none of its processes
# remain, and empties its queue.
# CPU per message: every stack runs in its own cgroup v2 (made under the
# cgroup2 mount, or a private mount of it), and the figure is cpu.stat's
# usage_usec from just before the client starts until every message is
# counted, divided by the messages. A cgroup holds every process of the
# stack, including the ones that daemonize (Postfix's master is reparented
# away from the shell that starts it) or exit during the run (tcpserver's
# children, Postfix's short-lived services): a walk of the /proc tree or the
# getrusage of a wrapper would lose some of those. The client is outside it.
# Fsyncs per message: a separate, untimed pass per stack and load shape
# attaches `strace -f -c` to every process of the stack, counts fsync,
# fdatasync, sync_file_range and syncfs over NSTRACE messages, and checks
# it saw an accept per connection (proof the trace covered the listener).
# Printed per load shape and stack: msgs/s (median [min-max] of rounds), CPU
# ms per message (the same), fsyncs per message, and the median [min-max] of
# the per-round ratios of tinymx's rate to each peer's (the two ran back to
# back in the same round, so a round's ratio cancels most machine noise).
# Keys (environment): ROUNDS=5 WARMUP=1 NCONN=1000 NSESSION=2000 (COUNT sets
# both) CONC=8 SIZE=1024 NSTRACE=200 LOADS="conn session"
# STACKS="tinymx postfix opensmtpd smtp-sink" (tinymx first, the base of the
# ratios) BENCHDIR=/tmp (the work dir's parent: a disk, not tmpfs).
# Needs: postfix (smtp-source, smtp-sink and the peer), strace, iproute2's ss,
# util-linux's unshare, apt-get and dpkg-deb for opensmtpd.
# The whole script is one { ... } block, read in full before it runs (see
# bench/smtpd.sh): a checkout during a run must not change what runs.
{
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
WARMUP=${WARMUP:-1}
NCONN=${NCONN:-${COUNT:-1000}}
NSESSION=${NSESSION:-${COUNT:-2000}}
NSTRACE=${NSTRACE:-200}
CONC=${CONC:-8}
SIZE=${SIZE:-1024}
LOADS=${LOADS:-conn session}
STACKS=${STACKS:-tinymx postfix opensmtpd smtp-sink}
BENCHDIR=${BENCHDIR:-/tmp}
SRC=/usr/sbin/smtp-source
SINK=/usr/sbin/smtp-sink
POSTFIX=/usr/sbin/postfix
ME=mx.example.org
FROM=a@x.test
RCPT=b@example.org

die() { echo "bench/peers.sh: fatal: $*" >&2; exit 1; }
warn() { echo "bench/peers.sh: warning: $*" >&2; }
say() { echo "bench/peers.sh: $*" >&2; }

[ "$(id -u)" = 0 ] || die "needs root (cgroups, a private Postfix, a mount namespace)"
for p in bin/tcpserver bin/qmail-smtpd bin/tcprules $SRC $SINK $POSTFIX; do
	[ -x "$p" ] || die "missing $p (run make; install postfix for smtp-source, smtp-sink and the peer)"
done
for c in strace ss unshare timeout; do
	command -v $c > /dev/null || die "missing $c (apt-get install strace iproute2 util-linux coreutils)"
done
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)

W=$(mktemp -d "$BENCHDIR/peers-bench.XXXXXX")
chmod 755 "$W"   # the stacks' unprivileged users reach their dirs through it
CGMOUNT=         # set when we mount cgroup2 ourselves
CGBASE=          # our cgroup; one child per stack
STRACE_PID=
CLIENT_PID=
STARTED=()       # stacks whose cgroup may hold processes

# stop_cgroup CG [PID|all]: TERM PID (or every process in CG; with neither,
# the stack was already told to stop), wait up to 10 s for CG to empty,
# then TERM and KILL what is left, by pid. Every process in CG is one we
# started. Fails if something survives.
stop_cgroup() {
	local cg=$1 pid=${2:-} i
	[ -d "$cg" ] || return 0
	case $pid in
	"") ;;
	all) kill -TERM $(cat "$cg/cgroup.procs") 2> /dev/null || true ;;
	*) kill -TERM "$pid" 2> /dev/null || true ;;
	esac
	for i in $(seq 100); do [ -s "$cg/cgroup.procs" ] || return 0; sleep 0.1; done
	warn "$(basename "$cg"): processes left after stopping: $(tr '\n' ' ' < "$cg/cgroup.procs")"
	kill -TERM $(cat "$cg/cgroup.procs") 2> /dev/null || true
	sleep 1
	kill -KILL $(cat "$cg/cgroup.procs") 2> /dev/null || true
	for i in $(seq 50); do [ -s "$cg/cgroup.procs" ] || return 0; sleep 0.1; done
	return 1
}

cleanup() {
	set +e
	[ -n "$CLIENT_PID" ] && kill -TERM "$CLIENT_PID" 2> /dev/null
	if [ -n "$STRACE_PID" ]; then kill -INT "$STRACE_PID" 2> /dev/null; sleep 0.5; kill -KILL "$STRACE_PID" 2> /dev/null; fi
	for s in "${STARTED[@]}"; do
		[ "$s" = postfix ] && pf_master > /dev/null && timeout 60 $POSTFIX -c "$W/postfix/conf" stop > /dev/null 2>&1
		stop_cgroup "$CGBASE/$s" all
	done
	for s in "${STARTED[@]}"; do rmdir "$CGBASE/$s" 2> /dev/null; done
	[ -n "$CGBASE" ] && rmdir "$CGBASE" 2> /dev/null
	[ -n "$CGMOUNT" ] && umount "$CGMOUNT"
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

case $(stat -f -c %T "$W") in
tmpfs | ramfs) die "$W is on $(stat -f -c %T "$W"): the queues must be on a disk (set BENCHDIR)" ;;
esac

# ------------------------------------------------------------ helpers

# wait_for SECS CMD...: polls CMD every 50 ms for at most SECS seconds.
wait_for() {
	local n=$(($1 * 20)); shift
	while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.05; n=$((n - 1)); done
	return 1
}

CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -z "$CG2" ]; then
	CGMOUNT=$W/cgroup2
	mkdir "$CGMOUNT"
	mount -t cgroup2 none "$CGMOUNT" || { CGMOUNT=; die "no cgroup2 mount, and cannot mount one"; }
	CG2=$CGMOUNT
fi
CGBASE=$CG2/$(basename "$W")
mkdir "$CGBASE" || die "cannot make a cgroup in $CG2"
[ -r "$CGBASE/cpu.stat" ] || die "no cpu.stat in $CGBASE (kernel too old for cgroup2 CPU statistics)"

# incg CG CMD...: becomes CMD inside cgroup CG. Run it in a subshell:
# `incg cg cmd &` (then $! is CMD's pid) or `(incg cg cmd)`.
incg() {
	local cg=$1; shift
	echo "$BASHPID" > "$cg/cgroup.procs"
	exec "$@"
}
cpu_usec() { awk '$1 == "usage_usec" { print $2 }' "$1/cpu.stat"; }

# pick_port: a port below the kernel's ephemeral range (where the clients'
# and other tests' port-0 listeners live) that nothing listens on. The
# stack then proves it owns the listener: owns_port.
pick_port() {
	local lo base p i
	read -r lo _ < /proc/sys/net/ipv4/ip_local_port_range
	base=$((lo > 12000 ? 10000 : 1024))
	for i in $(seq 100); do
		p=$((base + RANDOM % (lo - base)))
		[ -z "$(ss -Hltn "sport = :$p")" ] && { echo $p; return 0; }
	done
	die "no free port below $lo"
}
# owns_port PORT CG: something listens on 127.0.0.1:PORT and every process
# holding that socket is in CG.
owns_port() {
	local pids p
	pids=$(ss -Hltnp "src 127.0.0.1:$1" | grep -o 'pid=[0-9]*' | cut -d= -f2)
	[ -n "$pids" ] || return 1
	for p in $pids; do grep -qx "$p" "$2/cgroup.procs" || return 1; done
}

files() { find "$@" -type f 2> /dev/null | wc -l; }
# lacking DIR...: how many files under the dirs do not name $RCPT
lacking() { find "$@" -type f -exec grep -L -F -e "$RCPT" {} + 2> /dev/null | wc -l; }

# ------------------------------------------------------------ tinymx
# Each stack: X_setup (once), X_start PORT LOG (in cgroup $CG, sets MAIN),
# X_in (true when all N messages are in; for tinymx, also when every
# connection's qmail-smtpd has ended, as its exit status is checked), X_count
# (prints the count, or a reason and fails), X_stop, X_clean.
tm_setup() {
	local d=$W/tinymx
	mkdir -p "$d/bin" "$d/home/control"
	# a snapshot: a rebuild of ./bin during the run must not change what is measured
	cp bin/tcpserver bin/qmail-smtpd bin/tcprules "$d/bin/"
	echo $ME > "$d/home/control/me"
	echo example.org > "$d/home/control/rcpthosts"
	chmod -R go+rX "$d/home"
	# as the shipped run script: a rules cdb is looked up per connection;
	# 127.0.0.1 is no RELAYCLIENT, so rcpthosts is checked, as in Postfix
	echo ':allow' | "$d/bin/tcprules" "$d/tcp.cdb" "$d/tcp.tmp"
	install -d -o "$NOBODY_UID" -g "$NOBODY_GID" -m 0700 "$d/maildir" "$d/maildir/tmp" "$d/maildir/new" "$d/maildir/cur"
}
tm_start() {
	local d=$W/tinymx
	incg "$CG" env -i PATH=/usr/bin:/bin QMAILHOME="$d/home" MAILDIRQUEUE="$d/maildir" \
		"$d/bin/tcpserver" -v -D -H -R -l $ME -x "$d/tcp.cdb" -u "$NOBODY_UID" -g "$NOBODY_GID" \
		127.0.0.1 "$1" "$d/bin/qmail-smtpd" 2> "$2" &
	MAIN=$!
}
tm_ended() { grep -c '^tcpserver: end [0-9]* status' "$LOG" || true; }
tm_in() { [ "$(tm_ended)" -ge "$CONNS" ]; }
tm_count() {
	local d=$W/tinymx/maildir ok bad
	ok=$(grep -c '^tcpserver: end [0-9]* status 0$' "$LOG" || true)
	[ "$ok" = "$CONNS" ] || { echo "$ok of $CONNS qmail-smtpd exited 0: $(grep -v ' status 0$\|^tcpserver: \(ok\|pid\|status\)' "$LOG" | head -3)"; return 1; }
	[ "$(files "$d/tmp")" = 0 ] || { echo "files left in tmp/"; return 1; }
	bad=$(lacking "$d/new")
	[ "$bad" = 0 ] || { echo "$bad messages in new/ lack $RCPT"; return 1; }
	files "$d/new"
}
tm_stop() { stop_cgroup "$CG" "$MAIN"; }
tm_clean() { find "$W/tinymx/maildir" -type f -delete; }

# ------------------------------------------------------------ Postfix
pf_setup() {
	local d=$W/postfix
	id postfix > /dev/null 2>&1 && getent group postdrop > /dev/null || die "postfix: no user postfix or group postdrop"
	mkdir -p "$d/conf" "$d/queue" "$d/data"
	chmod 755 "$d" "$d/conf"
	chown postfix: "$d/data"
	cat > "$d/conf/main.cf" <<-EOF
	compatibility_level = 3.6
	queue_directory = $d/queue
	data_directory = $d/data
	mail_owner = postfix
	setgid_group = postdrop
	myhostname = $ME
	inet_interfaces = 127.0.0.1
	inet_protocols = ipv4
	# like qmail-smtpd with rcpthosts: any local part at example.org, and
	# 127.0.0.1 is no relay client, so the relay check is made
	mydestination =
	relay_domains = example.org
	mynetworks = 192.0.2.0/24
	local_recipient_maps =
	alias_maps =
	alias_database =
	# like tcpserver -H: no reverse lookup of the client
	smtpd_peername_lookup = no
	smtpd_banner = \$myhostname ESMTP
	# accepted and fsynced into hold/, never delivered; were a message
	# released, it would still go nowhere
	smtpd_recipient_restrictions = check_recipient_access static:HOLD
	default_transport = discard
	relay_transport = discard
	local_transport = discard
	biff = no
	maillog_file = $d/maillog
	maillog_file_prefixes = $d
	EOF
	pf_master_cf 25 > "$d/conf/master.cf"
	timeout 120 $POSTFIX -c "$d/conf" check > "$W/postfix-check.log" 2>&1 || die "postfix check: $(cat "$W/postfix-check.log")"
}
# pf_master_cf PORT: the services this instance needs, none chrooted
pf_master_cf() {
	cat <<-EOF
	127.0.0.1:$1 inet n - n - - smtpd
	cleanup unix n - n - 0 cleanup
	qmgr unix n - n 300 1 qmgr
	rewrite unix - - n - - trivial-rewrite
	proxymap unix - - n - - proxymap
	anvil unix - - n - 1 anvil
	scache unix - - n - 1 scache
	verify unix - - n - 1 verify
	bounce unix - - n - 0 bounce
	defer unix - - n - 0 bounce
	trace unix - - n - 0 bounce
	error unix - - n - - error
	retry unix - - n - - error
	discard unix - - n - - discard
	postlog unix-dgram n - n - 1 postlogd
	EOF
}
# pf_master: the running master's pid, from its pid file
pf_master() {
	local p
	p=$(tr -d ' ' < "$W/postfix/queue/pid/master.pid" 2> /dev/null) || return 1
	[ -n "$p" ] && grep -q master "/proc/$p/cmdline" 2> /dev/null && echo "$p"
}
pf_start() {
	local d=$W/postfix
	pf_master_cf "$1" > "$d/conf/master.cf"
	rm -f "$d/maillog"
	# the master daemonizes; it stays in $CG, where `postfix start` ran
	(incg "$CG" timeout 120 $POSTFIX -c "$d/conf" start) > "$2" 2>&1 || die "postfix start: $(cat "$2")"
	wait_for 10 pf_master > /dev/null || die "postfix: no master pid"
	MAIN=$(pf_master)
}
pf_in() { [ "$(files "$W/postfix/queue/hold")" -ge "$N" ]; }
pf_count() {
	local q=$W/postfix/queue n bad
	n=$(files "$q/incoming" "$q/active" "$q/deferred" "$q/corrupt" "$q/maildrop")
	[ "$n" = 0 ] || { echo "$n messages outside hold/"; return 1; }
	bad=$(lacking "$q/hold")
	[ "$bad" = 0 ] || { echo "$bad messages in hold/ lack $RCPT"; return 1; }
	files "$q/hold"
}
pf_stop() {
	timeout 60 $POSTFIX -c "$W/postfix/conf" stop >> "$LOG" 2>&1 || warn "postfix stop failed"
	stop_cgroup "$CG"
}
pf_clean() {
	local q=$W/postfix/queue
	find "$q/incoming" "$q/active" "$q/hold" "$q/deferred" "$q/corrupt" "$q/maildrop" "$q/defer" "$q/bounce" -type f -delete 2> /dev/null || true
}

# ------------------------------------------------------------ OpenSMTPD
# os_setup: fails (and the stack is skipped) where OpenSMTPD cannot run
os_setup() {
	local d=$W/opensmtpd deb uid
	mkdir -p "$d"
	deb=${OPENSMTPD_DEB:-}
	if [ -z "$deb" ]; then
		(cd "$d" && timeout 120 apt-get download opensmtpd) > "$d/download.log" 2>&1 || true
		deb=$(ls "$d"/opensmtpd_*.deb 2> /dev/null | head -1)
		[ -n "$deb" ] || { OS_WHY="apt-get download opensmtpd: $(tail -1 "$d/download.log")"; return 1; }
	fi
	dpkg-deb -x "$deb" "$d/pkg" || { OS_WHY="dpkg-deb -x $deb failed"; return 1; }
	OS_VERSION=$(dpkg-deb -f "$deb" Version)
	OS_BIN=$d/pkg/usr/sbin/smtpd
	if ldd "$OS_BIN" | grep -q 'not found'; then OS_WHY="libraries missing: $(ldd "$OS_BIN" | grep 'not found' | tr -s '\n\t' ' ')"; return 1; fi
	# what it finds in the namespace: var/ over /var (spool, control socket,
	# the empty chroot dir), passwd and group with its two users, and a
	# resolv.conf that resolves from /etc/hosts only (the others do no DNS)
	mkdir -p "$d/var/spool" "$d/var/run" "$d/var/tmp" "$d/var/lib/opensmtpd/empty" "$d/etc"
	chmod 755 "$d" "$d/var" "$d/var/spool" "$d/var/run" "$d/var/lib" "$d/var/lib/opensmtpd" "$d/var/lib/opensmtpd/empty"
	chmod 1777 "$d/var/tmp"
	uid=61000
	while getent passwd $uid > /dev/null || getent group $uid > /dev/null ||
		getent passwd $((uid + 1)) > /dev/null || getent group $((uid + 1)) > /dev/null; do
		uid=$((uid + 2))
		[ $uid -lt 62000 ] || { OS_WHY="no free uid pair for its users"; return 1; }
	done
	{ cat /etc/passwd
	  echo "opensmtpd:x:$uid:$uid:OpenSMTPD:/var/lib/opensmtpd/empty:/usr/sbin/nologin"
	  echo "opensmtpq:x:$((uid + 1)):$((uid + 1)):OpenSMTPD queue:/var/lib/opensmtpd/empty:/usr/sbin/nologin"
	} > "$d/etc/passwd"
	{ cat /etc/group; echo "opensmtpd:x:$uid:"; echo "opensmtpq:x:$((uid + 1)):"; } > "$d/etc/group"
	echo 'lookup file' > "$d/etc/resolv.conf"
	chmod 644 "$d/etc/passwd" "$d/etc/group" "$d/etc/resolv.conf"
	OS_MOUNTS="mount --bind '$d/var' /var && mount --bind '$d/etc/passwd' /etc/passwd &&
		mount --bind '$d/etc/group' /etc/group && mount --bind '$d/etc/resolv.conf' /etc/resolv.conf"
	os_conf 25
	timeout 30 unshare -m --propagation private sh -c "$OS_MOUNTS && exec '$OS_BIN' -n -f /var/smtpd.conf" > "$d/check.log" 2>&1 ||
		{ OS_WHY="cannot run in a private mount namespace: $(tail -1 "$d/check.log")"; return 1; }
}
# os_conf PORT: its configuration, inside var/ so the namespace sees it
os_conf() {
	cat > "$W/opensmtpd/var/smtpd.conf" <<-EOF
	listen on 127.0.0.1 port $1 hostname $ME
	# the default, 100 messages a session, would end smtp-source -d's sessions
	smtp limit max-mails 1000000
	# never contacted: -P mta pauses every transfer
	action "keep" relay host smtp://127.0.0.1:9
	match from any for domain "example.org" action "keep"
	EOF
}
os_start() {
	os_conf "$1"
	incg "$CG" unshare -m --propagation private sh -c "$OS_MOUNTS && exec '$OS_BIN' -d -f /var/smtpd.conf -P mta -P mda" > "$2" 2>&1 &
	MAIN=$!
}
os_spool=opensmtpd/var/spool/smtpd
os_envelopes() { find "$W/$os_spool/queue" -type f ! -name message 2> /dev/null | wc -l; }
os_in() { [ "$(os_envelopes)" -ge "$N" ]; }
os_count() {
	local s=$W/$os_spool n m bad
	n=$(os_envelopes)
	m=$(find "$s/queue" -type f -name message | wc -l)
	[ "$n" = "$m" ] || { echo "$n envelopes but $m messages"; return 1; }
	[ "$(files "$s/incoming" "$s/temporary")" = 0 ] || { echo "files left in incoming/ or temporary/"; return 1; }
	bad=$(find "$s/queue" -type f ! -name message -exec grep -L -F -e "$RCPT" {} + | wc -l)
	[ "$bad" = 0 ] || { echo "$bad envelopes lack $RCPT"; return 1; }
	echo "$n"
}
os_stop() { stop_cgroup "$CG" "$MAIN"; }
os_clean() { rm -rf "${W:?}/$os_spool"; }   # it makes its spool afresh at start

# ------------------------------------------------------------ smtp-sink
sk_setup() { :; }
sk_start() {
	incg "$CG" $SINK -c -u nobody -h $ME "127.0.0.1:$1" 256 > "$2.count" 2> "$2" &
	MAIN=$!
}
# its -c counter rewrites one line with CRs; the last mesg= is the count
sk_mesg() { tr '\r' '\n' < "$LOG.count" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1; }
sk_in() { [ "$(sk_mesg)" -ge "$N" ] 2> /dev/null; }
sk_count() { sk_mesg; }
sk_stop() { stop_cgroup "$CG" "$MAIN"; }
sk_clean() { :; }

# ------------------------------------------------------------ one run
prefix() {
	case $1 in
	tinymx) echo tm ;; postfix) echo pf ;; opensmtpd) echo os ;; smtp-sink) echo sk ;;
	*) die "unknown stack $1 (tinymx postfix opensmtpd smtp-sink)" ;;
	esac
}
where() {
	case $1 in
	tinymx) echo "Maildir new/" ;; postfix) echo "hold/" ;; opensmtpd) echo "its queue" ;; smtp-sink) echo "its counter" ;;
	esac
}

# launch STACK LOAD N TAG: sets CG, LOG, N, CONNS, PORT; the stack listens
launch() {
	local x; x=$(prefix "$1")
	CG=$CGBASE/$1
	LOG=$W/$1.$4.log
	N=$3
	if [ "$2" = conn ]; then CONNS=$N; DFLAG=; else CONNS=$((CONC < N ? CONC : N)); DFLAG=-d; fi
	"${x}_clean"
	timeout 120 sync   # the previous run's writes are not this one's
	PORT=$(pick_port)
	"${x}_start" "$PORT" "$LOG"
	wait_for 15 owns_port "$PORT" "$CG" ||
		die "$1 does not listen on 127.0.0.1:$PORT (or another program does): $(ss -Hltnp "src 127.0.0.1:$PORT"; tail -3 "$LOG")"
}
# client: smtp-source, bounded; in the background, so that a signal to
# this script is handled at once, not when the client ends
client() {
	local rc=0
	timeout 300 $SRC -s "$CONC" -m "$N" -l "$SIZE" $DFLAG -f $FROM -t $RCPT "127.0.0.1:$PORT" > "$W/client.out" 2>&1 &
	CLIENT_PID=$!
	wait "$CLIENT_PID" || rc=$?
	CLIENT_PID=
	[ $rc = 0 ] || die "$S: smtp-source failed (rc $rc): $(head -3 "$W/client.out")"
}
# settle STACK: waits (bounded) until every message is in, and fails the
# bench unless exactly N are where they land
settle() {
	local x got; x=$(prefix "$1")
	wait_for 60 "${x}_in" || warn "$1: not every message in after 60 s"
	got=$("${x}_count") || die "$1: $got"
	[ "$got" = "$N" ] || die "$1 kept $got of $N messages in $(where "$1")"
}
# finish STACK: stops it (none of its processes may remain), empties its queue
finish() {
	local x; x=$(prefix "$1")
	"${x}_stop" || die "$1: processes survived KILL in $CG"
	"${x}_clean"
}

# measure LOAD STACK ROUND: one timed run; ROUND 0 is the warm-up
measure() {
	local load=$1 S=$2 r=$3 n t0 t1 c0 c1 line
	if [ "$load" = conn ]; then n=$NCONN; else n=$NSESSION; fi
	launch "$S" "$load" "$n" "$load-$r"
	c0=$(cpu_usec "$CG")
	t0=$(date +%s.%N)
	client
	t1=$(date +%s.%N)
	settle "$S"
	c1=$(cpu_usec "$CG")
	finish "$S"
	line=$(awk -v n="$N" -v a="$t0" -v b="$t1" -v c=$((c1 - c0)) \
		'BEGIN { printf "%.1f %.3f", n / (b - a), c / 1000 / n }')
	say "$load round $r $S: ${line% *} msgs/s, ${line#* } ms CPU/msg, $N counted in $(where "$S")"
	[ "$r" = 0 ] || echo "$load $S $r $line" >> "$W/results"
}

strace_gone() { ! kill -0 "$STRACE_PID" 2> /dev/null; }
# traced LOAD STACK: the untimed strace pass; appends "LOAD STACK fsyncs/msg"
traced() {
	local load=$1 S=$2 args=() p st acc
	launch "$S" "$load" "$NSTRACE" "$load-strace"
	for p in $(cat "$CG/cgroup.procs"); do args+=(-p "$p"); done
	strace -f -qq -c -e trace=fsync,fdatasync,sync_file_range,syncfs,accept,accept4 \
		-o "$W/strace.$load.$S" "${args[@]}" 2> "$W/strace.err" &
	STRACE_PID=$!
	# attached when every process names a tracer
	traced_all() {
		local q t
		for q in "${args[@]}"; do
			[ "$q" = -p ] && continue
			t=$(awk '/^TracerPid:/ { print $2 }' "/proc/$q/status" 2> /dev/null) || continue
			[ "${t:-0}" != 0 ] || return 1
		done
	}
	wait_for 15 traced_all || die "strace did not attach to $S: $(cat "$W/strace.err")"
	client
	settle "$S"
	kill -INT "$STRACE_PID"
	wait_for 30 strace_gone || die "strace did not end"
	wait "$STRACE_PID" || true
	STRACE_PID=
	finish "$S"
	# strace -c: % time, seconds, usecs/call, calls, [errors], syscall
	read -r st acc < <(awk '$NF ~ /^(fsync|fdatasync|sync_file_range|syncfs)$/ { s += $4 }
		$NF ~ /^accept4?$/ { a += $4 } END { print s + 0, a + 0 }' "$W/strace.$load.$S")
	[ "$acc" -ge "$CONNS" ] || die "strace saw $acc accepts for $CONNS connections to $S: it missed processes"
	echo "$load $S $(awk -v s="$st" -v n="$N" 'BEGIN { printf "%.2f", s / n }')" >> "$W/fsyncs"
	say "$load strace $S: $st fsyncs for $N messages"
}

# ------------------------------------------------------------ main
RUN=()
for s in $STACKS; do
	x=$(prefix "$s")
	if [ "$s" = opensmtpd ]; then
		os_setup || { warn "skipping opensmtpd: $OS_WHY"; continue; }
	else
		"${x}_setup"
	fi
	mkdir "$CGBASE/$s"
	STARTED+=("$s")
	RUN+=("$s")
done
[ "${RUN[0]:-}" = tinymx ] || warn "tinymx is not the first stack: no ratios"
: > "$W/results"
: > "$W/fsyncs"

echo "peer bench: ${RUN[*]}; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg); queues on $(stat -f -c %T "$W") ($(df --output=source "$W" | tail -1)) in $W"
for s in "${RUN[@]}"; do
	case $s in
	tinymx) echo "  tinymx: ./bin/tcpserver + ./bin/qmail-smtpd (copied at start), MAILDIRQUEUE" ;;
	postfix) echo "  postfix: $(postconf -d -h mail_version), private instance, hold queue" ;;
	opensmtpd) echo "  opensmtpd: $OS_VERSION, unpacked .deb, private mount namespace, -P mta -P mda" ;;
	smtp-sink) echo "  smtp-sink: $SINK, no queue" ;;
	esac
done
echo "  load: smtp-source -s $CONC -l $SIZE; $ROUNDS rounds after $WARMUP warm-up, interleaved"
for load in $LOADS; do
	case $load in conn | session) ;; *) die "LOADS: conn or session, not $load" ;; esac
	first=0
	[ "$WARMUP" = 0 ] && first=1
	for r in $(seq "$first" "$ROUNDS"); do
		order=("${RUN[@]}")
		if [ $((r % 2)) = 0 ] && [ "$r" != 0 ]; then
			order=(); for ((i = ${#RUN[@]} - 1; i >= 0; i--)); do order+=("${RUN[i]}"); done
		fi
		for s in "${order[@]}"; do measure "$load" "$s" "$r"; done
	done
done
for load in $LOADS; do
	for s in "${RUN[@]}"; do traced "$load" "$s"; done
done

# ------------------------------------------------------------ report
# summary LOAD STACK FIELD FORMAT: "median [min-max]" over the rounds (field 4: rate, 5: CPU)
summary() {
	awk -v l="$1" -v s="$2" -v f="$3" '$1 == l && $2 == s { print $f }' "$W/results" | sort -g |
		awk -v p="$4" '{ v[NR] = $1 } END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%" p " [%" p "-%" p "]", m, v[1], v[NR] }'
}
# ratio LOAD STACK: tinymx's rate over STACK's, median [min-max] of the rounds
ratio() {
	awk -v l="$1" -v s="$2" '$1 == l && $2 == "tinymx" { a[$3] = $4 } $1 == l && $2 == s { b[$3] = $4 }
		END { for (r in a) if (r in b) print a[r] / b[r] }' "$W/results" | sort -g |
		awk '{ v[NR] = $1 } END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.3f [%.3f-%.3f]", m, v[1], v[NR] }'
}
for load in $LOADS; do
	if [ "$load" = conn ]; then echo "one connection per message: $NCONN messages a round, $CONC clients"
	else echo "persistent sessions (smtp-source -d): $NSESSION messages a round, $CONC sessions"; fi
	printf '  %-10s %-22s %-24s %-11s %s\n' stack "msgs/s [min-max]" "CPU ms/msg [min-max]" fsyncs/msg "tinymx/stack msgs/s [min-max]"
	for s in "${RUN[@]}"; do
		rt=""
		[ "${RUN[0]}" = tinymx ] && [ "$s" != tinymx ] && rt=$(ratio "$load" "$s")
		printf '  %-10s %-22s %-24s %-11s %s\n' "$s" "$(summary "$load" "$s" 4 .0f)" "$(summary "$load" "$s" 5 .3f)" \
			"$(awk -v l="$load" -v s="$s" '$1 == l && $2 == s { print $3 }' "$W/fsyncs")" "$rt"
	done
done
echo "  every message counted where it landed; load at the end $(cut -d' ' -f1 /proc/loadavg)"
exit
}
