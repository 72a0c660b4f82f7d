package rules

// Describe is tcprulescheck's report of a lookup: "rule KEY:", one line per
// variable up to a deny, then the verdict; "default:" when nothing matched.
func Describe(key string, data []byte, found bool) []byte {
	if !found {
		return []byte("default:\nallow connection\n")
	}
	b := make([]byte, 0, 64+len(key)+2*len(data))
	b = append(b, "rule "...)
	b = append(b, key...)
	b = append(b, ":\n"...)
	deny, env := Decode(data)
	for _, v := range env {
		b = append(b, "set environment variable "...)
		b = append(b, v.Name...)
		if v.HasValue {
			b = append(b, '=')
			b = append(b, v.Value...)
		}
		b = append(b, '\n')
	}
	if deny {
		return append(b, "deny connection\n"...)
	}
	return append(b, "allow connection\n"...)
}
