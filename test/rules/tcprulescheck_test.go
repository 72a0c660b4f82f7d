package rulestest

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tinymx/test/harness"
)

const lookupRules = `joe@127.0.0.1:allow,WHO="joe at ip"
joe@=x.y.example.com:deny,WHO="joe at host"
10.0.0.9:allow,IP="exact"
=x.y.example.com:allow,HOST="exact"
10.0.0.:allow,PREFIX="3"
10.0.:deny,PREFIX="2"
10.:allow,PREFIX="1"
=.y.example.com:allow,SUFFIX="y"
=.example.com:deny
=.com:allow,SUFFIX="com"
=:allow,ANYHOST="1"
:allow,DEFAULT="1",B="a=b"
127.0.0.1:deny,LOCAL="1"
@127.0.0.2:allow,EMPTYINFO="1"
`

// envs walk every step of the lookup order, removing one rule at a time
// by giving addresses and names that miss the earlier ones.
var envs = [][]string{
	{"TCPREMOTEIP=127.0.0.1", "TCPREMOTEINFO=joe"},
	{"TCPREMOTEIP=127.0.0.9", "TCPREMOTEINFO=joe", "TCPREMOTEHOST=x.y.example.com"},
	{"TCPREMOTEIP=10.0.0.9", "TCPREMOTEHOST=x.y.example.com"},
	{"TCPREMOTEIP=11.0.0.9", "TCPREMOTEHOST=x.y.example.com"},
	{"TCPREMOTEIP=10.0.0.8"},
	{"TCPREMOTEIP=10.0.1.8"},
	{"TCPREMOTEIP=10.1.1.8", "TCPREMOTEHOST=nohost"},
	{"TCPREMOTEIP=11.1.1.8", "TCPREMOTEHOST=a.y.example.com"},
	{"TCPREMOTEIP=11.1.1.8", "TCPREMOTEHOST=a.b.example.com"},
	{"TCPREMOTEIP=11.1.1.8", "TCPREMOTEHOST=a.b.c.com"},
	{"TCPREMOTEIP=11.1.1.8", "TCPREMOTEHOST=a.b.c.org"},
	{"TCPREMOTEIP=11.1.1.8", "TCPREMOTEHOST="},
	{"TCPREMOTEIP=11.1.1.8"},
	{"TCPREMOTEIP=127.0.0.1"},
	{"TCPREMOTEIP=127.0.0.2", "TCPREMOTEINFO="},
	{"TCPREMOTEIP="},
	{},
	{"TCPREMOTEIP=10.0.0.9", "TCPREMOTEINFO=joe", "TCPREMOTEHOST=x.y.example.com"},
}

func TestTcprulescheckMatchesCOnEveryLookupPathBothCdbs(t *testing.T) {
	tl := needTools(t)
	dir, res := compileBoth(t, tl, []byte(lookupRules))
	if res.Code != 0 {
		t.Fatalf("%+v", res)
	}
	seen := map[string]bool{}
	for _, env := range envs {
		for _, db := range []string{"c.cdb", "g.cdb"} {
			c := run(t, dir, nil, env, tl.check.C, db)
			g := run(t, dir, nil, env, tl.check.Go, db)
			if c != g {
				t.Errorf("%v %s:\nC:  %+v\nGo: %+v", env, db, c, g)
			}
			seen[strings.SplitN(c.Stdout, "\n", 2)[0]] = true
		}
	}
	// Every rule above was the answer once, and the default too.
	if len(seen) < 14 {
		t.Errorf("only %d distinct answers: %v", len(seen), seen)
	}
	// Without the empty rule nothing matches: "default:".
	dir, _ = compileBoth(t, tl, []byte("1.2.3.4:deny\n"))
	c := run(t, dir, nil, []string{"TCPREMOTEIP=5.6.7.8"}, tl.check.C, "g.cdb")
	g := run(t, dir, nil, []string{"TCPREMOTEIP=5.6.7.8"}, tl.check.Go, "c.cdb")
	if c != g || c.Stdout != "default:\nallow connection\n" {
		t.Errorf("default: C %+v Go %+v", c, g)
	}
}

