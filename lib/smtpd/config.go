package smtpd

import (
	"os"
	"time"

	"tinymx/lib/qmailctl"
)

// Getenv looks a variable up: os.LookupEnv in the program, a session's
// own environment in a server.
type Getenv = func(name string) (string, bool)

// maxDatabytes keeps databytes+1 from wrapping as stock's 32-bit counter
// does, without stock's silent modulo 2^32 for absurd values (§2.10.5).
const maxDatabytes = 1<<32 - 2

// LoadConfig reads the control files under dir (the qmail home; "" is the
// current directory) and the environment, in stock's start-up order. Any
// error but a missing file is stock's "421 unable to read controls".
func LoadConfig(dir string, getenv Getenv) (*Config, error) {
	cfg, err := loadControls(dir, controlOptions(getenv))
	if err != nil {
		return nil, err
	}
	cfg.applyEnv(getenv)
	return cfg, nil
}

// controlOpts are the variables that decide how the control files are
// read: a server keeps one reading of them per home and these.
type controlOpts struct {
	syn   qmailctl.Syntax
	multi bool // QMAIL_SMTPD_MULTIGREETING=1
}

func controlOptions(getenv Getenv) controlOpts {
	var o controlOpts
	o.syn = qmailctl.Stock
	if v, _ := getenv("QMAIL_CONTROL_SYNTAX"); v == "extended" {
		o.syn = qmailctl.Extended
	}
	if v, _ := getenv("QMAIL_SMTPD_MULTIGREETING"); v == "1" {
		o.multi = true
	}
	return o
}

// controlFiles are the files loadControls reads, in its order: a server
// checks them for changes before each session (see controlCache).
var controlFiles = [...]string{"me", "smtpgreeting", "localiphost", "timeoutsmtpd",
	"rcpthosts", "morercpthosts.cdb", "badmailfrom", "badmailfrom.cdb", "databytes", "maxhops"}

// controlPath is name under dir's control/ ("" is the current directory).
func controlPath(dir, name string) string {
	if dir == "" {
		return "control/" + name
	}
	return dir + "/control/" + name
}

// loadControls is the part of LoadConfig that reads files.
func loadControls(dir string, o controlOpts) (*Config, error) {
	syn := o.syn
	path := func(name string) string { return controlPath(dir, name) }
	cfg := &Config{Size: true, MaxLine: DefaultMaxLine, MaxHops: DefaultMaxHops}

	me, hasMe, err := qmailctl.ReadLine(path("me"), syn)
	if err != nil {
		return nil, err
	}
	greeting, ok, err := qmailctl.ReadLine(path("smtpgreeting"), syn)
	if err != nil {
		return nil, err
	}
	switch {
	case ok:
		cfg.Greeting = greeting
		if o.multi {
			lines, _, err := qmailctl.ReadLines(path("smtpgreeting"), syn)
			if err != nil {
				return nil, err
			}
			cfg.GreetingLines = lines
		}
	case hasMe:
		cfg.Greeting = me
	default:
		return nil, os.ErrNotExist
	}

	lip, ok, err := qmailctl.ReadLine(path("localiphost"), syn)
	if err != nil {
		return nil, err
	}
	switch {
	case ok:
		cfg.LocalIPHost, cfg.HasLocalIP = lip, true
	case hasMe:
		cfg.LocalIPHost, cfg.HasLocalIP = me, true
	}

	cfg.Timeout = DefaultTimeout
	if t, ok, err := qmailctl.ReadUint(path("timeoutsmtpd"), syn); err != nil {
		return nil, err
	} else if ok {
		// stock's int: the low 32 bits, signed; <= 0 becomes 1.
		secs := int32(uint32(t))
		if secs <= 0 {
			secs = 1
		}
		cfg.Timeout = time.Duration(secs) * time.Second
	}

	if cfg.Rcpthosts, err = qmailctl.LoadRcpthosts(dir); err != nil {
		return nil, err
	}
	if cfg.Badmailfrom, err = qmailctl.LoadBadmailfrom(dir); err != nil {
		return nil, err
	}

	if n, ok, err := qmailctl.ReadUint(path("databytes"), syn); err != nil {
		return nil, err
	} else if ok {
		cfg.Databytes = n
	}

	if n, ok, err := qmailctl.ReadUint(path("maxhops"), syn); err != nil {
		return nil, err
	} else if ok && n > 0 {
		if n > 1<<30 {
			n = 1 << 30
		}
		cfg.MaxHops = int(n)
	}
	return cfg, nil
}

// applyEnv is the part of LoadConfig that reads the environment, over
// what loadControls read.
func (cfg *Config) applyEnv(getenv Getenv) {
	var ok bool
	if v, ok := getenv("DATABYTES"); ok {
		cfg.Databytes, _ = qmailctl.ParseUint([]byte(v))
	}
	if cfg.Databytes > maxDatabytes {
		cfg.Databytes = maxDatabytes
	}
	if v, ok := getenv("QMAIL_SMTPD_MAXSESSION"); ok {
		n, _ := qmailctl.ParseUint([]byte(v))
		cfg.MaxSession = time.Duration(min(n, maxSessionSecs)) * time.Second
	}

	if v, _ := getenv("QMAIL_SMTPD_NOSIZE"); v == "1" {
		cfg.Size = false
	}
	if v, _ := getenv("QMAIL_SMTPD_STRICT_CRLF"); v == "1" {
		cfg.StrictCR = true
	}
	if v, ok := getenv("QMAIL_SMTPD_MAXLINE"); ok {
		if n, ok := qmailctl.ParseUint([]byte(v)); ok && n > 0 {
			if n > 1<<30 {
				n = 1 << 30
			}
			cfg.MaxLine = int(n)
		}
	}

	ri := &cfg.Received
	if ri.RemoteIP, ok = getenv("TCPREMOTEIP"); !ok {
		ri.RemoteIP = "unknown"
	}
	if ri.Local, ok = getenv("TCPLOCALHOST"); !ok {
		if ri.Local, ok = getenv("TCPLOCALIP"); !ok {
			ri.Local = "unknown"
		}
	}
	if ri.RemoteHost, ok = getenv("TCPREMOTEHOST"); !ok {
		ri.RemoteHost = "unknown"
	}
	ri.RemoteInfo, ri.HasInfo = getenv("TCPREMOTEINFO")
	cfg.RelayClient, cfg.HasRelay = getenv("RELAYCLIENT")
	cfg.testPanic = panicRequested(getenv)
}

// maxSessionSecs keeps QMAIL_SMTPD_MAXSESSION's duration from wrapping.
const maxSessionSecs = 1 << 32
