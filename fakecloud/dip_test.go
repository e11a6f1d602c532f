package fakecloud

import (
	"testing"
	"time"
)

// TestDriftDip: with Tick 10s, Dip 60s and Origin at 12:00:05, the dips are
// the ticks starting in [12:00:35, 12:01:05), [12:01:35, 12:02:05), ...:
// ticks start on multiples of 10s, so the first dipped tick is 12:00:40
// and the first normal one after it 12:01:10.
func TestDriftDip(t *testing.T) {
	origin := time.Date(2026, 11, 27, 12, 0, 5, 0, time.UTC)
	cases := []struct {
		name string
		at   time.Time
		dip  bool
	}{
		{"before origin", origin.Add(-time.Hour), false},
		{"first half", origin.Add(20 * time.Second), false},
		{"tick started before the dip", origin.Add(34 * time.Second), false},
		{"dip begins at the next tick", origin.Add(35 * time.Second), true},
		{"in the dip", origin.Add(55 * time.Second), true},
		{"last dipped tick", origin.Add(64 * time.Second), true},
		{"recovered", origin.Add(65 * time.Second), false},
		{"second period's dip", origin.Add(96 * time.Second), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := c.at
			clock := func() time.Time { return at }
			plain := Drift{Tick: 10 * time.Second, Now: clock}
			dipped := plain
			dipped.Dip, dipped.Origin = time.Minute, origin
			want := plain.Apply("item", 10)
			if c.dip {
				want = plain.Apply("item", 10*DipFactor)
			}
			if got := dipped.Apply("item", 10); got != want {
				t.Errorf("at %s: %v, want %v (dip %v)", at.Format(time.TimeOnly), got, want, c.dip)
			}
		})
	}
	if got := (Drift{Dip: time.Minute, Origin: origin}).Apply("item", 10); got != 10 {
		t.Errorf("dip without tick: %v, want the price unchanged", got)
	}
}
