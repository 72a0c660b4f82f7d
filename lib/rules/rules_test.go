package rules

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tinymx/lib/cdb"
)

type kv struct{ k, v string }

// compile runs Compile into a temp cdb and returns its records in order.
func compile(t testing.TB, text string) (*cdb.CDB, []kv, error) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "r.cdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := cdb.NewWriter(f)
	if err := Compile(strings.NewReader(text), w); err != nil {
		return nil, nil, err
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	db := cdb.FromBytes(b)
	var recs []kv
	db.ForEach(func(k, v []byte) error { recs = append(recs, kv{string(k), string(v)}); return nil })
	return db, recs, nil
}

func TestCompileRecordsInInputOrder(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"1.2.3.4:allow\n", "[{1.2.3.4 }]"},
		{"# c:allow\n\n  \nnocolon\n:deny\n", "[{ D\x00}]"},
		{"  # x:allow", "[{  # x }]"},
		{"a:deny,X=\"y\"\n", "[{a D\x00+X=y\x00}]"},
		{"a:allow,A=/x y/,B=\"\",=|v|,C=':,\"'\t \n", "[{a +A=x y\x00+B=\x00+=v\x00+C=:,\"\x00}]"},
		{"1.2.3.37-40:allow", "[{1.2.3.37 } {1.2.3.38 } {1.2.3.39 } {1.2.3.40 }]"},
		{"10.2-3.:allow", "[{10.2. } {10.3. }]"},
		{"1-3:allow", "[{1 } {2 } {3 }]"},
		{"1.2.3.253-300:allow", "[{1.2.3.253 } {1.2.3.254 } {1.2.3.255 }]"},
		{"1.2.3.-2:allow", "[{1.2.3.0 } {1.2.3.1 } {1.2.3.2 }]"},
		{"1.2.3.5-3:allow", "[]"},
		{"=a-b.com:allow\na@1.2.3.4-5:deny", "[{=a-b.com } {a@1.2.3.4-5 D\x00}]"},
		{"a:allow\na:deny\n", "[{a } {a D\x00}]"},
		{":deny\n10.20.30.4-5:allow\n", "[{ D\x00} {10.20.30.4 } {10.20.30.5 }]"},
		{"2001:db8::1:allow,X=\"1\"\n", "[{2001:db8::1 +X=1\x00}]"},
		{"::1:deny\n2001:db8::allow\n", "[{::1 D\x00} {2001:db8: }]"},
		{"::ffff:1.2.3.4-5:allow", "[{::ffff:1.2.3.4 } {::ffff:1.2.3.5 }]"},
	}
	for _, c := range cases {
		_, recs, err := compile(t, c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := fmt.Sprint(recs); got != c.want {
			t.Errorf("%q: got %q want %q", c.in, got, c.want)
		}
	}
}

func TestCompileQuotesBadLineWithoutTrailingBlanks(t *testing.T) {
	for _, line := range []string{
		"1.2.3.4:allo", "1.2.3.4: allow", "1.2.3.4:denyx", "1.2.3.4:allow,A", "1.2.3.4:allow,A=",
		"1.2.3.4:allow,A=\"x", "1.2.3.4:allow,", "1.2.3.x-5:allow", "a:allow ,", "a:allowx:deny",
		"x:deny:allow", "2001:db8::1-3:deny", "a:b:c",
	} {
		_, _, err := compile(t, "ok:allow\n"+line+" \t\n")
		var le *LineError
		if !errors.As(err, &le) || le.Line != line {
			t.Errorf("%q: %v", line, err)
		}
	}
	_, _, err := compile(t, "a\x00b:x\n")
	var le *LineError
	if !errors.As(err, &le) || le.Line != "a" {
		t.Errorf("NUL line: %#v", err)
	}
}

func lookupKey(t *testing.T, db *cdb.CDB, ip string, host, info *string) string {
	t.Helper()
	key, _, found, err := Lookup(db, ip, host, info)
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		return "(default)"
	}
	return key
}

func sp(s string) *string { return &s }

func TestLookupTriesKeysInRulesOrder(t *testing.T) {
	order := []struct {
		key        string
		ip         string
		host, info *string
	}{
		{"joe@1.2.3.4", "1.2.3.4", sp("x.y.example.com"), sp("joe")},
		{"joe@=x.y.example.com", "1.2.3.4", sp("x.y.example.com"), sp("joe")},
		{"1.2.3.4", "1.2.3.4", sp("x.y.example.com"), sp("joe")},
		{"=x.y.example.com", "1.2.3.4", sp("x.y.example.com"), sp("joe")},
		{"1.2.3.", "1.2.3.4", sp("x.y.example.com"), sp("joe")},
		{"1.2.", "1.2.3.4", sp("x.y.example.com"), sp("joe")},
		{"1.", "1.2.3.4", sp("x.y.example.com"), sp("joe")},
		{"=.y.example.com", "1.2.3.4", sp("x.y.example.com"), sp("joe")},
		{"=.example.com", "1.2.3.4", sp("x.y.example.com"), sp("joe")},
		{"=.com", "1.2.3.4", sp("x.y.example.com"), sp("joe")},
		{"=", "1.2.3.4", sp("x.y.example.com"), sp("joe")},
		{"", "1.2.3.4", sp("x.y.example.com"), sp("joe")},
	}
	// Remove the winning key one at a time: the next one must win.
	for i := range order {
		var text strings.Builder
		for _, o := range order[i:] {
			fmt.Fprintf(&text, "%s:allow\n", o.key)
		}
		db, _, err := compile(t, text.String())
		if err != nil {
			t.Fatal(err)
		}
		o := order[0]
		if got := lookupKey(t, db, o.ip, o.host, o.info); got != order[i].key {
			t.Errorf("step %d: got %q want %q", i, got, order[i].key)
		}
	}
	db, _, _ := compile(t, "=:allow\njoe@1.2.3.4:allow\n=x:allow\n")
	if got := lookupKey(t, db, "1.2.3.4", nil, nil); got != "(default)" {
		t.Errorf("unknown host/info used: %q", got)
	}
	if got := lookupKey(t, db, "1.2.3.4", sp(""), nil); got != "=" {
		t.Errorf("empty host: %q", got)
	}
}

