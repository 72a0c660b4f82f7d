package qmailqueue

import (
	"testing"
	"time"
)

func TestDate822IsQmailFormatInUTC(t *testing.T) {
	cases := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 1, 5, 9, 3, 7, 0, time.UTC), "5 Jan 2025 09:03:07 -0000"},
		{time.Date(1999, 12, 31, 23, 59, 59, 999, time.UTC), "31 Dec 1999 23:59:59 -0000"},
		{time.Date(2025, 1, 5, 9, 3, 7, 0, time.FixedZone("x", 3600)), "5 Jan 2025 08:03:07 -0000"},
	}
	for _, c := range cases {
		if got := string(AppendDate822(nil, c.t)); got != c.want {
			t.Errorf("AppendDate822(%v) = %q, want %q", c.t, got, c.want)
		}
	}
}

func TestReceivedLineIsQmailQueuesOwn(t *testing.T) {
	got := string(AppendReceived(nil, time.Date(2025, 1, 5, 9, 3, 7, 0, time.UTC), 4321, 77))
	want := "Received: (qmail 4321 invoked by uid 77); 5 Jan 2025 09:03:07 -0000\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