func TestTcprulescheckReadsHandMadeDataLikeC(t *testing.T) {
	tl := needTools(t)
	tiny := harness.Peer(t, "cdb")
	dir := t.TempDir()
	recs := []record{
		{[]byte("1.1.1.1"), []byte("+FOO\x00+A=1\x00")},
		{[]byte("1.1.1.2"), []byte("Zjunk\x00+B=2\x00")},
		{[]byte("1.1.1.3"), []byte("+A=1\x00D\x00+C=3\x00")},
		{[]byte("1.1.1.4"), []byte("+A=1\x00+B=no final nul")},
		{[]byte("1.1.1.5"), []byte("")},
		{[]byte("1.1.1.6"), []byte("\x00\x00+E=\x00")},
		{[]byte("1.1.1.7"), []byte("Dx\x00")},
		{[]byte("1.1.1.8"), []byte("+A=1\x00+A=2\x00+X=y=z\x00")},
		{[]byte("1.1.1.9"), []byte("D")},
	}
	if r := run(t, dir, dumpText(recs), nil, tiny, "-c", "hand.cdb"); r.Code != 0 {
		t.Fatalf("cdb -c: %+v", r)
	}
	for _, r := range recs {
		env := []string{"TCPREMOTEIP=" + string(r.k)}
		c := run(t, dir, nil, env, tl.check.C, "hand.cdb")
		g := run(t, dir, nil, env, tl.check.Go, "hand.cdb")
		if c != g {
			t.Errorf("%s %q:\nC:  %+v\nGo: %+v", r.k, r.v, c, g)
		}
	}
}

func TestTcprulescheckErrorsMatchC(t *testing.T) {
	tl := needTools(t)
	dir, _ := compileBoth(t, tl, []byte("1.2.3.4:allow\n=x:deny\n:allow,X=\"1\"\n"))
	full := readFile(t, filepath.Join(dir, "c.cdb"))
	os.WriteFile(filepath.Join(dir, "empty.cdb"), nil, 0644)
	os.WriteFile(filepath.Join(dir, "short.cdb"), full[:100], 0644)
	os.WriteFile(filepath.Join(dir, "trunc.cdb"), full[:len(full)-20], 0644)
	env := []string{"TCPREMOTEIP=1.2.3.4"}
	for _, args := range [][]string{{}, {"missing.cdb"}, {"empty.cdb"}, {"short.cdb"}, {"trunc.cdb"}, {"c.cdb", "extra"}, {"/dev/null"}} {
		c := run(t, dir, nil, env, tl.check.C, args...)
		g := run(t, dir, nil, env, tl.check.Go, args...)
		if c != g {
			t.Errorf("%v:\nC:  %+v\nGo: %+v", args, c, g)
		}
	}
	want := map[string]string{
		"missing.cdb": "file does not exist", "empty.cdb": "invalid argument", "short.cdb": "protocol error",
	}
	for f, e := range want {
		g := run(t, dir, nil, env, tl.check.Go, f)
		if g.Code != 111 || g.Stderr != "tcprulescheck: fatal: unable to read "+f+": "+e+"\n" {
			t.Errorf("%s: %+v", f, g)
		}
	}
	// C crashes on a directory; we say what read(2) would.
	g := run(t, dir, nil, env, tl.check.Go, ".")
	if g.Code != 111 || g.Stderr != "tcprulescheck: fatal: unable to read .: is a directory\n" {
		t.Errorf("directory: %+v", g)
	}
}

// ipv6Lines and ipv6Records: what Debian's ucspi-tcp-ipv6 1:0.88-7 tcprules
// writes for these lines (observed with its binary, dumped by cdb -d).
const ipv6Lines = `::1:allow
2001:db8::1:allow,X="1"
[::1]:allow
2001:db8::/32:allow
::ffff:1.2.3.4-5:allow
a::allow
2001:db8:1:2:::deny,A=":"
x:y:deny
joe@2001:db8::5:allow
:::allow
`