func TestLookupCutsIPv6AtColons(t *testing.T) {
	db, _, _ := compile(t, "2001:db8:1:2::5:allow\n2001:db8:1:2:::allow\n2001:db8:1:2::allow\n2001:db8::allow\n:::allow\n")
	for _, c := range []struct{ ip, want string }{
		{"2001:db8:1:2::5", "2001:db8:1:2::5"},
		{"2001:db8:1:2::6", "2001:db8:1:2::"},
		{"2001:db8:1:2:3::6", "2001:db8:1:2:"},
		{"2001:db8:9::6", "2001:db8:"},
		{"::1", "::"},
		{"fe80::1", "(default)"},
	} {
		if got := lookupKey(t, db, c.ip, nil, nil); got != c.want {
			t.Errorf("%s: got %q want %q", c.ip, got, c.want)
		}
	}
}

func TestDecodeStopsAtDenyAndSkipsJunk(t *testing.T) {
	deny, env := Decode([]byte("+A=1\x00Zjunk\x00+FOO\x00+B=x=y\x00\x00D\x00+C=3\x00"))
	if !deny || fmt.Sprint(env) != "[{A 1 true} {FOO  false} {B x=y true}]" {
		t.Fatalf("%v %v", deny, env)
	}
	deny, env = Decode([]byte("+A=1\x00+B=2"))
	if deny || fmt.Sprint(env) != "[{A 1 true}]" {
		t.Fatalf("%v %v", deny, env)
	}
}

func TestLookupReportsCorruptDatabase(t *testing.T) {
	db := cdb.FromBytes(make([]byte, 100))
	if _, _, _, err := Lookup(db, "1.2.3.4", nil, nil); !cdb.IsFormat(err) {
		t.Fatalf("%v", err)
	}
}

func BenchmarkLookup100kRules(b *testing.B) {
	var text strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&text, "10.%d.%d.%d:allow,X=\"%d\"\n", i/65536, i/256%256, i%256, i)
	}
	text.WriteString(":allow,DEFAULT=\"1\"\n")
	db, _, err := compile(b, text.String())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, found, _ := Lookup(db, "192.168.3.4", nil, nil); !found {
			b.Fatal("not found")
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"1.2.3.4:allow", "1.2.3.37-53:deny,A=\"b\"", "=x:allow,A=/,/", "::1:allow", "a:b:c", "1.2.3.-:allow", "#x", "1-99999999999999999999999:allow"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, skip, err := ParseLine(line)
		if err != nil || skip {
			return
		}
		n := 0
		r.Keys(func(key []byte) error {
			n++
			if n > 300 {
				t.Fatalf("range too long: %q", line)
			}
			return nil
		})
	})
}

func FuzzCompile(f *testing.F) {
	f.Add([]byte("1.2.3.4:allow\n# c\n\n=h:deny,X='1'\n:allow"))
	f.Add([]byte("10.2-3.:allow,A=\"b\"\njoe@=x:deny\n2001:db8::allow\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		db, _, err := compile(t, string(text))
		if err != nil {
			return
		}
		key, data, found, err := Lookup(db, "1.2.3.4", sp("x.y"), sp("joe"))
		if err != nil {
			t.Fatalf("lookup on our own cdb: %v", err)
		}
		if found {
			Decode(data)
			_ = key
		}
	})
}

func BenchmarkCompile100k(b *testing.B) {
	var text strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&text, "10.%d.%d.%d:allow,RELAYCLIENT=\"\",N=\"%d\"\n", i/65536, i/256%256, i%256, i)
	}
	s := text.String()
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		f, _ := os.Create(filepath.Join(dir, "x.cdb"))
		w := cdb.NewWriter(f)
		if err := Compile(strings.NewReader(s), w); err != nil {
			b.Fatal(err)
		}
		w.Finish()
		f.Close()
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("D\x00+A=1\x00"))
	f.Add([]byte("+FOO\x00Zjunk\x00+A=1\x00D\x00+B=2"))
	f.Fuzz(func(t *testing.T, data []byte) {
		deny, env := Decode(data)
		out := Describe("k", data, true)
		if deny != bytes.HasSuffix(out, []byte("deny connection\n")) {
			t.Fatalf("verdict differs: %q", out)
		}
		if bytes.Count(out, []byte("\nset environment variable ")) != len(env) {
			t.Fatalf("variables: %q", out)
		}
	})
}
