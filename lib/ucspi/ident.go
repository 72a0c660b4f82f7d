package ucspi

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// maxIdent is where the ident client stops collecting the answer.
const maxIdent = 256

// Ident asks the RFC 1413 server on remote's host (port 113) who owns the
// connection between remote and local, as ucspi-tcp's remoteinfo does: a
// socket bound to local's address, one deadline over connect, write and
// read. Any failure (refused, timeout, EOF before the newline) is an error;
// an answer without a user id is "" and no error.
func Ident(local, remote netip.AddrPort, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	d := net.Dialer{
		LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(local.Addr(), 0)),
		Deadline:  deadline,
	}
	c, err := d.Dial("tcp", netip.AddrPortFrom(remote.Addr(), 113).String())
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	req := strconv.AppendUint(nil, uint64(remote.Port()), 10)
	req = append(req, " , "...)
	req = strconv.AppendUint(req, uint64(local.Port()), 10)
	req = append(req, "\r\n"...)
	if _, err := c.Write(req); err != nil {
		return "", err
	}
	return IdentAnswer(bufio.NewReaderSize(c, 128))
}

// IdentAnswer reads an ident reply up to its newline: spaces, tabs and CRs
// are dropped everywhere, and what follows the third colon is the answer
// ("1 , 2 : USERID : UNIX : joe smith" gives "joesmith"). Collecting stops
// once the answer passes 256 bytes. EOF before the newline is an error.
func IdentAnswer(r io.ByteReader) (string, error) {
	var out []byte
	colons := 0
	for {
		c, err := r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		switch c {
		case ' ', '\t', '\r':
			continue
		case '\n':
			return string(out), nil
		}
		if colons < 3 {
			if c == ':' {
				colons++
			}
			continue
		}
		out = append(out, c)
		if len(out) > maxIdent {
			return string(out), nil
		}
	}
}
