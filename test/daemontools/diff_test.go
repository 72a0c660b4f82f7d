// Package daemontools holds the differential tests of the small daemontools
// programs (tai64n, tai64nlocal, setuidgid, envuidgid, envdir, softlimit,
// setlock, pgrphack, fghack): each runs /usr/bin/NAME and ./bin/NAME on the
// same input and compares stdout, stderr and exit status.
package daemontools

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

// result is what one run of a program showed the world.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// job describes one invocation, run once with each implementation.
type job struct {
	args  []string // after the program name
	env   []string // nil: inherit
	stdin string
	dir   string
	wrap  []string // run the program under this command line, e.g. /usr/bin/setuidgid nobody
}

// pair returns the C and Go binaries of name.
func pair(t *testing.T, name string) (c, g string) {
	t.Helper()
	return harness.NeedPeer(t, "/usr/bin/"+name), harness.Bin(t, name)
}

func run(t *testing.T, bin string, j job) result {
	t.Helper()
	argv := append(append(append([]string{}, j.wrap...), bin), j.args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = j.env
	cmd.Dir = j.dir
	cmd.Stdin = strings.NewReader(j.stdin)
	out, errb, code := harness.Run(t, 20*time.Second, cmd)
	return result{string(out), string(errb), code}
}

// same runs j with both implementations of name and fails on any difference
// after norm (nil: none) is applied to both outputs.
func same(t *testing.T, name string, j job, norm func(string) string) result {
	t.Helper()
	c, g := pair(t, name)
	rc, rg := run(t, c, j), run(t, g, j)
	if norm != nil {
		rc.stdout, rc.stderr = norm(rc.stdout), norm(rc.stderr)
		rg.stdout, rg.stderr = norm(rg.stdout), norm(rg.stderr)
	}
	if rc != rg {
		t.Errorf("%s %q differs from the C one:\n--- C:\n%v\n--- Go:\n%v", name, j.args, rc, rg)
	}
	return rg
}

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
			same(t, name, job{args: args, dir: t.TempDir()}, nil)
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
			same(t, name, job{args: args, dir: dir, env: env}, nil)
		}
	}
}

func TestArgumentsThatLookLikeOptionsAreOperands(t *testing.T) {
	// Programs without options take "--" and "-x" literally (spec §1.1).
	dir := t.TempDir()
	same(t, "setuidgid", job{args: []string{"--", "true"}}, nil)
	same(t, "envuidgid", job{args: []string{"-x", "true"}}, nil)
	same(t, "envdir", job{args: []string{"--", "true"}, dir: dir}, nil)
	same(t, "pgrphack", job{args: []string{"--", "true"}}, nil)
	same(t, "fghack", job{args: []string{"-x"}}, nil)
	// softlimit and setlock stop at "--".
	same(t, "softlimit", job{args: []string{"-c", "0", "--", "sh", "-c", "ulimit -c"}}, nil)
	same(t, "setlock", job{args: []string{"-n", "--", "lk", "true"}, dir: dir}, nil)
}
