package ucspi

import (
	"errors"
	"testing"
)

// A bug in the preparation of one connection of a Session server fails
// that connection, not the process.
func TestPrepareRecoveringTurnsAPanicIntoAStepError(t *testing.T) {
	s := NewServer("test")
	s.Verbosity = Quiet
	_, err := s.prepareRecovering(nil) // Prepare dereferences it
	var se *stepError
	if !errors.As(err, &se) || se.what != "unable to prepare connection" {
		t.Fatalf("err %v, want the connection's failure", err)
	}
}
