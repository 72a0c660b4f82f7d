#!/bin/sh
# make run: a demo SMTP service under ./run, supervised by our svscan,
# serving 127.0.0.1:2525 into a Maildir, as the invoking user (demo mode).
# Ctrl-C stops the whole tree cleanly.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/bin
run=${RUNDIR:-$top/run}
port=${PORT:-2525}
svc=$run/service/smtpd
me=$(id -un)

die() { echo "make run: fatal: $*" >&2; exit 111; }

if ! [ -d "$svc" ]; then
	mkdir -p "$run/qmail/control" "$run/service" || die "unable to create $run"
	echo localhost > "$run/qmail/control/me"
	printf 'localhost\nexample.org\n' > "$run/qmail/control/rcpthosts"
	echo "$port" > "$run/qmail/control/smtpdport"
	QMAILHOME=$run/qmail "$bin/qmail-smtpd-conf" "$me" "$me" "$svc" 127.0.0.1 || exit $?
	(cd "$svc" && ./add-relayclient 127.0.0.1 && make -s) || die "unable to set up $svc/tcp"
fi
port=$(head -n 1 "$svc/env/PORT")  # the one chosen when ./run was made
if "$bin/svok" "$svc" 2>/dev/null; then
	die "the demo service is already running (supervise is up in $svc)"
fi

# svscan gets a process group of its own, so the terminal's Ctrl-C reaches
# only this script, which then takes the tree down in order.
"$bin/pgrphack" "$bin/svscan" "$run/service" &
scan=$!

stop_tree() {
	for i in 1 2 3 4 5; do
		"$bin/svc" -dx "$svc" "$svc/log" 2>/dev/null
		n=0
		while [ $n -lt 100 ] && { "$bin/svok" "$svc" 2>/dev/null || "$bin/svok" "$svc/log" 2>/dev/null; }; do
			sleep 0.05; n=$((n + 1))
		done
		kill "$scan" 2>/dev/null
		# svscan may have restarted a supervise just before it died
		"$bin/svok" "$svc" 2>/dev/null || "$bin/svok" "$svc/log" 2>/dev/null || break
	done
	wait "$scan" 2>/dev/null
}
stop() {
	trap '' INT TERM
	echo
	echo "make run: stopping: svc -dx the service and its logger, then svscan"
	stop_tree
	echo "make run: stopped; the log is in $svc/log/main/current"
	exit 0
}
trap stop INT TERM

# ready when tcpserver accepts connections (our tcpclient probes the port)
n=0
until "$bin/svok" "$svc/log" 2>/dev/null &&
	"$bin/tcpclient" -RHl0 127.0.0.1 "$port" true 2>/dev/null; do
	n=$((n + 1))
	[ $n -gt 200 ] && { stop_tree; die "the service did not start within 10 seconds: see $svc/log/main/current"; }
	sleep 0.05
done

cat <<MSG

tinymx demo: SMTP on 127.0.0.1:$port, supervised by svscan $run/service

  send a test mail:  swaks --server 127.0.0.1:$port --to you@example.org --from me@localhost
                     (127.0.0.1 may relay: RELAYCLIENT is set for it in $svc/tcp)
  it lands in:       $svc/maildir/new/
  status:            $bin/svstat $svc $svc/log
  the log:           tail -f $svc/log/main/current | $bin/tai64nlocal
  settings:          $svc/env/ (then: $bin/svc -t $svc)
  stop:              Ctrl-C

MSG
while :; do
	wait "$scan"
	"$bin/svok" "$svc" 2>/dev/null || break
done
echo "make run: svscan exited" >&2
exit 111
