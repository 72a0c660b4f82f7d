// Package getopt parses options the way djb's sgetopt does: bundled flags
// (-vRHl0), attached or separate values (-c40, -c 40), any word starting
// with "--" ends the options and is dropped ("--x" as "--"), and scanning stops at the first operand or at a lone "-". There is no
// permutation, unlike Go's flag package and GNU getopt.
package getopt

// Opt is one option as it appeared on the command line.
type Opt struct {
	Letter byte
	Arg    string // the value for options that take one
}

// Error is an option the program does not know, or one missing its value.
type Error struct {
	Letter  byte
	Missing bool
}

func (e *Error) Error() string {
	if e.Missing {
		return "option requires an argument -- " + string(e.Letter)
	}
	return "illegal option -- " + string(e.Letter)
}

// Parse reads options from args (argv without argv[0]) according to spec,
// where a letter followed by ':' takes a value. It returns the options in
// command-line order and the operands that follow them.
func Parse(args []string, spec string) ([]Opt, []string, error) {
	var opts []Opt
	i := 0
	for i < len(args) {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			break
		}
		if a[1] == '-' {
			// sgetopt ends the options at any word starting with "--"
			// and drops it: "--x" is eaten like "--"
			i++
			break
		}
		i++
		for j := 1; j < len(a); j++ {
			c := a[j]
			takes, known := lookup(spec, c)
			if !known {
				return opts, args[i:], &Error{Letter: c}
			}
			if !takes {
				opts = append(opts, Opt{Letter: c})
				continue
			}
			if j+1 < len(a) {
				opts = append(opts, Opt{Letter: c, Arg: a[j+1:]})
			} else if i < len(args) {
				opts = append(opts, Opt{Letter: c, Arg: args[i]})
				i++
			} else {
				return opts, args[i:], &Error{Letter: c, Missing: true}
			}
			break
		}
	}
	return opts, args[i:], nil
}

// lookup reports whether c is in spec and whether it takes a value.
func lookup(spec string, c byte) (takes, known bool) {
	if c == ':' {
		return false, false
	}
	for k := 0; k < len(spec); k++ {
		if spec[k] == c {
			return k+1 < len(spec) && spec[k+1] == ':', true
		}
	}
	return false, false
}
