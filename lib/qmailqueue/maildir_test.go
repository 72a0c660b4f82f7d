package qmailqueue

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestMain lets the test binary run as maildir-queue for the strace test.
func TestMain(m *testing.M) {
	if os.Getenv("QMAILQUEUE_TEST_STORE") == "1" {
		q := &Maildir{Dir: os.Getenv("MAILDIRQUEUE")}
		os.Exit(ExitCode(q.Store(os.Stdin, bufio.NewReader(os.NewFile(1, "envelope")))))
	}
	os.Exit(m.Run())
}

func newMaildir(t testing.TB, parent string) string {
	t.Helper()
	if parent == "" {
		parent = t.TempDir()
	}
	dir := filepath.Join(parent, "Maildir")
	for _, d := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0700); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func listDir(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// onlyMessage returns the one file in new/ and checks tmp/ is empty.
func onlyMessage(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	if tmp := listDir(t, dir+"/tmp"); len(tmp) != 0 {
		t.Errorf("tmp/ not empty after commit: %v", tmp)
	}
	names := listDir(t, dir+"/new")
	if len(names) != 1 {
		t.Fatalf("new/ holds %d files, want 1: %v", len(names), names)
	}
	b, err := os.ReadFile(dir + "/new/" + names[0])
	if err != nil {
		t.Fatal(err)
	}
	return names[0], b
}

func store(t *testing.T, q *Maildir, body []byte, chunk int, from string, to []string) error {
	t.Helper()
	m, err := q.Open()
	if err != nil {
		t.Fatal(err)
	}
	for len(body) > 0 {
		n := min(chunk, len(body))
		if _, err := m.Write(body[:n]); err != nil {
			t.Fatal(err)
		}
		body = body[n:]
	}
	return m.Commit(from, to)
}

var receivedRE = `Received: \(qmail %d invoked by uid %d\); [1-9][0-9]? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} -0000\n`

func checkStored(t *testing.T, got []byte, pid, uid int, rest string) {
	t.Helper()
	i := bytes.IndexByte(got, '\n')
	if i < 0 {
		t.Fatalf("no newline in %q", got)
	}
	if !matches(fmt.Sprintf(receivedRE, pid, uid), string(got[:i+1])) {
		t.Errorf("Received line %q", got[:i+1])
	}
	if string(got[i+1:]) != rest {
		t.Errorf("after Received:\n got %q\nwant %q", got[i+1:], rest)
	}
}

const body1 = "Received: from unknown (HELO x) (192.0.2.7)\n  by 192.0.2.1 with SMTP; 5 Jan 2025 09:03:07 -0000\nSubject: hi\n\nbody\n"

func TestMaildirStoresOneRecipientWithDeliveredTo(t *testing.T) {
	dir := newMaildir(t, "")
	q := &Maildir{Dir: dir}
	if err := store(t, q, []byte(body1), 7, "alice@example.net", []string{"bob@example.org"}); err != nil {
		t.Fatal(err)
	}
	name, got := onlyMessage(t, dir)
	checkStored(t, got, os.Getpid(), os.Getuid(),
		"Return-Path: <alice@example.net>\nDelivered-To: bob@example.org\n"+body1)
	if !matches(`^[0-9]+\.M[0-9]+P`+strconv.Itoa(os.Getpid())+`Q[0-9]+\.[^/:]+$`, name) {
		t.Errorf("name %q is not time.MusecPpidQseq.host", name)
	}
	st, _ := os.Stat(dir + "/new/" + name)
	if st.Mode().Perm() != FileMode {
		t.Errorf("mode %v, want %v", st.Mode().Perm(), os.FileMode(FileMode))
	}
}

func TestMaildirStoresSeveralRecipientsAsXEnvelopeTo(t *testing.T) {
	dir := newMaildir(t, "")
	q := &Maildir{Dir: dir, Pid: 4242, UID: 99}
	if err := store(t, q, []byte(body1), 1000, "", []string{"a@x", "b@y", "c@z"}); err != nil {
		t.Fatal(err)
	}
	_, got := onlyMessage(t, dir)
	checkStored(t, got, 4242, 99,
		"Return-Path: <>\nX-Envelope-To: a@x\nX-Envelope-To: b@y\nX-Envelope-To: c@z\n"+body1)
}

func TestMaildirStoresNoRecipientLineForEmptyEnvelope(t *testing.T) {
	dir := newMaildir(t, "")
	q := &Maildir{Dir: dir, Pid: 1, UID: 2}
	if err := store(t, q, []byte("x\n"), 1, "a@b", nil); err != nil {
		t.Fatal(err)
	}
	_, got := onlyMessage(t, dir)
	checkStored(t, got, 1, 2, "Return-Path: <a@b>\nx\n")
}

func TestMaildirTurnsLFInAddressIntoUnderscore(t *testing.T) {
	dir := newMaildir(t, "")
	q := &Maildir{Dir: dir, Pid: 1, UID: 2}
	if err := store(t, q, []byte("x\n"), 1, "a\nEvil: 1", []string{"b\nEvil: 2"}); err != nil {
		t.Fatal(err)
	}
	_, got := onlyMessage(t, dir)
	checkStored(t, got, 1, 2, "Return-Path: <a_Evil: 1>\nDelivered-To: b_Evil: 2\nx\n")
}

func TestMaildirSpillGivesSameBytesAndLeavesNoScratch(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef\n"), 20000) // 340 KB
	for _, spill := range []int{0, 100, 1 << 20} {
		dir := newMaildir(t, "")
		q := &Maildir{Dir: dir, Pid: 5, UID: 6, SpillAt: spill}
		if err := store(t, q, body, 4096, "s@x", []string{"r@y"}); err != nil {
			t.Fatalf("spill %d: %v", spill, err)
		}
		_, got := onlyMessage(t, dir)
		checkStored(t, got, 5, 6, "Return-Path: <s@x>\nDelivered-To: r@y\n"+string(body))
	}
}

// A large body's scratch file has no name in tmp/, even while it is
// being received, so a process killed then leaves nothing; Abort closes it.
func TestMaildirAbortLeavesNothing(t *testing.T) {
	dir := newMaildir(t, "")
	q := &Maildir{Dir: dir, SpillAt: 10}
	m, _ := q.Open()
	m.Write(bytes.Repeat([]byte("x"), 100)) // spilled to tmp/
	if l := listDir(t, dir+"/tmp"); len(l) != 0 {
		t.Fatalf("tmp/ holds %v while receiving", l)
	}
	fd := m.(*maildirMessage).spill
	if where, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err != nil ||
		!strings.HasPrefix(where, dir+"/tmp/") {
		t.Errorf("scratch file is %q (%v), want one in %s/tmp", where, err, dir)
	}
	m.Abort()
	if l := append(listDir(t, dir+"/tmp"), listDir(t, dir+"/new")...); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
}

func TestMaildirEnvelopeErrorsStoreNothing(t *testing.T) {
	dir := newMaildir(t, "")
	q := &Maildir{Dir: dir, SpillAt: 10}
	cases := []struct {
		from string
		to   []string
		code int
	}{
		{strings.Repeat("a", 1003), []string{"b"}, 11},
		{"a", []string{strings.Repeat("b", 2000)}, 11},
		{"a\x00x", []string{"b"}, 91},
	}
	for _, c := range cases {
		err := store(t, q, bytes.Repeat([]byte("y"), 50), 7, c.from, c.to)
		if code(err) != c.code {
			t.Errorf("exit %d, want %d", code(err), c.code)
		}
	}
	if l := append(listDir(t, dir+"/tmp"), listDir(t, dir+"/new")...); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
}

func TestMaildirMissingDirectoryIsQueueTrouble(t *testing.T) {
	q := &Maildir{Dir: filepath.Join(t.TempDir(), "nope")}
	if err := store(t, q, []byte("x\n"), 1, "a", []string{"b"}); code(err) != 63 {
		t.Errorf("exit %d, want 63", code(err))
	}
}

func TestMaildirIsDurableBeforeCommitReturns(t *testing.T) {
	dir := newMaildir(t, "")
	var steps []string
	trace = func(s string) { steps = append(steps, s) }
	defer func() { trace = nil }()
	q := &Maildir{Dir: dir}
	if err := store(t, q, []byte("x\n"), 1, "a", []string{"b"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"write", "fsync", "link", "fsync new"}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("steps %v, want %v", steps, want)
	}
}

// strace shows the real system calls: fsync of the file before the link
// into new/, fsync of new/ after it.
func TestMaildirQueueSyscallOrderUnderStrace(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace not installed")
	}
	dir := newMaildir(t, "")
	// The test binary itself plays maildir-queue (see TestMain).
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(strace, "-f", "-o", log, "-e", "trace=openat,fsync,link,linkat,rename,renameat,unlink,unlinkat", self)
	cmd.Env = append(os.Environ(), "MAILDIRQUEUE="+dir, "QMAILQUEUE_TEST_STORE=1")
	cmd.Stdin = strings.NewReader("hello\n")
	envR, envW, _ := os.Pipe()
	cmd.Stdout = envR
	envW.Write([]byte("Fa@b\x00Tc@d\x00\x00"))
	envW.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("maildir-queue: %v %s", err, stderr.Bytes())
	}
	b, _ := os.ReadFile(log)
	var calls []string
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.Contains(l, dir+"/tmp/") && strings.Contains(l, "openat("):
			calls = append(calls, "open tmp")
		case strings.Contains(l, "fsync("):
			calls = append(calls, "fsync")
		case strings.Contains(l, "link") && strings.Contains(l, dir+"/new/") && !strings.Contains(l, "unlink"):
			calls = append(calls, "link new")
		case strings.Contains(l, dir+"/new\"") && strings.Contains(l, "openat("):
			calls = append(calls, "open new")
		}
	}
	want := []string{"open tmp", "fsync", "link new", "open new", "fsync"}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("calls %v, want %v\n%s", calls, want, b)
	}
}

