package rulestest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tinymx/test/harness"
)

// corpus covers every branch of the parser the stock tcprules accepts.
var corpus = map[string]string{
	"basic":       "1.2.3.4:allow\n1.2.3.5:deny\n",
	"comments":    "# comment:allow\n#\n\n\n  # x:allow\n\t# y:deny\n:allow\n",
	"blank":       "\n \n\t\n  \t \n",
	"nocolon":     "nocolon line\n1.2.3.4 allow\n1.2.3.4:allow\n",
	"ranges":      "1.2.3.37-53:allow\n10.2-3.:deny\n1-3:allow\n1.2.3.250-400:allow\n1.2.3.-2:deny\n1.2.3.5-3:allow\n5.6.7.8-9:allow\n1.2.3.0-255:allow\n-:allow\n1.2-.3:deny\n",
	"literal":     "=a-b.com:allow\na@1.2.3.4-5:deny\njoe@=h.x:allow\njoe@1.2.3.4:deny\n@1.2.3.4:allow\n",
	"hosts":       "=host.example.com:allow\n=.example.com:deny\n=:allow\n=.com:allow,X=\"1\"\n",
	"values":      "a:allow,A=\"x\",B=/y z/,C='q\"q',D=|a:b,c|,E=\"\",=\"noname\",F==x=\n",
	"oddquotes":   "a:allow,A=\x01v\x01,B=,x,,C=:y:,D=Dz D,E=\x00n\x00,F=\xffz\xff\nb:deny,Q=aba,R=-a b-\n",
	"trailing":    "a:allow \t \nb:deny\t\nc:allow,X=\"1\" \n",
	"crvalue":     "b:deny,X=\"1\r\"\n",
	"duplicates":  "a:allow\na:deny\na:allow,X=\"2\"\n1.2.3.4-5:allow\n1.2.3.5:deny\n",
	"nonewline":   "a:allow\n5.6.7.8-9:deny,X=\"last\"",
	"emptydef":    ":allow\n",
	"emptydeny":   ":deny\n",
	"empty":       "",
	"relay":       "127.:allow,RELAYCLIENT=\"\"\n:allow,RBLSMTPD=\"-go away\"\n",
	"binary":      "\x80\xfe:allow,\x01=\"\x02\"\n",
	"leadingsp":   "  1.2.3.4:allow\n",
	"commaeq":     "a:allow,A=\"b,c=d\",B=\"\"\n",
	"longvalue":   "a:allow,X=\"" + strings.Repeat("v", 70000) + "\"\n",
	"longaddress": strings.Repeat("k", 5000) + ":deny\n",
}

func TestTcprulesCorpusGivesByteIdenticalCdb(t *testing.T) {
	tl := needTools(t)
	for name, text := range corpus {
		t.Run(name, func(t *testing.T) {
			_, r := compileBoth(t, tl, []byte(text))
			if r.Code != 0 || r.Stderr != "" || r.Stdout != "" {
				t.Fatalf("tcprules: %+v", r)
			}
		})
	}
}

// randomRules writes lines from the shapes the spec (C1) lists.
func randomRules(r *rand.Rand, lines int) []byte {
	addrs := []string{"1.2.3.4", "10.", "10.2-3.", "1.2.3.37-53", "1.2.3.250-400", "5.6.7.8-9", "=host",
		"=.example.com", "=", "", "joe@1.2.3.4", "joe@=h.x", "127.0.0.1", "192.168.", "1.2.3.-4", "9-7"}
	quotes := "\"/'|"
	var b bytes.Buffer
	for range lines {
		switch r.IntN(12) {
		case 0:
			b.WriteString("# comment " + fmt.Sprint(r.IntN(100)) + ":allow")
		case 1:
			b.WriteString(strings.Repeat(" ", r.IntN(3)))
		case 2:
			b.WriteString("no colon here")
		default:
			b.WriteString(addrs[r.IntN(len(addrs))])
			b.WriteByte(':')
			if r.IntN(2) == 0 {
				b.WriteString("allow")
			} else {
				b.WriteString("deny")
			}
			for range r.IntN(4) {
				q := quotes[r.IntN(len(quotes))]
				fmt.Fprintf(&b, ",V%d=%c", r.IntN(5), q)
				for range r.IntN(6) {
					c := "ab ,:=\"'x"[r.IntN(9)]
					if c != q {
						b.WriteByte(c)
					}
				}
				b.WriteByte(q)
			}
		}
		b.WriteString([]string{"", " ", "\t", " \t "}[r.IntN(4)])
		b.WriteByte('\n')
	}
	out := b.Bytes()
	if r.IntN(2) == 0 && len(out) > 0 {
		out = out[:len(out)-1] // final line without '\n'
	}
	return out
}

