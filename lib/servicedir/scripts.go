// Package servicedir creates a qmail-smtpd service directory as qmail-conf's
// qmail-smtpd-conf does: run, log/run, env/, tcp, Makefile and
// add-relayclient, with tinymx's programs named by absolute path.
package servicedir

import "strings"

// Config says what to create.
type Config struct {
	Acct    string // account tcpserver and qmail-smtpd run as
	LogAcct string // account multilog runs as
	Dir     string // the service directory, absolute; must not exist
	IP      string // address tcpserver binds, "0" for every local one
	BinDir  string // where the tinymx programs are installed
	// Demo: both accounts are the invoking user, so the scripts skip
	// envuidgid, tcpserver -U and setuidgid, which need root.
	Demo bool

	LocalName    string // first line of control/me
	Port         string // from control/smtpdport, else 25
	Concurrency  string // from control/maxclients, else empty (tcpserver's 40)
	QmailHome    string // written to env/QMAILHOME when set
	MaildirQueue string // written to env/MAILDIRQUEUE when set; the Maildir is created
	DataLimit    string // env/DATALIMIT
}

// safe reports whether s needs no quoting in a shell word.
func safe(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("/._-+,:@%=", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Quote makes s one shell word: as it is when it is plain, else in single
// quotes with each ' written as '\”.
func Quote(s string) string {
	if safe(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// quoteInner quotes s for the shell that runs the sh -c '...' text: the
// word is quoted for that inner shell, then every ' in it is written so
// that the outer single-quoted string passes it through.
func quoteInner(s string) string {
	return strings.ReplaceAll(Quote(s), "'", `'\''`)
}

// prog is the absolute path of one of our programs.
func (c *Config) prog(name string) string {
	return strings.TrimSuffix(c.BinDir, "/") + "/" + name
}

// RunScript is D/run: tcpserver running qmail-smtpd under envdir ./env.
func (c *Config) RunScript() string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\nexec 2>&1 \\\n")
	b.WriteString(Quote(c.prog("envdir")) + " ./env \\\n")
	b.WriteString("sh -c '\n")
	b.WriteString(`    case "$REMOTENAME" in h) H=;; p) H=p;; *) H=H;; esac` + "\n")
	b.WriteString(`    case "$REMOTEINFO" in r) R=;; [0-9]*) R="t$REMOTEINFO";; *) R=R;; esac` + "\n")
	b.WriteString("    exec \\\n")
	flags := `-vD"$H$R"`
	if !c.Demo {
		b.WriteString("    " + quoteInner(c.prog("envuidgid")) + " " + quoteInner(c.Acct) + " \\\n")
		flags = `-vDU"$H$R"`
	}
	b.WriteString("    " + quoteInner(c.prog("softlimit")) + ` ${DATALIMIT+"-d$DATALIMIT"} \` + "\n")
	b.WriteString("    " + quoteInner(c.prog("tcpserver")) + " \\\n")
	b.WriteString("\t" + flags + " \\\n")
	b.WriteString("\t" + `${LOCALNAME+"-l$LOCALNAME"} \` + "\n")
	b.WriteString("\t" + `${BACKLOG+"-b$BACKLOG"} \` + "\n")
	b.WriteString("\t" + `${CONCURRENCY+"-c$CONCURRENCY"} \` + "\n")
	b.WriteString("\t-xtcp.cdb \\\n")
	b.WriteString("\t" + `-- "${IP-0}" "${PORT-25}" \` + "\n")
	b.WriteString("    " + quoteInner(c.prog("qmail-smtpd")) + "\n")
	b.WriteString("'\n")
	return b.String()
}

// LogRunScript is D/log/run: multilog t ./main as the log account.
func (c *Config) LogRunScript() string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\nexec \\\n")
	if !c.Demo {
		b.WriteString(Quote(c.prog("setuidgid")) + " " + Quote(c.LogAcct) + " \\\n")
	}
	b.WriteString(Quote(c.prog("envdir")) + " ./env \\\n")
	b.WriteString("sh -c '\n")
	b.WriteString("    exec \\\n")
	b.WriteString("    " + quoteInner(c.prog("multilog")) + " \\\n")
	b.WriteString("\tt \\\n")
	b.WriteString("\t" + `${MAXFILESIZE+"s$MAXFILESIZE"} \` + "\n")
	b.WriteString("\t" + `${MAXLOGFILES+"n$MAXLOGFILES"} \` + "\n")
	b.WriteString("\t" + `${PROCESSOR+"!$PROCESSOR"} \` + "\n")
	b.WriteString("\t./main\n")
	b.WriteString("'\n")
	return b.String()
}

// Makefile is D/Makefile: tcp compiled into tcp.cdb.
func (c *Config) Makefile() string {
	// make hands the recipe to sh, after expanding its own $ signs
	tcprules := strings.ReplaceAll(Quote(c.prog("tcprules")), "$", "$$")
	return "SHELL=/bin/sh\n\ntcp.cdb: tcp\n\t" + tcprules + " tcp.cdb tcp.tmp < tcp\n"
}

// AddRelayclient is D/add-relayclient: it appends ADDR:allow,RELAYCLIENT=""
// for each argument, after checking that every argument is an IPv4 address
// or prefix or an IPv6 one, so that garbage never reaches tcp. It works on
// tcp.new and renames it, so tcp is never half written.
func (c *Config) AddRelayclient() string {
	return addRelayclient
}

const addRelayclient = `#!/bin/sh
# add-relayclient ADDR...: let these clients relay (run make afterwards).
usage() {
  echo "add-relayclient: usage: add-relayclient address ..." >&2
  echo "add-relayclient: an address is an IPv4 address (127.0.0.1) or prefix (192.168.1.)," >&2
  echo "add-relayclient: or an IPv6 address or prefix (::1, 2001:db8:)" >&2
  exit 100
}
octet() {
  case "$1" in
    ''|*[!0-9]*) return 1 ;;
  esac
  test ${#1} -le 3 && test "$1" -le 255
}
ipv4() {
  case "$1" in
    ''|.*|*..*|*[!0-9.]*) return 1 ;;
  esac
  rest="$1" n=0
  while test -n "$rest"; do
    o="${rest%%.*}"
    octet "$o" || return 1
    n=$((n + 1))
    case "$rest" in
      *.*) rest="${rest#*.}"; test -n "$rest" || break ;;
      *) rest= ; test $n = 4 || return 1 ;;
    esac
  done
  test $n -ge 1 && test $n -le 4 || return 1
  case "$1" in
    *.*.*.*.) return 1 ;;
  esac
}
ipv6() {
  case "$1" in
    *:*) ;;
    *) return 1 ;;
  esac
  case "$1" in
    *[!0-9a-fA-F:]*|*:::*|*::*::*) return 1 ;;
  esac
  test ${#1} -le 39 || return 1
  rest="$1"
  while test -n "$rest"; do
    g="${rest%%:*}"
    test ${#g} -le 4 || return 1
    case "$rest" in
      *:*) rest="${rest#*:}" ;;
      *) rest= ;;
    esac
  done
}
test $# = 0 && exit
for address in "$@"; do
  ipv4 "$address" || ipv6 "$address" || {
    echo "add-relayclient: fatal: not an IP address or prefix: $address" >&2
    usage
  }
done
cp tcp tcp.new || exit 111
chmod 644 tcp.new || exit 111
for address in "$@"
  do
    echo "$address"':allow,RELAYCLIENT=""'
  done >> tcp.new || exit 111
mv tcp.new tcp || exit 111
`