func TestMaildirNamesAreUniqueUnderConcurrency(t *testing.T) {
	dir := newMaildir(t, "")
	q := &Maildir{Dir: dir}
	const n = 400
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// One Maildir value per session, as qmail-smtpd uses it,
			// plus a shared one: both must give distinct names.
			own := &Maildir{Dir: dir}
			for j := 0; j < n/8; j++ {
				qq := own
				if j%2 == 0 {
					qq = q
				}
				m, _ := qq.Open()
				fmt.Fprintf(m, "msg %d %d\n", i, j)
				errs <- m.Commit("a", []string{"b"})
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := len(listDir(t, dir+"/new")); got != n {
		t.Errorf("%d files in new/, want %d", got, n)
	}
}

// A tmpfs too small for the message: exit 53 and nothing in new/ or tmp/,
// whether the disk fills in the scratch file or in the final file.
func TestMaildirFullDiskIs53AndLeavesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	dir := newMaildir(t, mnt)
	big := bytes.Repeat([]byte("z"), 400<<10)
	for _, spill := range []int{0, 1 << 20} {
		q := &Maildir{Dir: dir, SpillAt: spill}
		if err := store(t, q, big, 8192, "a", []string{"b"}); code(err) != 53 {
			t.Errorf("spill %d: exit %d, want 53", spill, code(err))
		}
		if l := append(listDir(t, dir+"/tmp"), listDir(t, dir+"/new")...); len(l) != 0 {
			t.Errorf("spill %d: left behind: %v", spill, l)
		}
	}
	// Half the space taken by a scratch body, then the final copy fails.
	q := &Maildir{Dir: dir, SpillAt: 1000}
	if err := store(t, q, big[:150<<10], 8192, "a", []string{"b"}); code(err) != 53 {
		t.Errorf("copy phase: exit %d, want 53", code(err))
	}
	if l := append(listDir(t, dir+"/tmp"), listDir(t, dir+"/new")...); len(l) != 0 {
		t.Errorf("copy phase: left behind: %v", l)
	}
	// The store still works once space is there.
	if err := store(t, q, []byte("small\n"), 8192, "a", []string{"b"}); err != nil {
		t.Errorf("after full disk: %v", err)
	}
}