func TestTcprulesRandomRuleFilesGiveByteIdenticalCdb(t *testing.T) {
	tl := needTools(t)
	r := rand.New(rand.NewPCG(3, 1))
	for i := range 60 {
		text := randomRules(r, 1+r.IntN(80))
		_, res := compileBoth(t, tl, text)
		if res.Code != 0 {
			t.Fatalf("file %d rejected: %+v\n%s", i, res, text)
		}
	}
}

func TestTcprulesTwelveThousandRulesGiveByteIdenticalCdb(t *testing.T) {
	tl := needTools(t)
	var b bytes.Buffer
	for i := range 12000 {
		fmt.Fprintf(&b, "10.%d.%d.%d:allow,N=\"%d\"\n", i/65536, i/256%256, i%256, i)
	}
	for i := range 40 {
		fmt.Fprintf(&b, "172.16.%d.0-255:deny\n=h%d.example.com:allow\n", i, i)
	}
	b.WriteString(":allow\n")
	dir, res := compileBoth(t, tl, b.Bytes())
	if res.Code != 0 {
		t.Fatalf("%+v", res)
	}
	// C's tcprulescheck reads our big cdb as its own.
	for _, ip := range []string{"10.0.46.223", "172.16.39.77", "8.8.8.8"} {
		env := []string{"TCPREMOTEIP=" + ip}
		c := run(t, dir, nil, env, tl.check.C, "g.cdb")
		g := run(t, dir, nil, env, tl.check.Go, "c.cdb")
		if c != g || c.Code != 0 {
			t.Fatalf("%s: C %+v, Go %+v", ip, c, g)
		}
	}
}

var badLines = []string{
	"1.2.3.4:allo", "1.2.3.4: allow", "1.2.3.4:denyx", "1.2.3.4:allow,A", "1.2.3.4:allow,A=",
	"1.2.3.4:allow,A=\"x", "1.2.3.4:allow,", "1.2.3.x-5:allow", "1.2.3.4:", "1.2.3.4:Allow",
	":allow ,", "a:allow,A=\"1\"x", "a:deny,A=\"1\",", "1.2.3.4-x:allow", "1.2.3.4-5x.6:deny",
	"a:allow,=", "a:allowallow", "a:\tallow", "1.2.3.4:allow,A=\"\" ,B=\"\"", "a\x00b:x",
	"a:allow\r", "1.2.3.4:allow,\"=x",
}

func TestTcprulesQuotesBadLineAndExits100KeepingOldCdb(t *testing.T) {
	tl := needTools(t)
	for i, bad := range badLines {
		dir := t.TempDir()
		old := []byte("old cdb bytes")
		for _, n := range []string{"c.cdb", "g.cdb"} {
			os.WriteFile(filepath.Join(dir, n), old, 0644)
		}
		text := []byte("1.2.3.4:allow\n# fine\n" + bad + " \n5.6.7.8:deny\n")
		rc := run(t, dir, text, nil, tl.rules.C, "c.cdb", "c.tmp")
		rg := run(t, dir, text, nil, tl.rules.Go, "g.cdb", "g.tmp")
		if rc != rg || rc.Code != 100 || !strings.HasPrefix(rc.Stderr, "tcprules: fatal: unable to parse this line: ") {
			t.Errorf("bad line %d %q:\nC:  %+v\nGo: %+v", i, bad, rc, rg)
		}
		for _, n := range []string{"c.cdb", "g.cdb"} {
			if !bytes.Equal(readFile(t, filepath.Join(dir, n)), old) {
				t.Errorf("bad line %q: %s replaced", bad, n)
			}
		}
	}
}

