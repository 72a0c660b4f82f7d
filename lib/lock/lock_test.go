package lock

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSecondLockFailsWithTemporaryFailure(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	a, err := OpenAppend(p)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := TryExclusive(a); err != nil {
		t.Fatal(err)
	}
	b, _ := OpenAppend(p)
	defer b.Close()
	if err := TryExclusive(b); err != unix.EWOULDBLOCK {
		t.Fatalf("got %v", err)
	}
	st, _ := a.Stat()
	if uint32(st.Mode().Perm()) != 0600&^umask() {
		t.Fatalf("mode %v", st.Mode())
	}
}

func umask() uint32 {
	m := unix.Umask(0)
	unix.Umask(m)
	return uint32(m)
}
