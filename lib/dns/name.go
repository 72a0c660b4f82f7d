package dns

import (
	"golang.org/x/sys/unix"

	"tinymx/lib/ascii"
)

// maxName is the longest wire-format domain name (RFC 1035), counting the
// root label.
const maxName = 255

// fromDot turns a dotted name into wire format the way djb's
// dns_domain_fromdot does: empty labels vanish, "\ooo" octal escapes and
// "\c" escapes are taken literally, a label over 63 bytes or a name over
// 255 bytes is a protocol error.
func fromDot(s string) ([]byte, error) {
	name := make([]byte, 0, 64)
	var label []byte
	flush := func() bool {
		if len(label) == 0 {
			return true
		}
		if len(name)+len(label)+1 > maxName {
			return false
		}
		name = append(name, byte(len(label)))
		name = append(name, label...)
		label = label[:0]
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		i++
		if c == '.' {
			if !flush() {
				return nil, unix.EPROTO
			}
			continue
		}
		if c == '\\' {
			if i >= len(s) {
				break
			}
			c = s[i]
			i++
			if c >= '0' && c <= '7' {
				c -= '0'
				for k := 0; k < 2 && i < len(s) && s[i] >= '0' && s[i] <= '7'; k++ {
					c = c<<3 + (s[i] - '0')
					i++
				}
			}
		}
		if len(label) >= 63 {
			return nil, unix.EPROTO
		}
		label = append(label, c)
	}
	if !flush() || len(name)+1 > maxName {
		return nil, unix.EPROTO
	}
	return append(name, 0), nil
}

// toDot renders a wire-format name as djb's dns_domain_todot_cat: lower
// case, letters, digits, '-' and '_' kept, every other byte as "\ooo";
// the root is ".".
func toDot(d []byte) string {
	if len(d) == 0 || d[0] == 0 {
		return "."
	}
	out := make([]byte, 0, len(d))
	for i := 0; i < len(d) && d[i] != 0; {
		n := int(d[i])
		i++
		if len(out) > 0 {
			out = append(out, '.')
		}
		for ; n > 0 && i < len(d); n-- {
			c := ascii.Lower(d[i])
			i++
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
				out = append(out, c)
			} else {
				out = append(out, '\\', '0'+(c>>6)&7, '0'+(c>>3)&7, '0'+c&7)
			}
		}
	}
	return string(out)
}

// nameLen is the length of a well-formed wire name including its root byte.
func nameLen(d []byte) int {
	i := 0
	for i < len(d) && d[i] != 0 {
		i += int(d[i]) + 1
	}
	return i + 1
}

// nameEqual compares two wire names ignoring ASCII case. Length bytes are
// below 64, so folding them is harmless.
func nameEqual(a, b []byte) bool {
	la, lb := nameLen(a), nameLen(b)
	if la != lb || la > len(a) || lb > len(b) {
		return false
	}
	return ascii.EqualFold(a[:la], b[:lb])
}
