package collectors

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// Rows a collector could not read are counted under its reason, like
// rejected quotes, without failing a refresh that has good quotes.
func TestCheckCountsSkippedRows(t *testing.T) {
	in := snapshot(quote("ok", 8, 8), quote("zero", 0, 8))
	in.Skip(price.SkippedInvalid, 3)
	in.Skip(price.SkippedInvalid, 0) // nothing to count
	snap, rejected, rejectedQuotes := testChecker(quietLogger(), false).check(in, time.Now())
	if len(snap.Quotes) != 1 {
		t.Fatalf("kept %d quotes, want 1", len(snap.Quotes))
	}
	want := map[string]int{"zero_price": 1, price.SkippedInvalid: 3}
	if !maps.Equal(rejected, want) || rejectedQuotes != 1 {
		t.Errorf("rejected %v (%d quotes), want %v (1 quote)", rejected, rejectedQuotes, want)
	}
}

// A published State names the distinct unknown raw GPU names of its
// snapshot, for /api/v1/providers and gpuprice_collector_unknown_gpu_names,
// and forgets them with the snapshot.
func TestStateNamesUnknownGPUs(t *testing.T) {
	unknown := func(it, raw string) price.Quote {
		q := quote(it, 1, 1)
		q.GPUModel, q.GPURaw = price.Unknown, raw
		return q
	}
	snap := snapshot(quote("known", 1, 1), unknown("a", "Mystery 9000"), unknown("b", "CMP 170HX"), unknown("c", "Mystery 9000"))
	p := newPublisher(quietLogger(), func() {}, 50*time.Millisecond, &State{Provider: "p", Errors: map[string]uint64{}})
	defer p.stop()
	p.succeeded(outcome{Start: time.Now(), End: time.Now(), Snapshot: snap})
	st := p.load()
	if want := []string{"CMP 170HX", "Mystery 9000"}; st.UnknownGPUs != 3 || !slices.Equal(st.UnknownGPUNames, want) {
		t.Errorf("unknown GPUs %d %q, want 3 %q", st.UnknownGPUs, st.UnknownGPUNames, want)
	}
	waitFor(t, "withdrawal", func() bool { return p.load().Stale })
	if st := p.load(); st.UnknownGPUs != 0 || st.UnknownGPUNames != nil {
		t.Errorf("after withdrawal: unknown GPUs %d %q, want none", st.UnknownGPUs, st.UnknownGPUNames)
	}
}

// TestObservedServesLikeASuccess: another replica's refresh, observed,
// is served with everything derived from it (unknown GPU names), and
// clears this replica's suspicion of its own last answer.
func TestObservedServesLikeASuccess(t *testing.T) {
	p := newPublisher(quietLogger(), func() {}, time.Hour, &State{Provider: "p", Errors: map[string]uint64{}})
	defer p.stop()
	p.succeeded(outcome{Start: time.Now(), End: time.Now().Add(-time.Minute), Snapshot: snapshot(quote("a", 1, 1)), Degraded: "suspect"})
	q := quote("b", 1, 1)
	q.GPUModel, q.GPURaw = price.Unknown, "Mystery 9000"
	snap := snapshot(q)
	snap.Time = time.Now()
	p.observed(snap, "replica-b")
	st := p.load()
	if st.Snapshot != snap || st.Holder != "replica-b" || st.Degraded != "" ||
		st.UnknownGPUs != 1 || !slices.Equal(st.UnknownGPUNames, []string{"Mystery 9000"}) {
		t.Errorf("after observing: %+v", st)
	}
}