func matches(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// A Dir that is empty or relative is exit 55 at Commit, and the store
// writes nothing, even where the relative name exists (here: the test's
// working directory holds a Maildir of that name).
func TestMaildirNotAbsoluteIsExit55AndTouchesNothing(t *testing.T) {
	parent := t.TempDir()
	newMaildir(t, parent)
	t.Chdir(parent)
	for _, dir := range []string{"", "Maildir", "./Maildir"} {
		q := &Maildir{Dir: dir, SpillAt: 16}
		m, err := q.Open()
		if err != nil {
			t.Fatalf("%q: Open: %v", dir, err)
		}
		m.Write(bytes.Repeat([]byte("x"), 100)) // past SpillAt: no scratch file either
		if code := ExitCode(m.Commit("a@x", []string{"b@y"})); code != 55 {
			t.Errorf("%q: exit %d, want 55", dir, code)
		}
		for _, sub := range []string{"tmp", "new"} {
			if n := listDir(t, filepath.Join(parent, "Maildir", sub)); len(n) != 0 {
				t.Errorf("%q: %s/ holds %v", dir, sub, n)
			}
		}
	}
}

// Fifty messages received at once through one Maildir (one process serving
// many sessions): each is stored once, with its own body and envelope,
// whether it stayed in memory or spilled, and nothing is left in tmp/.
func TestMaildirStoresFiftyConcurrentMessagesEachIntact(t *testing.T) {
	dir := newMaildir(t, "")
	q := &Maildir{Dir: dir, SpillAt: 4096}
	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// odd messages spill to the scratch file, even ones do not
			line := fmt.Sprintf("message %d\n", i)
			body := []byte(strings.Repeat(line, 1+(i%2)*1000))
			m, err := q.Open()
			if err != nil {
				errs[i] = err
				return
			}
			for p := body; len(p) > 0; {
				k := min(len(p), 1000+i)
				m.Write(p[:k])
				p = p[k:]
			}
			errs[i] = m.Commit(fmt.Sprintf("s%d@x", i), []string{fmt.Sprintf("r%d@y", i)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("message %d: %v", i, err)
		}
	}
	names := listDir(t, dir+"/new")
	if len(names) != n {
		t.Fatalf("%d files in new/, want %d", len(names), n)
	}
	seen := map[int]bool{}
	for _, name := range names {
		got, err := os.ReadFile(dir + "/new/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var i int
		if _, err := fmt.Sscanf(string(got[bytes.Index(got, []byte("Return-Path: <s")):]), "Return-Path: <s%d@x>", &i); err != nil || seen[i] {
			t.Fatalf("%s: envelope unreadable or seen twice (%v)", name, err)
		}
		seen[i] = true
		line := fmt.Sprintf("message %d\n", i)
		want := fmt.Sprintf("Return-Path: <s%d@x>\nDelivered-To: r%d@y\n", i, i) + strings.Repeat(line, 1+(i%2)*1000)
		checkStored(t, got, os.Getpid(), os.Getuid(), want)
	}
	if tmp := listDir(t, dir+"/tmp"); len(tmp) != 0 {
		t.Errorf("tmp/ holds %v", tmp)
	}
}
