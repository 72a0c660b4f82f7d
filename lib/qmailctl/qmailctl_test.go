package qmailctl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinymx/lib/cdb"
)

func strs(b [][]byte) []string {
	var out []string
	for _, x := range b {
		out = append(out, string(x))
	}
	return out
}

func TestStockFirstLineKeepsLeadingSpaceAndCR(t *testing.T) {
	cases := map[string]string{
		"mx.example.org\n":        "mx.example.org",
		"mx  \t\nsecond\n":        "mx",
		" lead\n":                 " lead",
		"crlf\r\n":                "crlf\r",
		"":                        "",
		"#comment is a value\nx":  "#comment is a value",
		"no newline at end \t":    "no newline at end",
		"\nsecond line is unused": "",
	}
	for in, want := range cases {
		if got := string(FirstLine([]byte(in), Stock)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestExtendedSyntaxCommentsEscapesContinuations(t *testing.T) {
	in := "# comment\n\n   \nfirst\\\n# between\n\n  part\nsecond  \n\\#not a comment\n\\\nlast\\"
	want := []string{"first  part", "second", "#not a comment", "", "last"}
	if got := strs(ExtendedLines([]byte(in))); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q", got)
	}
	if got := string(FirstLine([]byte("# c\n\nme.example\n"), Extended)); got != "me.example" {
		t.Fatalf("extended first line %q", got)
	}
}

func TestListEntriesSkipCommentsAndSplitOnNUL(t *testing.T) {
	got := strs(ListEntries([]byte("Example.ORG\n# c\n\n.example.org \t\nA\x00B\n")))
	if strings.Join(got, "|") != "Example.ORG|.example.org|A|B" {
		t.Fatalf("got %q", got)
	}
}

func TestParseUintReadsLeadingDigits(t *testing.T) {
	for s, want := range map[string]uint64{"1200abc": 1200, "0": 0, "99999999999999999999999": ^uint64(0)} {
		if n, ok := ParseUint([]byte(s)); !ok || n != want {
			t.Errorf("%q: %d %v", s, n, ok)
		}
	}
	for _, s := range []string{"", " 12", "x1"} {
		if _, ok := ParseUint([]byte(s)); ok {
			t.Errorf("%q parsed", s)
		}
	}
}

func writeFile(t *testing.T, dir, name, data string) {
	t.Helper()
	p := filepath.Join(dir, name)
	os.MkdirAll(filepath.Dir(p), 0755)
	if err := os.WriteFile(p, []byte(data), 0644); err != nil {
		t.Fatal(err)
	}
}

func TestRcpthostsExactSuffixAndMorercpthostsCDB(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "control/rcpthosts", "example.org\n.example.org\n")
	writeFile(t, dir, "control/morercpthosts", "Other.Test\n.deep.test\n")
	if err := MakeCDB(dir+"/control/morercpthosts", dir+"/control/morercpthosts.cdb", dir+"/control/morercpthosts.tmp"); err != nil {
		t.Fatal(err)
	}
	r, err := LoadRcpthosts(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for addr, want := range map[string]bool{
		"u@example.org": true, "u@EXAMPLE.org": true, "u@a.b.example.org": true, "u@example.org.": false,
		"u@xexample.org": false, "postmaster": true, "u@": false, "u@OTHER.test": true, "u@x.other.test": false,
		"u@a.deep.test": true, "u@deep.test": false, "": true, "a@b@example.org": true, "a@example.org@x": false,
	} {
		ok, err := r.Allowed([]byte(addr))
		if err != nil || ok != want {
			t.Errorf("%q: %v %v", addr, ok, err)
		}
	}
}

func TestNoRcpthostsAllowsEverythingAndIgnoresCDB(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "control/morercpthosts.cdb", "garbage")
	r, err := LoadRcpthosts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := r.Allowed([]byte("u@anything")); !ok || err != nil {
		t.Fatal("not open")
	}
}

func TestCorruptMorercpthostsIsAnError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "control/rcpthosts", "example.org\n")
	writeFile(t, dir, "control/morercpthosts.cdb", "")
	r, err := LoadRcpthosts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Allowed([]byte("u@other.test")); err == nil {
		t.Fatal("empty cdb read without error")
	}
}

