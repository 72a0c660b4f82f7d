// Command tcpserver accepts TCP connections and runs a program for each,
// as ucspi-tcp 0.88's tcpserver does.
package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"tinymx/lib/dns"
	"tinymx/lib/envdir"
	"tinymx/lib/getopt"
	"tinymx/lib/strerr"
	"tinymx/lib/ucspi"
)

const usage = "tcpserver [ -1UXpPhHrRoOdDqQv ] [ -c limit ] [ -x rules.cdb ] [ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] [ -t timeout ] host port program"

func main() {
	if code, ok := ucspi.HelperExit(); ok {
		os.Exit(code)
	}
	// an idle server should stay small: collect garbage early, and keep
	// no allocation profile (its hash table alone is 1.4 MB of address space)
	debug.SetGCPercent(20)
	runtime.MemProfileRate = 0
	// One processor is plenty for a loop that accepts, looks up and
	// forks, and it keeps the idle footprint down; $GOMAXPROCS still wins.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	strerr.Prog = "tcpserver"

	s := &ucspi.Server{
		Prog:         "tcpserver",
		Limit:        40,
		RemoteHost:   true,
		RemoteInfo:   true,
		IdentTimeout: 26 * time.Second,
		Verbosity:    ucspi.Errors,
	}
	var uid, gid uint64
	backlog := uint64(20)
	print1 := false
	opts, args, err := getopt.Parse(os.Args[1:], "dDvqQhHrR1UXx:t:u:g:l:b:B:c:pPoO")
	if err != nil {
		strerr.Print(filepath.Base(os.Args[0]), ": ", err.Error(), "\n")
		strerr.Usage(usage)
	}
	for _, o := range opts {
		switch o.Letter {
		case 'b':
			backlog = getopt.Ulong(o.Arg)
		case 'c':
			s.Limit = getopt.Ulong(o.Arg)
		case 'X':
			s.AllowNoRules = true
		case 'x':
			s.Rules = o.Arg
		case 'B':
			s.Banner = o.Arg
		case 'd':
			s.NoDelay = false
		case 'D':
			s.NoDelay = true
		case 'v':
			s.Verbosity = ucspi.Verbose
		case 'q':
			s.Verbosity = ucspi.Quiet
		case 'Q':
			s.Verbosity = ucspi.Errors
		case 'P':
			s.Paranoid = false
		case 'p':
			s.Paranoid = true
		case 'l':
			s.LocalName, s.HasLocalName = o.Arg, true
		case 'h':
			s.RemoteHost = true
		case 'H':
			s.RemoteHost = false
		case 'r':
			s.RemoteInfo = true
		case 'R':
			s.RemoteInfo = false
		case 't':
			s.IdentTimeout = time.Duration(getopt.Ulong(o.Arg)) * time.Second
		case 'U':
			if v, ok := os.LookupEnv("UID"); ok {
				uid = getopt.Ulong(v)
			}
			if v, ok := os.LookupEnv("GID"); ok {
				gid = getopt.Ulong(v)
			}
		case 'u':
			uid = getopt.Ulong(o.Arg)
		case 'g':
			gid = getopt.Ulong(o.Arg)
		case '1':
			print1 = true
		case 'o':
			s.KeepIPOptions = true
		case 'O':
			s.KeepIPOptions = false
		}
	}
	fatal := func(code int, err error, msg ...string) {
		if s.Verbosity > ucspi.Quiet {
			strerr.Fatal(code, err, msg...)
		}
		os.Exit(code)
	}
	if len(args) < 1 {
		usageExit(s)
	}
	host := args[0]
	if host == "" || host == "0" {
		host = "0.0.0.0"
	}
	if len(args) < 2 {
		usageExit(s)
	}
	port, err := ucspi.ParsePort(args[1])
	if err != nil {
		fatal(111, nil, "unable to figure out port number for ", args[1])
	}
	if len(args) < 3 {
		usageExit(s)
	}
	s.Argv = args[2:]
	s.Self = "/proc/self/exe"

	if marks, ok := os.LookupEnv(ucspi.FinishEnv); ok {
		// a server that got SIGTERM handed its connections in progress over
		environment(s)
		s.Finish(marks)
		os.Exit(0)
	}

	s.HandleSignals()
	addr, err := address(host)
	if err != nil {
		fatal(111, err, "temporarily unable to figure out IP address for ", host)
	}
	if !addr.IsValid() {
		fatal(111, nil, "no IP address for ", host)
	}
	fd, local, err := ucspi.Listen(addr, port, int(backlog))
	if err != nil {
		fatal(111, err, err.Error())
	}
	if gid != 0 {
		if err := syscall.Setgroups([]int{int(gid)}); err != nil {
			fatal(111, err, "unable to set gid")
		}
		if err := syscall.Setgid(int(gid)); err != nil {
			fatal(111, err, "unable to set gid")
		}
	}
	if uid != 0 {
		if err := syscall.Setuid(int(uid)); err != nil {
			fatal(111, err, "unable to set uid")
		}
	}
	if print1 {
		os.Stdout.WriteString(ucspi.FormatPort(local.Port()) + "\n")
	}
	syscall.Close(0)
	syscall.Close(1)

	environment(s)
	ucspi.TrimResident()
	s.Serve(fd, local)
}

// environment sets the program's environment: ours, less MAXCONNIP and
// the hand-over marker. MAXCONNIP and DIEMSG in our own environment are
// the defaults for the per-IP limit; MAXCONNIP is ours alone and never
// reaches the program.
func environment(s *ucspi.Server) {
	env := os.Environ()
	var e envdir.Edits
	if _, ok := envdir.Getenv(env, ucspi.FinishEnv); ok {
		e.Unset(ucspi.FinishEnv)
	}
	if v, ok := envdir.Getenv(env, "MAXCONNIP"); ok {
		s.MaxConnIP = getopt.Ulong(v)
		e.Unset("MAXCONNIP")
	}
	env = e.Apply(env)
	s.DieMsg, s.HasDieMsg = envdir.Getenv(env, "DIEMSG")
	s.Env = env
}

func usageExit(s *ucspi.Server) {
	if s.Verbosity > ucspi.Quiet {
		strerr.Usage(usage)
	}
	os.Exit(strerr.ExitPerm)
}

// address resolves the host argument: an IPv6 literal (a tinymx
// extension) serves IPv6; anything else goes through djb's IPv4 lookup,
// first address. No address is the zero Addr.
func address(host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() && a.Zone() == "" {
		return a, nil
	}
	ips, err := dns.IP4(host)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(ips) == 0 {
		return netip.Addr{}, nil
	}
	return netip.AddrFrom4(ips[0]), nil
}
