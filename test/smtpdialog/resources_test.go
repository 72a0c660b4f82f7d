package smtpdialog

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tinymx/test/harness"
)

// stream runs qmail-smtpd with the common setup plus extra, feeds it what
// feed writes, waits until its output holds done, reads its own peak
// RSS (VmHWM, in KiB: the queue child's memory is not ours), then closes
// its input and returns the output and exit status.
func stream(t *testing.T, extra map[string]string, feed func(w io.Writer), done string) (string, int, int) {
	t.Helper()
	bin := harness.Bin(t, "qmail-smtpd")
	_, env := home(t)
	for k, v := range extra {
		env[k] = v
	}
	cmd := exec.Command(bin)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// pipes of our own, not exec's: its Wait would close them under us
	inR, in, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	defer outR.Close()
	cmd.Stdin, cmd.Stdout = inR, outW
	p := harness.Start(t, cmd)
	inR.Close()
	outW.Close()
	// a hang guard for the feed and for the reader below
	in.SetWriteDeadline(time.Now().Add(harness.Patience))
	outR.SetReadDeadline(time.Now().Add(harness.Patience))
	var mu sync.Mutex
	var out bytes.Buffer
	readDone := make(chan struct{})
	go func() {
		buf := make([]byte, 65536)
		for {
			n, err := outR.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				close(readDone)
				return
			}
		}
	}()
	bw := bufio.NewWriterSize(in, 65536)
	feed(bw)
	bw.Flush()
	var got string
	harness.WaitFor(t, 30*time.Second, "reply "+strconv.Quote(done), func() bool {
		mu.Lock()
		defer mu.Unlock()
		got = out.String()
		return strings.Contains(got, done) && strings.HasSuffix(got, "\r\n")
	})
	rss := harness.StatusKB(p.Pid(), "VmHWM")
	if rss < 0 {
		t.Fatal("no VmHWM")
	}
	in.Close()
	<-readDone
	code := p.Wait(t, 60*time.Second).ExitCode()
	mu.Lock()
	defer mu.Unlock()
	return out.String(), code, rss
}

func TestFiftyMegabyteMessageStaysUnder4MiB(t *testing.T) {
	line := strings.Repeat("0123456789abcdef", 63) + "0123456789abc\r\n" // 1023 bytes + CRLF
	out, code, rss := stream(t, map[string]string{"FAKEQQ_DISCARD": "1"}, func(w io.Writer) {
		io.WriteString(w, "MAIL FROM:<a@b>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
		for n := 0; n < 50<<20; n += len(line) {
			io.WriteString(w, line)
		}
		io.WriteString(w, ".\r\n")
	}, " qp ")
	if !strings.Contains(out, "\r\n250 ok ") || code != 1 {
		t.Fatalf("exit %d: %q", code, out)
	}
	t.Logf("peak RSS %d KiB", rss)
	if rss > 4096 {
		t.Fatalf("peak RSS %d KiB > 4 MiB", rss)
	}
}

func TestEndlessDataPastDatabytesIsDroppedThen552(t *testing.T) {
	chunk := strings.Repeat("x", 65536)
	out, code, rss := stream(t, map[string]string{"DATABYTES": "1000"}, func(w io.Writer) {
		io.WriteString(w, "MAIL FROM:<a@b>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
		for n := 0; n < 20<<20; n += len(chunk) {
			io.WriteString(w, chunk) // one 20 MB line
		}
		io.WriteString(w, "\r\n.\r\nNOOP\r\n")
	}, "552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n250 ok\r\n")
	if code != 1 {
		t.Fatalf("exit %d: %q", code, out)
	}
	if rss > 4096 {
		t.Fatalf("peak RSS %d KiB > 4 MiB", rss)
	}
}

func TestTenThousandRecipientsStayUnder16MiB(t *testing.T) {
	out, code, rss := stream(t, nil, func(w io.Writer) {
		io.WriteString(w, "MAIL FROM:<a@b>\r\n")
		for i := 0; i < 10000; i++ {
			io.WriteString(w, "RCPT TO:<user"+strconv.Itoa(i)+"@example.org>\r\n")
		}
		io.WriteString(w, "DATA\r\nhello\r\n.\r\n")
	}, " qp ")
	if strings.Count(out, "250 ok\r\n") != 10001 || !strings.Contains(out, "250 ok ") || code != 1 {
		t.Fatalf("exit %d, %d oks", code, strings.Count(out, "250 ok\r\n"))
	}
	t.Logf("peak RSS %d KiB", rss)
	if rss > 16384 {
		t.Fatalf("peak RSS %d KiB > 16 MiB", rss)
	}
}

func TestEndlessCommandLineIsCappedAndSessionGoesOn(t *testing.T) {
	chunk := strings.Repeat("y", 65536)
	out, code, rss := stream(t, nil, func(w io.Writer) {
		io.WriteString(w, "NOOP ")
		for n := 0; n < 20<<20; n += len(chunk) {
			io.WriteString(w, chunk)
		}
		io.WriteString(w, "\r\nNOOP\r\n")
	}, "250 ok\r\n")
	if out != "220 mx.example.org ESMTP\r\n500 line too long (#5.5.2)\r\n250 ok\r\n" || code != 1 {
		t.Fatalf("exit %d: %q", code, out)
	}
	t.Logf("peak RSS %d KiB", rss)
	// About the runtime's own 2.5 MiB plus the 1 MiB cap's worth of
	// chunks; growing one slice instead cost 7 MiB here.
	if rss > 5120 {
		t.Fatalf("peak RSS %d KiB > 5 MiB for a capped line", rss)
	}
}

func TestThousandRecipientsPipelinedInOneWrite(t *testing.T) {
	var b strings.Builder
	b.WriteString("MAIL FROM:<a@b>\r\n")
	for i := 0; i < 1000; i++ {
		b.WriteString("RCPT TO:<u" + strconv.Itoa(i) + "@example.org>\r\n")
	}
	b.WriteString("DATA\r\nx\r\n.\r\nQUIT\r\n")
	dir, env := home(t)
	out, code := session(t, harness.Bin(t, "qmail-smtpd"), env, []byte(b.String()), false)
	if strings.Count(string(out), "250 ok\r\n") != 1001 || code != 0 {
		t.Fatalf("exit %d: %d oks", code, strings.Count(string(out), "250 ok\r\n"))
	}
	envl, err := os.ReadFile(dir + "/qq/env.0")
	if err != nil || bytes.Count(envl, []byte{0, 'T'}) != 1000 {
		t.Fatalf("envelope has %d T entries", bytes.Count(envl, []byte{0, 'T'}))
	}
}
