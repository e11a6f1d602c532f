package collectors

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// regionQuotes returns n quotes in each region of counts.
func regionQuotes(counts map[string]int) *price.Snapshot {
	snap := &price.Snapshot{Time: time.Now()}
	for r, n := range counts {
		for i := 0; i < n; i++ {
			q := quote(fmt.Sprintf("%s-%d", r, i), 1, 1)
			q.Region = r
			snap.Quotes = append(snap.Quotes, q)
		}
	}
	return snap
}

func byRegion(s *price.Snapshot) map[string]int { return countRegions(s.Quotes) }

func TestShrinkGuard(t *testing.T) {
	type step struct {
		answer   map[string]int
		publish  map[string]int // counts of what is published
		degraded string         // substring of Degraded; "" means not degraded
		accepted string         // substring of Accepted
	}
	full := map[string]int{"a": 10, "b": 10}
	tests := []struct {
		name      string
		perRegion bool
		ratio     float64
		after     int
		steps     []step
	}{
		{"provider shrinks once, recovers", false, 0.5, 3, []step{
			{answer: full, publish: full},
			{answer: map[string]int{"a": 9}, publish: full, degraded: "9 quotes, the last good refresh had 20 (below 50%): the last good quotes are kept (suspect refresh 1 of 3)"},
			{answer: full, publish: full},
		}},
		{"a drop that persists is accepted at the third refresh", false, 0.5, 3, []step{
			{answer: full, publish: full},
			{answer: map[string]int{"a": 2}, publish: full, degraded: "refresh 1 of 3"},
			{answer: map[string]int{"a": 2}, publish: full, degraded: "refresh 2 of 3"},
			{answer: map[string]int{"a": 2}, publish: map[string]int{"a": 2}, accepted: "2 quotes, the last good refresh had 20"},
			{answer: map[string]int{"a": 2}, publish: map[string]int{"a": 2}}, // the new baseline
		}},
		{"half is not below half", false, 0.5, 3, []step{
			{answer: full, publish: full},
			{answer: map[string]int{"a": 10}, publish: map[string]int{"a": 10}},
		}},
		{"one region empty, per region", true, 0.5, 3, []step{
			{answer: full, publish: full},
			{answer: map[string]int{"b": 11}, publish: map[string]int{"a": 10, "b": 11}, degraded: "regions a (0 of 10) below 50% of the last good refresh"},
			{answer: map[string]int{"a": 10, "b": 11}, publish: map[string]int{"a": 10, "b": 11}},
		}},
		{"a region shrinking by half keeps its own quotes only", true, 0.5, 2, []step{
			{answer: full, publish: full},
			{answer: map[string]int{"a": 4, "b": 10}, publish: full, degraded: "regions a (4 of 10)"},
			{answer: map[string]int{"a": 4, "b": 10}, publish: map[string]int{"a": 4, "b": 10}, accepted: "regions a (4 of 10)"},
		}},
		{"regions failing in turn never add up to an accepted drop", true, 0.5, 2, []step{
			{answer: full, publish: full},
			{answer: map[string]int{"b": 10}, publish: full, degraded: "regions a (0 of 10)"},
			{answer: map[string]int{"a": 10}, publish: full, degraded: "regions b (0 of 10)"},
			{answer: map[string]int{"b": 10}, publish: full, degraded: "regions a (0 of 10)"},
		}},
		{"off: accept at once", false, 0.5, 1, []step{
			{answer: full, publish: full},
			{answer: map[string]int{"a": 1}, publish: map[string]int{"a": 1}},
		}},
		{"off: no ratio", true, 0, 3, []step{
			{answer: full, publish: full},
			{answer: map[string]int{"a": 1}, publish: map[string]int{"a": 1}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &shrinkGuard{ratio: tt.ratio, acceptAfter: tt.after, perRegion: tt.perRegion, runs: map[string]int{}}
			for i, s := range tt.steps {
				v := g.judge(regionQuotes(s.answer))
				if got := byRegion(v.Published); fmt.Sprint(got) != fmt.Sprint(s.publish) {
					t.Errorf("step %d: published %v, want %v", i, got, s.publish)
				}
				if (s.degraded == "") != (v.Degraded == "") || !strings.Contains(v.Degraded, s.degraded) {
					t.Errorf("step %d: degraded %q, want %q", i, v.Degraded, s.degraded)
				}
				if (s.accepted == "") != (v.Accepted == "") || !strings.Contains(v.Accepted, s.accepted) {
					t.Errorf("step %d: accepted %q, want %q", i, v.Accepted, s.accepted)
				}
			}
		})
	}
}

// TestShrinkAfterRestart: the prices loaded from the store are the
// baseline of the first answer, so an empty-ish first answer after a
// restart withdraws nothing either; the provider shows as degraded.
func TestShrinkAfterRestart(t *testing.T) {
	c := &funcCollector{name: "p", collect: func(context.Context) (*price.Snapshot, error) {
		return regionQuotes(map[string]int{"eastus": 1}), nil
	}}
	s := fastSettings()
	s.Interval, s.MinQuoteRatio, s.AcceptDropAfter = time.Hour, 0.5, 3
	rec := &memRecorder{}
	r := NewRunner(quietLogger(), rec, nil)
	seed := regionQuotes(map[string]int{"eastus": 8})
	seed.Provider, seed.Time = "p", time.Now().Add(-time.Minute)
	r.Seed([]*price.Snapshot{seed})
	r.Apply([]Job{{Collector: c, Settings: s}})
	defer r.Stop()
	waitFor(t, "first refresh", func() bool { return stateOf(r, "p").Attempts > 0 })
	st := stateOf(r, "p")
	if !st.Success || len(st.Snapshot.Quotes) != 8 || !strings.HasPrefix(st.Degraded, "1 quotes, the last good refresh had 8") {
		t.Errorf("success %v, %d quotes served, degraded %q", st.Success, len(st.Snapshot.Quotes), st.Degraded)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if p := rec.polls[0]; !p.OK || p.Quotes != 1 || !strings.HasPrefix(p.Error, "degraded: 1 quotes") {
		t.Errorf("poll %+v", p)
	}
	if rd := ReadinessOf(r.States()); !rd.Ready || len(rd.Failing) != 1 || !strings.HasPrefix(rd.Failing[0], "p: degraded: 1 quotes") {
		t.Errorf("readiness %+v", rd)
	}
}
