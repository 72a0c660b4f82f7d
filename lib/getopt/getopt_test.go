package getopt

import (
	"reflect"
	"testing"
)

func TestBundledFlagsAndAttachedValues(t *testing.T) {
	opts, rest, err := Parse([]string{"-vRHl0", "-c40", "-x", "tcp.cdb", "0", "25", "-v"}, "vRHl:c:x:")
	if err != nil {
		t.Fatal(err)
	}
	want := []Opt{{'v', ""}, {'R', ""}, {'H', ""}, {'l', "0"}, {'c', "40"}, {'x', "tcp.cdb"}}
	if !reflect.DeepEqual(opts, want) {
		t.Fatalf("opts %v", opts)
	}
	if !reflect.DeepEqual(rest, []string{"0", "25", "-v"}) {
		t.Fatalf("rest %v", rest)
	}
}

func TestDoubleDashEndsOptionsAndLoneDashIsOperand(t *testing.T) {
	_, rest, _ := Parse([]string{"-v", "--", "-x"}, "vx")
	if !reflect.DeepEqual(rest, []string{"-x"}) {
		t.Fatalf("rest %v", rest)
	}
	_, rest, _ = Parse([]string{"-v", "--x", "-x"}, "vx")
	if !reflect.DeepEqual(rest, []string{"-x"}) {
		t.Fatalf("--x not eaten like --: rest %v", rest)
	}
	_, rest, _ = Parse([]string{"-", "-v"}, "v")
	if !reflect.DeepEqual(rest, []string{"-", "-v"}) {
		t.Fatalf("rest %v", rest)
	}
}

func TestErrorsReadAsSgetopt(t *testing.T) {
	_, _, err := Parse([]string{"-C"}, "c:")
	if err == nil || err.Error() != "illegal option -- C" {
		t.Fatalf("err %v", err)
	}
	_, _, err = Parse([]string{"-c"}, "c:")
	if err == nil || err.Error() != "option requires an argument -- c" {
		t.Fatalf("err %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("-vRHl0\x00-c40\x00x\x00--")
	f.Fuzz(func(t *testing.T, s string) {
		var args []string
		start := 0
		for i := 0; i < len(s); i++ {
			if s[i] == 0 {
				args = append(args, s[start:i])
				start = i + 1
			}
		}
		args = append(args, s[start:])
		opts, rest, _ := Parse(args, "vRHl:c:x:")
		if len(rest) > len(args) || len(opts) > len(s)+1 {
			t.Fatal("bad result")
		}
	})
}
