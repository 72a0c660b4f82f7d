package harness

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// claimPort is where Loopback holds a listener on each address it hands
// out: a port below the kernel's ephemeral range (so no bind to port 0
// takes it) that no test serves on.
const claimPort = 32767

// Loopback is an address of the test's own in 127.0.0.0/8, for a program
// that binds a port it is told (an ident server on 113, a service set up
// with env/PORT): two suites running at once, or two parallel tests, never
// bind the same address and port. The address is claimed for the test's
// life by a listener on claimPort there, so that a second claim of the same
// address, by this process or another, fails and draws again. 127.0.0.0/16
// is left to the tests that name addresses.
func Loopback(t testing.TB) string {
	t.Helper()
	for try := 0; try < 100; try++ {
		ip := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(254), rand.IntN(256), 1+rand.IntN(254))
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(claimPort)))
		if err != nil {
			continue
		}
		t.Cleanup(func() { l.Close() })
		return ip
	}
	t.Fatalf("no loopback address could be claimed (port %d)", claimPort)
	return ""
}

// FixedPort is a port free on ip for a program that must be told which
// port to bind. It lies below the kernel's ephemeral range, so that no bind
// to port 0 and no outgoing connection (of any program) takes it before the
// program binds it. On an address from Loopback no other test binds it
// either: only a program binding that very port on every address could
// still take it. On a shared address (127.0.0.1) another test drawing the
// same port can: the caller must see that and draw again.
func FixedPort(t testing.TB, ip string) int {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	if low <= 2048 {
		t.Fatalf("the ephemeral port range starts at %d: no port below it to choose", low)
	}
	for try := 0; try < 100; try++ {
		p := 1024 + rand.IntN(low-1024)
		if p == claimPort {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatalf("no free port below %d on %s", low, ip)
	return 0
}
