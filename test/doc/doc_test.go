// Package doc checks the man pages: one per program, each silent under
// groff's warnings.
package doc

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"tinymx/test/harness"
)

func pages(t *testing.T) []string {
	p, err := filepath.Glob(filepath.Join(harness.Root(), "doc", "*.[18]"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEveryManPageIsSilentUnderGroffWarnings(t *testing.T) {
	groff := harness.NeedPeer(t, "/usr/bin/groff")
	for _, p := range pages(t) {
		out, err := exec.Command(groff, "-man", "-ww", "-z", p).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("%s: %v\n%s", filepath.Base(p), err, out)
		}
	}
}

func TestEveryProgramHasAManPage(t *testing.T) {
	have := map[string]bool{}
	for _, p := range pages(t) {
		name := filepath.Base(p)
		have[name[:len(name)-2]] = true
	}
	root := harness.Root()
	var progs []string
	for _, dir := range []string{"cmd", "scripts"} {
		ents, _ := os.ReadDir(filepath.Join(root, dir))
		for _, e := range ents {
			progs = append(progs, e.Name())
		}
	}
	for _, p := range progs {
		if !have[p] {
			t.Errorf("%s has no man page in doc/", p)
		}
	}
}