const ipv6Records = "+3,0:::1->\n+11,5:2001:db8::1->+X=1\x00\n+5,0:[::1]->\n+13,0:2001:db8::/32->\n" +
	"+14,0:::ffff:1.2.3.4->\n+14,0:::ffff:1.2.3.5->\n+2,0:a:->\n+14,7:2001:db8:1:2::->D\x00+A=:\x00\n" +
	"+3,2:x:y->D\x00\n+15,0:joe@2001:db8::5->\n+2,0:::->\n\n"

func TestTcprulesAcceptsIPv6LinesAsUcspiTcpIPv6(t *testing.T) {
	tl := needTools(t)
	tiny := harness.Peer(t, "cdb")
	dir := t.TempDir()
	if r := run(t, dir, []byte(ipv6Lines), nil, tl.rules.Go, "6.cdb", "6.tmp"); r.Code != 0 {
		t.Fatalf("%+v", r)
	}
	if r := run(t, dir, nil, nil, tiny, "-d", "6.cdb"); r.Stdout != ipv6Records {
		t.Fatalf("records:\n%q\nwant\n%q", r.Stdout, ipv6Records)
	}
	// Lookups cut the address after each ':' as ucspi-tcp-ipv6 does.
	for _, c := range []struct{ env, want string }{
		{"TCPREMOTEIP=2001:db8::1", "rule 2001:db8::1:\nset environment variable X=1\nallow connection\n"},
		{"TCPREMOTEIP=2001:db8:1:2::7", "rule 2001:db8:1:2:::\ndeny connection\n"},
		{"TCPREMOTEIP=::2", "rule :::\nallow connection\n"},
		{"TCPREMOTEIP=::ffff:1.2.3.5", "rule ::ffff:1.2.3.5:\nallow connection\n"},
		{"TCPREMOTEIP=2001:db8::5 TCPREMOTEINFO=joe", "rule joe@2001:db8::5:\nallow connection\n"},
		{"TCPREMOTEIP=fe80::1", "default:\nallow connection\n"},
	} {
		g := run(t, dir, nil, strings.Fields(c.env), tl.check.Go, "6.cdb")
		if g.Stdout != c.want || g.Code != 0 {
			t.Errorf("%s: %+v", c.env, g)
		}
	}
	// Where ucspi-tcp-ipv6 loops forever (no colon followed by allow or
	// deny), we report the line as the stock tcprules does.
	for _, bad := range []string{"a:b:c", "1.2.3.4: allow", "a:b"} {
		r := run(t, dir, []byte(bad+"\n"), nil, tl.rules.Go, "6.cdb", "6.tmp")
		if r.Code != 100 || r.Stderr != "tcprules: fatal: unable to parse this line: "+bad+"\n" {
			t.Errorf("%q: %+v", bad, r)
		}
	}
	if !bytes.Contains(readFile(t, filepath.Join(dir, "6.cdb")), []byte("2001:db8::/32")) {
		t.Error("old cdb replaced after bad line")
	}
}

func TestTcprulescheckRandomClientsMatchC(t *testing.T) {
	tl := needTools(t)
	r := rand.New(rand.NewPCG(21, 22))
	dir, _ := compileBoth(t, tl, append([]byte(lookupRules), randomRules(r, 200)...))
	ips := []string{"1.2.3.4", "1.2.3.40", "10.2.9.9", "10.3.0.1", "5.6.7.9", "127.0.0.1", "10.0.0.9", "192.168.1.1", "1.2.3.", "", "0"}
	hosts := []string{"host", "x.example.com", "a.b.example.com", "h.x", ".", "", "x.y.example.com"}
	infos := []string{"joe", "", "bob"}
	for range 80 {
		env := []string{"TCPREMOTEIP=" + ips[r.IntN(len(ips))]}
		if r.IntN(2) == 0 {
			env = append(env, "TCPREMOTEHOST="+hosts[r.IntN(len(hosts))])
		}
		if r.IntN(3) == 0 {
			env = append(env, "TCPREMOTEINFO="+infos[r.IntN(len(infos))])
		}
		for _, db := range []string{"c.cdb", "g.cdb"} {
			c := run(t, dir, nil, env, tl.check.C, db)
			g := run(t, dir, nil, env, tl.check.Go, db)
			if c != g {
				t.Fatalf("%v %s:\nC:  %+v\nGo: %+v", env, db, c, g)
			}
		}
	}
}