func TestBadmailfromWholeAddressOrAtDomain(t *testing.T) {
	for _, viaCDB := range []bool{false, true} {
		dir := t.TempDir()
		writeFile(t, dir, "control/badmailfrom", "spammer@bad.example\n@evil.example\n# comment\nexample.com\n")
		if viaCDB {
			if err := MakeCDB(dir+"/control/badmailfrom", dir+"/control/badmailfrom.cdb", dir+"/control/badmailfrom.tmp"); err != nil {
				t.Fatal(err)
			}
		}
		b, err := LoadBadmailfrom(dir)
		if err != nil {
			t.Fatal(err)
		}
		if viaCDB != (b.db != nil) {
			t.Fatalf("viaCDB %v but db %v", viaCDB, b.db)
		}
		for addr, want := range map[string]bool{
			"SPAMMER@Bad.Example": true, "u@evil.example": true, "u@EVIL.EXAMPLE": true, "x@sub.evil.example": false,
			"u@example.com": false, "example.com": true, "": false, "# comment": false, "a@b@evil.example": true,
		} {
			ok, err := b.Match([]byte(addr))
			if err != nil || ok != want {
				t.Errorf("cdb %v %q: %v %v", viaCDB, addr, ok, err)
			}
		}
		b.Close()
	}
}

func TestStaleBadmailfromCDBIsIgnored(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "control/badmailfrom", "old@example\n")
	if err := MakeCDB(dir+"/control/badmailfrom", dir+"/control/badmailfrom.cdb", dir+"/control/badmailfrom.tmp"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "control/badmailfrom", "new@example\n")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(dir+"/control/badmailfrom.cdb", old, old)
	b, err := LoadBadmailfrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.Match([]byte("new@example")); !ok || b.db != nil {
		t.Fatal("stale cdb used")
	}
}

func TestMakeCDBKeysAreLowercaseEntriesOnly(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "morercpthosts", "Foo.Example  \n#x\n\n.bar.example\n")
	if err := MakeCDB(dir+"/morercpthosts", dir+"/m.cdb", dir+"/m.tmp"); err != nil {
		t.Fatal(err)
	}
	db, err := cdb.Open(dir + "/m.cdb")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var keys []string
	db.ForEach(func(k, v []byte) error {
		if len(v) != 0 {
			t.Errorf("value %q", v)
		}
		keys = append(keys, string(k))
		return nil
	})
	if strings.Join(keys, "|") != "foo.example|.bar.example" {
		t.Fatalf("keys %q", keys)
	}
	if _, err := os.Stat(dir + "/m.tmp"); err == nil {
		t.Fatal("temp file left")
	}
	if err := MakeCDB(dir+"/missing", dir+"/m.cdb", dir+"/m.tmp"); err == nil {
		t.Fatal("missing source accepted")
	} else if me, ok := err.(*MakeCDBError); !ok || me.Op != "read" {
		t.Fatalf("error %v", err)
	}
}

// FuzzControl reads arbitrary control-file bytes in every syntax.
func FuzzControl(f *testing.F) {
	for _, s := range []string{"mx.example.org\n", "# c\n\\#x\na\\\n\n b \t\n", "\\", "a\x00b\nc\r\n", "1200abc\n", "\\\\\n\\\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, syn := range []Syntax{Stock, Extended} {
			l := FirstLine(data, syn)
			if strings.ContainsRune(string(l), '\n') {
				t.Fatalf("first line holds LF: %q", l)
			}
			if n := len(l); syn == Stock && n > 0 && (l[n-1] == ' ' || l[n-1] == '\t') {
				t.Fatalf("trailing whitespace kept: %q", l)
			}
			ParseUint(l)
		}
		for _, e := range ListEntries(data) {
			if strings.ContainsAny(string(e), "\n\x00") {
				t.Fatalf("entry %q", e)
			}
		}
		s := NewSet(ListEntries(data))
		for _, e := range ListEntries(data) {
			if !s.Has(e) {
				t.Fatalf("entry %q not found", e)
			}
		}
	})
}
