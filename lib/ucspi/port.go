package ucspi

import (
	"bytes"
	"errors"
	"os"
)

// ErrNoPort is a port name /etc/services does not know.
var ErrNoPort = errors.New("ucspi: unknown port")

// servicesFile is read for port names, as getservbyname(3) with "files".
var servicesFile = "/etc/services"

// maxServices caps how much of the services file is read.
const maxServices = 4 << 20

// ParsePort reads a port argument: all decimal digits (including the empty
// string) is the number modulo 65536; anything else is a tcp service name.
func ParsePort(s string) (uint16, error) {
	var n uint16
	digits := true
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			digits = false
			break
		}
		n = n*10 + uint16(s[i]-'0')
	}
	if digits {
		return n, nil
	}
	b, err := readCapped(servicesFile, maxServices)
	if err != nil {
		return 0, ErrNoPort
	}
	if p, ok := LookupService(b, s, "tcp"); ok {
		return p, nil
	}
	return 0, ErrNoPort
}

func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 0, 64<<10)
	for int64(len(buf)) < max {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	return buf, nil
}

// LookupService finds name (or an alias) with protocol proto in the text
// of a services file: "name port/proto alias... # comment". The first
// matching line wins.
func LookupService(text []byte, name, proto string) (uint16, bool) {
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := bytes.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' })
		if len(f) < 2 {
			continue
		}
		slash := bytes.IndexByte(f[1], '/')
		if slash <= 0 || string(f[1][slash+1:]) != proto {
			continue
		}
		port, ok := strictPort(f[1][:slash])
		if !ok {
			continue
		}
		if string(f[0]) == name {
			return port, true
		}
		for _, a := range f[2:] {
			if string(a) == name {
				return port, true
			}
		}
	}
	return 0, false
}

func strictPort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return 0, false
	}
	return uint16(n), true
}