func TestTcprulesRandomBadLinesMatchC(t *testing.T) {
	tl := needTools(t)
	r := rand.New(rand.NewPCG(5, 9))
	junk := "x ,=\"-.@#\t"
	for range 40 {
		good := randomRules(r, 1)
		good = bytes.TrimRight(good, " \t\n")
		colon := bytes.IndexByte(good, ':')
		if colon < 0 {
			continue
		}
		// Break the instructions; keep a single colon so the line is no IPv6 rule.
		mut := append([]byte{}, good[:colon+1]...)
		rest := good[colon+1:]
		pos := r.IntN(len(rest) + 1)
		mut = append(mut, rest[:pos]...)
		mut = append(mut, junk[r.IntN(len(junk))])
		mut = append(mut, rest[pos:]...)
		compileBoth(t, tl, append(mut, '\n'))
	}
}

func TestTcprulesHonoursUmask(t *testing.T) {
	tl := needTools(t)
	dir := t.TempDir()
	for _, c := range []struct{ prog, out string }{{tl.rules.C, "c.cdb"}, {tl.rules.Go, "g.cdb"}} {
		r := run(t, dir, []byte("a:allow\n"), nil, "/bin/sh", "-c", "umask 077; exec \"$0\" \"$1\" x.tmp", c.prog, c.out)
		if r.Code != 0 {
			t.Fatalf("%+v", r)
		}
		st, err := os.Stat(filepath.Join(dir, c.out))
		if err != nil || st.Mode().Perm() != 0600 {
			t.Fatalf("%s: mode %v %v", c.out, st.Mode(), err)
		}
	}
	r := run(t, dir, []byte("a:allow\n"), nil, tl.rules.Go, "h.cdb", "h.tmp")
	if st, _ := os.Stat(filepath.Join(dir, "h.cdb")); r.Code != 0 || st.Mode().Perm() != 0644&^umask() {
		t.Fatalf("default mode %v", st.Mode())
	}
}

func umask() os.FileMode {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Umask:\t"); ok {
			var m uint32
			fmt.Sscanf(v, "%o", &m)
			return os.FileMode(m)
		}
	}
	return 022
}

func TestTcprulesUsageAndSystemErrorsMatchC(t *testing.T) {
	tl := needTools(t)
	dir := t.TempDir()
	// same runs both with args on the same input and compares all.
	same := func(what string, args ...string) harness.Result {
		t.Helper()
		c, g := tl.rules.Run(t, harness.Job{Args: args, Dir: dir, Stdin: "a:allow\n"})
		harness.Same(t, what, c, g, nil)
		return c
	}
	if r := same("no args"); r.Code != 100 {
		t.Errorf("no args: %+v", r)
	}
	same("one arg", "x.cdb")
	same("extra arg", "x.cdb", "x.tmp", "extra")
	same("tmp in missing dir", "x.cdb", "nodir/x.tmp")
	same("cdb in missing dir", "nodir/x.cdb", "y.tmp")
	if _, err := os.Stat(filepath.Join(dir, "y.tmp")); err != nil {
		t.Errorf("tmp not left in place after failed rename: %v", err)
	}
	same("tmp is a directory", "x.cdb", ".")
	same("empty tmp name", "x.cdb", "")
	same("empty cdb name", "", "e.tmp")
	os.Mkdir(filepath.Join(dir, "adir"), 0755)
	same("cdb is a directory", "adir", "d.tmp")
	same("tmp is the cdb", "s.cdb", "s.cdb")
	same("write fails", "x.cdb", "/dev/full")

	// Started with fd 0 closed: C fails to read, ours must not take the
	// /dev/null the Go runtime puts there for an empty rule set.
	rc, rg := tl.rules.Run(t, harness.Job{Wrap: []string{"/bin/sh", "-c", `exec "$0" x.cdb x.tmp <&-`}, Dir: dir})
	if harness.Same(t, "stdin closed", rc, rg, nil) && rc.Code != 111 {
		t.Errorf("stdin closed: %v", rc)
	}

	// Input that cannot be read: stdin is a directory.
	for _, p := range tl.rules.Both() {
		d, err := os.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(p, "x.cdb", "x.tmp")
		cmd.Dir, cmd.Stdin = dir, d
		r := harness.Run(t, timeout, cmd)
		d.Close()
		if r.Code != 111 || r.Stderr != "tcprules: fatal: unable to read input: is a directory\n" {
			t.Errorf("%s with a directory on stdin: %d %q", p, r.Code, r.Stderr)
		}
	}
}

