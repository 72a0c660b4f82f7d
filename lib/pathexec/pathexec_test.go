package pathexec

import (
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
)

func TestApplyMovesLastEntryIntoRemovedSlot(t *testing.T) {
	// spec §1.5: env -i A=1 B=2 C=3 envdir D env, D/A = new
	var e Edits
	e.Set("A", "new")
	got := e.Apply([]string{"A=1", "B=2", "C=3"})
	want := []string{"C=3", "B=2", "A=new"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
}

func TestUnsetRemovesOnlyFirst(t *testing.T) {
	var e Edits
	e.Unset("A")
	got := e.Apply([]string{"A=1", "AB=2", "A=3"})
	if !reflect.DeepEqual(got, []string{"A=3", "AB=2"}) {
		t.Fatalf("got %v", got)
	}
}

func TestLookupRemembersAccessDenied(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(d1, "prog"), []byte("#!/bin/sh\n"), 0644)
	_, err := Lookup("prog", []string{"PATH=" + d1 + ":" + d2})
	if err != syscall.EACCES {
		t.Fatalf("got %v", err)
	}
	os.WriteFile(filepath.Join(d2, "prog"), []byte("#!/bin/sh\n"), 0755)
	p, err := Lookup("prog", []string{"PATH=" + d1 + ":" + d2})
	if err != nil || p != filepath.Join(d2, "prog") {
		t.Fatalf("got %q %v", p, err)
	}
	if _, err := Lookup("nothere", []string{"PATH=" + d2}); err != syscall.ENOENT {
		t.Fatalf("got %v", err)
	}
}

func TestApplyKeepsAnEntryWithoutEquals(t *testing.T) {
	var e Edits
	e.Unset("B")
	got := e.Apply([]string{"B", "A=1", "Z=9"})
	if !reflect.DeepEqual(got, []string{"B", "A=1", "Z=9"}) {
		t.Fatalf("got %v", got)
	}
}
