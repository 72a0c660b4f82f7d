// Package install checks make install: every program and man page lands
// under PREFIX, and the script clients name PREFIX/bin.
package install

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinymx/test/harness"
)

func TestMakeInstallPutsProgramsAndManPagesUnderPrefix(t *testing.T) {
	root := harness.Root()
	prefix := t.TempDir()
	harness.Bin(t, "tcpserver")
	cmd := exec.Command("make", "-s", "install", "PREFIX="+prefix)
	cmd.Dir = root
	if r := harness.Run(t, 5*time.Minute, cmd); r.Code != 0 {
		t.Fatalf("make install: %v", r)
	}
	progs, _ := os.ReadDir(filepath.Join(root, "bin"))
	for _, p := range progs {
		st, err := os.Stat(filepath.Join(prefix, "bin", p.Name()))
		if err != nil || st.Mode().Perm()&0111 == 0 {
			t.Errorf("%s not installed as a program: %v", p.Name(), err)
		}
	}
	scripts, _ := os.ReadDir(filepath.Join(root, "scripts"))
	for _, s := range scripts {
		b, _ := os.ReadFile(filepath.Join(prefix, "bin", s.Name()))
		if strings.Contains(string(b), "/usr/bin/") || !strings.Contains(string(b), prefix+"/bin/tcpclient") {
			t.Errorf("%s does not run %s/bin/tcpclient:\n%s", s.Name(), prefix, b)
		}
	}
	pages, _ := filepath.Glob(filepath.Join(root, "doc", "*.[18]"))
	for _, p := range pages {
		sec := p[len(p)-1:]
		if _, err := os.Stat(filepath.Join(prefix, "share/man/man"+sec, filepath.Base(p))); err != nil {
			t.Errorf("%s not installed: %v", filepath.Base(p), err)
		}
	}
}
