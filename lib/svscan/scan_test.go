package svscan

import (
	"reflect"
	"testing"
)

func TestLookupEnvTakesRelativePathEntriesFromInsideTheService(t *testing.T) {
	env := []string{"HOME=/root", "PATH=/bin::.bin:sub/x:/usr/bin"}
	if got := lookupEnv(env, ""); !reflect.DeepEqual(got, env) {
		t.Errorf("no dir: %q", got)
	}
	want := []string{"PATH=/bin:a/.:a/.bin:a/sub/x:/usr/bin"}
	if got := lookupEnv(env, "a"); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	noPath := []string{"HOME=/root"}
	if got := lookupEnv(noPath, "a"); !reflect.DeepEqual(got, noPath) {
		t.Errorf("no PATH: %q", got)
	}
}
