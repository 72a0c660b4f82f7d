package svscan

import "testing"

func TestTitleKeepsThreeDotsAndSkipsNUL(t *testing.T) {
	arg := []byte("....................")
	tt := &Title{b: arg}
	for _, c := range []byte("fatal error xyz\nwarn\x00ing abc\n") {
		tt.Add(c)
	}
	if got := string(arg); got != "... xyz\nwarning abc\n" {
		t.Fatalf("title %q", got)
	}
}

func TestNewTitleRefusesShortArgument(t *testing.T) {
	if _, ok := NewTitle("abcd"); ok {
		t.Fatal("a 4-byte title was accepted")
	}
}

func TestGlobSkipsDotNamesAndKeepsPatternWhenEmpty(t *testing.T) {
	d := t.TempDir()
	if got := glob(d, "/log"); len(got) != 1 || got[0] != d+"/*/log" {
		t.Fatalf("empty: %q", got)
	}
}
