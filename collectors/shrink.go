package collectors

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gpuprice/gpuprice/price"
)

// RegionWalker is implemented by collectors that fetch each region on its
// own (Azure, AWS): one region's answer may come back empty while the
// others are fine, so the Runner guards each region's quote count as well
// as the provider's.
type RegionWalker interface {
	WalksRegions() bool
}

// shrinkGuard keeps a well-formed but sharply smaller answer from
// withdrawing real prices. A provider that answers an empty page for one
// region, or a fraction of its list, has not stopped selling those GPUs;
// more likely it had a bad moment. So an answer whose quote count falls
// below ratio × the last published count (or to zero) is suspect: for a
// RegionWalker region by region, for any other collector as a whole. The
// last published quotes of what shrank are kept, and the refresh is marked
// degraded. A drop that persists for acceptAfter refreshes in a row is
// real, and accepted.
//
// Kept quotes keep their ObservedAt, so a published snapshot may hold
// quotes older than its Time.
//
// It belongs to one refresher and is not safe for concurrent use.
type shrinkGuard struct {
	ratio       float64 // 0: off
	acceptAfter int
	perRegion   bool
	// last is what was published after the previous successful refresh
	// (or loaded from the store at start): the counts an answer is held to.
	last *price.Snapshot
	// runs counts the consecutive suspect refreshes of each region, and of
	// the whole provider under wholeKey.
	runs map[string]int
}

// wholeKey is the runs key of the provider as a whole; no region is named
// "*".
const wholeKey = "*"

func newShrinkGuard(c Collector, s Settings) *shrinkGuard {
	g := &shrinkGuard{ratio: s.MinQuoteRatio, acceptAfter: s.AcceptDropAfter, runs: map[string]int{}}
	if rw, ok := c.(RegionWalker); ok {
		g.perRegion = rw.WalksRegions()
	}
	return g
}

// verdict is the guard's judgement of one answer.
type verdict struct {
	// Published is what to serve and record: the answer, or the answer
	// with the last quotes of what shrank put back.
	Published *price.Snapshot
	// Degraded says what was kept and why; empty when the answer is
	// published as it is.
	Degraded string
	// Accepted says which drop was accepted because it persisted; empty
	// when none.
	Accepted string
}

// judge returns the snapshot to publish for the checked answer snap, and
// remembers it as the next baseline. A RegionWalker's answer is judged
// region by region (one empty region keeps its own last quotes, the others
// are fresh); any other answer as a whole.
func (g *shrinkGuard) judge(snap *price.Snapshot) verdict {
	v := verdict{Published: snap}
	if g.ratio <= 0 || g.acceptAfter <= 1 || g.last == nil || len(g.last.Quotes) == 0 {
		g.last, g.runs = snap, map[string]int{}
		return v
	}
	if g.perRegion {
		v = g.judgeRegions(snap, g.last)
	} else if n, was := len(snap.Quotes), len(g.last.Quotes); g.shrank(n, was) {
		why := fmt.Sprintf("%d quotes, the last good refresh had %d", n, was)
		if g.suspect(wholeKey) {
			kept := *g.last
			kept.Time = snap.Time
			v.Published = &kept
			v.Degraded = fmt.Sprintf("%s (below %g%%): the last good quotes are kept (suspect refresh %d of %d)",
				why, g.ratio*100, g.runs[wholeKey], g.acceptAfter)
		} else {
			v.Accepted = why
		}
	} else {
		delete(g.runs, wholeKey)
	}
	g.last = v.Published
	return v
}

// judgeRegions puts back the last quotes, markets and offers of each
// region whose answer shrank, until its drop has persisted.
func (g *shrinkGuard) judgeRegions(snap, last *price.Snapshot) verdict {
	v := verdict{Published: snap}
	now, was := countRegions(snap.Quotes), countRegions(last.Quotes)
	var kept, accepted []string
	keep := map[string]bool{}
	for _, r := range slices.Sorted(maps.Keys(was)) {
		if !g.shrank(now[r], was[r]) {
			delete(g.runs, r)
			continue
		}
		desc := fmt.Sprintf("%s (%d of %d)", regionName(r), now[r], was[r])
		if g.suspect(r) {
			keep[r] = true
			kept = append(kept, desc)
		} else {
			accepted = append(accepted, desc)
		}
	}
	for r := range g.runs { // regions gone from the baseline: nothing to count
		if _, ok := was[r]; !ok {
			delete(g.runs, r)
		}
	}
	if len(accepted) > 0 {
		v.Accepted = "regions " + list(accepted)
	}
	if len(kept) == 0 {
		return v
	}
	out := *snap
	out.Quotes = mergeRegions(snap.Quotes, last.Quotes, keep, func(q *price.Quote) string { return q.Region })
	out.Markets = mergeRegions(snap.Markets, last.Markets, keep, func(m *price.Market) string { return m.Region })
	out.Offers = mergeRegions(snap.Offers, last.Offers, keep, func(o *price.Offer) string { return o.Region })
	v.Published = &out
	v.Degraded = fmt.Sprintf("regions %s below %g%% of the last good refresh: their last good quotes are kept (until a drop lasts %d refreshes)",
		list(kept), g.ratio*100, g.acceptAfter)
	return v
}

// shrank reports whether a count of n against was is suspect: below the
// ratio, or down to zero.
func (g *shrinkGuard) shrank(n, was int) bool {
	return was > 0 && (n == 0 || float64(n) < g.ratio*float64(was))
}

// suspect counts one more suspect refresh of key and reports whether its
// drop is still to be doubted (not yet acceptAfter in a row); an accepted
// drop starts its count again.
func (g *shrinkGuard) suspect(key string) bool {
	g.runs[key]++
	if g.runs[key] >= g.acceptAfter {
		delete(g.runs, key)
		return false
	}
	return true
}

func countRegions(qs []price.Quote) map[string]int {
	m := map[string]int{}
	for i := range qs {
		m[qs[i].Region]++
	}
	return m
}

// mergeRegions returns now's items outside keep, then last's items inside
// keep.
func mergeRegions[T any](now, last []T, keep map[string]bool, region func(*T) string) []T {
	out := make([]T, 0, len(now))
	for i := range now {
		if !keep[region(&now[i])] {
			out = append(out, now[i])
		}
	}
	for i := range last {
		if keep[region(&last[i])] {
			out = append(out, last[i])
		}
	}
	return out
}

func regionName(r string) string {
	if r == "" {
		return `""`
	}
	return r
}

// list joins descriptions, naming at most five.
func list(items []string) string {
	if len(items) > 5 {
		return strings.Join(items[:5], ", ") + fmt.Sprintf(" and %d more", len(items)-5)
	}
	return strings.Join(items, ", ")
}
