package smtpd

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestControlCacheReusesAReadingUntilAFileChanges(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(dir+"/control", 0755)
	os.WriteFile(dir+"/control/me", []byte("a.example\n"), 0644)
	os.WriteFile(dir+"/control/rcpthosts", []byte("example.org\n"), 0644)
	var c controlCache
	opts := controlOpts{}
	first, done1, err := c.config(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	second, done2, err := c.config(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first == second || first.Rcpthosts != second.Rcpthosts {
		t.Errorf("want two copies sharing one reading")
	}
	done1()
	done2()
	os.WriteFile(dir+"/control/me", []byte("b.example\n"), 0644)
	third, done3, err := c.config(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer done3()
	if third.Greeting != "b.example" || third.Rcpthosts == first.Rcpthosts {
		t.Errorf("changed control/me not read again: %q", third.Greeting)
	}
	c.reload()
	fourth, done4, err := c.config(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer done4()
	if fourth.Rcpthosts == third.Rcpthosts {
		t.Errorf("reload kept the old reading")
	}
}

func TestControlCacheNeverKeepsAFifo(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(dir+"/control", 0755)
	os.WriteFile(dir+"/control/me", []byte("a.example\n"), 0644)
	if err := mkfifo(dir + "/control/smtpgreeting"); err != nil {
		t.Fatal(err)
	}
	var c controlCache
	a, da, err := c.config(dir, controlOpts{})
	if err != nil {
		t.Fatal(err)
	}
	b, db, err := c.config(dir, controlOpts{})
	if err != nil {
		t.Fatal(err)
	}
	da()
	db()
	if a.Rcpthosts == b.Rcpthosts {
		t.Errorf("a reading with a FIFO control file was reused")
	}
}

func mkfifo(path string) error { return unix.Mkfifo(path, 0644) }