func TestTcprulesUnwritableTmpDirMatchesC(t *testing.T) {
	tl := needTools(t)
	harness.NeedRoot(t)
	sg := harness.Peer(t, "setuidgid")
	dir := t.TempDir()
	os.Chmod(dir, 0755)
	// The tmp dir is root's and 0755: nobody cannot create rules.tmp in it.
	os.Chmod(filepath.Dir(dir), 0755)
	rc := run(t, "/", []byte("a:allow\n"), nil, sg, "nobody", tl.rules.C, dir+"/x.cdb", dir+"/x.tmp")
	rg := run(t, "/", []byte("a:allow\n"), nil, sg, "nobody", tl.rules.Go, dir+"/x.cdb", dir+"/x.tmp")
	if rc != rg || rc.Code != 111 || !strings.Contains(rc.Stderr, "unable to create") {
		t.Fatalf("C %+v\nGo %+v", rc, rg)
	}
}

// ipv6Split reports a line our tcprules splits as ucspi-tcp-ipv6 does, not as
// the stock one: the text after the first colon does not start with allow
// or deny, and the text after a later colon does.
func ipv6Split(line []byte) bool {
	verb := func(b []byte) bool { return bytes.HasPrefix(b, []byte("allow")) || bytes.HasPrefix(b, []byte("deny")) }
	c := bytes.IndexByte(line, ':')
	if c < 0 || verb(line[c+1:]) {
		return false
	}
	for i := c + 1; i < len(line); i++ {
		if line[i] == ':' && verb(line[i+1:]) {
			return true
		}
	}
	return false
}

func TestTcprulesRandomBytesLinesMatchC(t *testing.T) {
	tl := needTools(t)
	r := rand.New(rand.NewPCG(11, 12))
	alphabet := []byte("0123456789.-:=@,\"'/ \t#=aldenowxyz\x00\r\xff")
	noise := func(n int) []byte {
		b := make([]byte, r.IntN(n+1))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return b
	}
	tested := 0
	for tested < 120 {
		var line []byte
		switch r.IntN(3) {
		case 0:
			line = noise(30)
		case 1:
			line = append(noise(12), ':')
			line = append(line, []string{"allow", "deny"}[r.IntN(2)]...)
			line = append(line, noise(20)...)
		default:
			line = append(noise(12), ':')
			line = append(line, []string{"allow", "deny"}[r.IntN(2)]...)
			for range r.IntN(3) {
				q := alphabet[r.IntN(len(alphabet))]
				line = append(line, ',')
				line = append(line, noise(4)...)
				line = append(line, '=', q)
				line = append(line, bytes.ReplaceAll(noise(6), []byte{q}, nil)...)
				line = append(line, q)
			}
		}
		line = bytes.ReplaceAll(line, []byte("\n"), nil)
		if ipv6Split(bytes.TrimRight(line, " \t")) {
			continue
		}
		tested++
		compileBoth(t, tl, append(append([]byte("1.2.3.4:allow\n"), line...), "\n5.6.7.8:deny\n"...))
	}
}
