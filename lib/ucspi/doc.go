// Package ucspi is the UCSPI-TCP side of tcpserver and tcpclient: Server
// and Client, each the program once its options are read. The server's
// phases have a file each (accept.go, prepare.go, spawn.go, handover.go)
// so that a server that runs no program per connection can take the
// preparation (Prepare) without the spawning: qmail-smtpd-server sets
// Server.Session, and session.go serves each connection in the process
// with the same limits and log lines. Addresses (addr.go), the
// TCP* environment (environ.go) and the log lines (log.go) are written in
// one place for both programs.
package ucspi
