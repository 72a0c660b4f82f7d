// smtpload is bench/smtpd.sh's load client for what smtp-source cannot
// do: the connection floor (connect, read the greeting, close), the
// connect-to-greeting latency, qmail-smtpd's RSS, and checking that every
// message smtp-source sent is in the Maildir.
//
//	smtpload freeport
//	smtpload greet CONC N ADDR          -> "<conns/s> <median latency ms>"
//	smtpload rss TCPSERVERPID N ADDR    -> "<VmHWM kB>" after N messages in one session
//	smtpload verify MAILDIR N FROM RCPT -> checks and removes N messages, exit 1 on a mismatch
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func fatal(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "smtpload: "+f+"\n", a...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 2 {
		fatal("usage: smtpload freeport|greet|rss|verify ...")
	}
	switch os.Args[1] {
	case "freeport":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fatal("%v", err)
		}
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
		l.Close()
	case "greet":
		greet(atoi(arg(2)), atoi(arg(3)), arg(4))
	case "rss":
		rss(atoi(arg(2)), atoi(arg(3)), arg(4))
	case "verify":
		verify(arg(2), atoi(arg(3)), arg(4), arg(5))
	default:
		fatal("unknown mode %s", os.Args[1])
	}
}

func arg(i int) string {
	if i >= len(os.Args) {
		fatal("missing argument %d", i)
	}
	return os.Args[i]
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fatal("bad number %q", s)
	}
	return n
}

// greet opens n connections, conc at a time, each reading the greeting
// line and closing; prints the connection rate and the median latency
// from connect() to the greeting's end.
func greet(conc, n int, addr string) {
	lat := make([]time.Duration, n)
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 512)
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				t0 := time.Now()
				c, err := net.DialTimeout("tcp", addr, 10*time.Second)
				if err != nil {
					fatal("dial: %v", err)
				}
				c.SetDeadline(time.Now().Add(10 * time.Second))
				got := 0
				for !bytes.Contains(buf[:got], []byte("\n")) {
					k, err := c.Read(buf[got:])
					if err != nil {
						fatal("greeting: %v after %q", err, buf[:got])
					}
					got += k
				}
				lat[i] = time.Since(t0)
				if !bytes.HasPrefix(buf, []byte("220 ")) {
					fatal("greeting %q", buf[:got])
				}
				c.Close()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	fmt.Printf("%.1f %.3f\n", float64(n)/el.Seconds(), float64(lat[n/2])/1e6)
}

// rss sends n 1 KiB messages in one session and prints the VmHWM of the
// qmail-smtpd serving it (tcpserver's only child) before QUIT.
func rss(server, n int, addr string) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		fatal("dial: %v", err)
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(c)
	line := func() string {
		l, err := r.ReadString('\n')
		if err != nil {
			fatal("read: %v", err)
		}
		return l
	}
	line()
	body := strings.Repeat(strings.Repeat("x", 62)+"\r\n", 16)
	for i := 0; i < n; i++ {
		fmt.Fprintf(c, "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
		line()
		line()
		line()
		fmt.Fprintf(c, "%s.\r\n", body)
		if l := line(); !strings.HasPrefix(l, "250 ok ") {
			fatal("reply %q", l)
		}
	}
	kids := children(server)
	if len(kids) != 1 {
		fatal("tcpserver has %d children", len(kids))
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", kids[0]))
	m := regexp.MustCompile(`VmHWM:\s+([0-9]+)`).FindSubmatch(b)
	if m == nil {
		fatal("no VmHWM")
	}
	fmt.Fprintf(c, "QUIT\r\n")
	line()
	fmt.Println(string(m[1]))
}

func children(pid int) []int {
	var pids []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		for _, f := range strings.Fields(string(b)) {
			if p, err := strconv.Atoi(f); err == nil {
				pids = append(pids, p)
			}
		}
	}
	return pids
}

var head = regexp.MustCompile(`^Received: \(qmail [0-9]+ invoked by uid [0-9]+\); [^\n]+ -0000\nReturn-Path: <([^>\n]*)>\nDelivered-To: ([^\n]*)\nReceived: from [^\n]*\n  by [^\n]* with SMTP; [^\n]*\n`)

// verify checks that new/ holds exactly n complete messages from smtp-source
// with the given envelope, then removes them for the next round.
func verify(dir string, n int, from, rcpt string) {
	ents, err := os.ReadDir(dir + "/new")
	if err != nil {
		fatal("%v", err)
	}
	if len(ents) != n {
		fatal("%s/new holds %d messages, want %d", dir, len(ents), n)
	}
	for _, e := range ents {
		p := dir + "/new/" + e.Name()
		b, err := os.ReadFile(p)
		if err != nil {
			fatal("%v", err)
		}
		m := head.FindSubmatch(b)
		if m == nil || string(m[1]) != from || string(m[2]) != rcpt {
			fatal("%s: bad header %q", p, b[:min(len(b), 300)])
		}
		if len(b)-len(m[0]) < 1024 || b[len(b)-1] != '\n' || bytes.IndexByte(b, '\r') >= 0 {
			fatal("%s: bad body (%d bytes)", p, len(b)-len(m[0]))
		}
		os.Remove(p)
	}
	if t, _ := os.ReadDir(dir + "/tmp"); len(t) != 0 {
		fatal("%s/tmp holds %d files", dir, len(t))
	}
}
