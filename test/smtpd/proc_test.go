package smtpd_test

import (
	"os"
	"strconv"
	"strings"
)

// queueProgram returns the pid of a maildir-queue run by this stack's
// qmail-smtpd processes (a grandchild of its tcpserver), or 0. A
// maildir-queue killed with qmail-smtpd is reparented, so orphans whose
// environment names this stack's Maildir count too.
func (s *stack) queueProgram() int {
	for _, p := range s.children() {
		for _, c := range childrenOf(p) {
			if comm(c) == "maildir-queue" {
				return c
			}
		}
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || comm(pid) != "maildir-queue" {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		for _, kv := range strings.Split(string(env), "\x00") {
			if kv == "MAILDIRQUEUE="+s.maildir {
				return pid
			}
		}
	}
	return 0
}

func comm(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(b))
}

func childrenOf(pid int) []int {
	var pids []int
	tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	for _, task := range tasks {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			if p, err := strconv.Atoi(f); err == nil {
				pids = append(pids, p)
			}
		}
	}
	return pids
}
