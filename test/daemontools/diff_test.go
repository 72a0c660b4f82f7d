// Package daemontools holds the differential tests of the small daemontools
// programs (tai64n, tai64nlocal, setuidgid, envuidgid, envdir, softlimit,
// setlock, pgrphack, fghack): each runs /usr/bin/NAME and ./bin/NAME on the
// same input and compares stdout, stderr and exit status.
package daemontools

import (
	"os"
	"path/filepath"
	"testing"

	"tinymx/test/harness"
)

// write creates files under dir: name → content.
func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEveryProgramRefusesMissingArgumentsLikeC(t *testing.T) {
	cases := map[string][][]string{
		"envdir":    {{}, {"d"}},
		"envuidgid": {{}, {"nobody"}},
		"setuidgid": {{}, {"nobody"}},
		"softlimit": {{}, {"-z"}, {"-o"}, {"-o", "5"}, {"-o", "abc", "true"}, {"-o", "5x", "true"}, {"-z", "-o", "x"}, {"-o", "x", "-z"}},
		"setlock":   {{}, {"f"}, {"-z"}, {"-n"}, {"-n", "f"}, {"-nq", "f", "true"}},
		"pgrphack":  {{}},
		"fghack":    {{}},
	}
	for name, list := range cases {
		for _, args := range list {
			harness.Pair(t, name).Same(t, harness.Job{Args: args, Dir: t.TempDir()}, nil)
		}
	}
}

func TestEveryProgramReportsAMissingProgramLikeC(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"e/A": "1\n", "noexec": "#!/bin/sh\n", "noshebang": "echo hi\n"})
	// Executable but no "#!": execve fails with ENOEXEC.
	if err := os.Chmod(filepath.Join(dir, "noshebang"), 0755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/nonexistent:" + dir}
	for _, prog := range []string{"nosuchprogram", "noexec", "noshebang", "/nonexistent/x", dir} {
		for name, args := range map[string][]string{
			"envdir":    {"e", prog},
			"envuidgid": {"nobody", prog},
			"setuidgid": {"root", prog},
			"softlimit": {"-c", "0", prog},
			"setlock":   {"-x", "lk", prog},
			"pgrphack":  {prog},
			"fghack":    {prog},
		} {
			harness.Pair(t, name).Same(t, harness.Job{Args: args, Dir: dir, Env: env}, nil)
		}
	}
}

func TestArgumentsThatLookLikeOptionsAreOperands(t *testing.T) {
	// Programs without options take "--" and "-x" literally (spec §1.1).
	dir := t.TempDir()
	harness.Pair(t, "setuidgid").Same(t, harness.Job{Args: []string{"--", "true"}}, nil)
	harness.Pair(t, "envuidgid").Same(t, harness.Job{Args: []string{"-x", "true"}}, nil)
	harness.Pair(t, "envdir").Same(t, harness.Job{Args: []string{"--", "true"}, Dir: dir}, nil)
	harness.Pair(t, "pgrphack").Same(t, harness.Job{Args: []string{"--", "true"}}, nil)
	harness.Pair(t, "fghack").Same(t, harness.Job{Args: []string{"-x"}}, nil)
	// softlimit and setlock stop at "--".
	harness.Pair(t, "softlimit").Same(t, harness.Job{Args: []string{"-c", "0", "--", "sh", "-c", "ulimit -c"}}, nil)
	harness.Pair(t, "setlock").Same(t, harness.Job{Args: []string{"-n", "--", "lk", "true"}, Dir: dir}, nil)
}
