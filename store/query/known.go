package query

import (
	"context"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/gpuprice/gpuprice/store"
)

// DefaultStaleAfter is a provider's staleness when its poll log has fewer
// than two refreshes to measure an interval from: 3 × the longest default
// interval (1h).
const DefaultStaleAfter = 3 * time.Hour

// Lookback is how far before a window's start the poll log is read, to
// find the refreshes that vouch for the prices in effect at the start.
const Lookback = 7 * 24 * time.Hour

// Known says, per provider, when the poll log vouches for its prices: the
// rule of the package comment. A nil *Known knows no log: every price
// holds until its series' next point.
type Known struct {
	providers map[string]*providerLog
}

// providerLog is one provider's poll log, reduced to what the rule needs.
type providerLog struct {
	staleAfter int64 // X, ms
	// first is when the first logged refresh ended: before it there is
	// no log, and points hold until the next one.
	first int64
	// spans are the merged intervals [from, to) that successful
	// refreshes vouch for: [end, end+X) for each.
	spans []span
}

type span struct{ from, to int64 }

// NewKnown reduces a poll log (any order, several providers) to the rule.
// staleAfter, when positive, is X for every provider; else each provider's
// X is 3 × the median spacing of its refreshes.
func NewKnown(polls []store.Poll, staleAfter time.Duration) *Known {
	b := newKnownBuilder(staleAfter)
	for i := range polls {
		b.add(&polls[i])
	}
	return b.known()
}

// knownBuilder collects what the rule needs of a poll log, 16 bytes a
// refresh, so that the log itself can be read a chunk at a time.
type knownBuilder struct {
	override  time.Duration
	providers map[string]*pollTimes
}

// pollTimes are one provider's successful refresh starts and ends, in unix
// ms. Only successful refreshes count for the spacing: retries after
// failures come faster than the interval and would shrink the staleness.
type pollTimes struct {
	starts, okEnds []int64
	first          int64 // the earliest end
}

func newKnownBuilder(staleAfter time.Duration) *knownBuilder {
	return &knownBuilder{override: staleAfter, providers: map[string]*pollTimes{}}
}

func (b *knownBuilder) add(p *store.Poll) {
	b.addTimes(p.Provider, p.Start.UnixMilli(), p.End().UnixMilli(), p.OK)
}

// addTimes adds a refresh of provider from start to end (unix ms).
func (b *knownBuilder) addTimes(provider string, start, end int64, ok bool) {
	pt := b.providers[provider]
	if pt == nil {
		pt = &pollTimes{first: math.MaxInt64}
		b.providers[provider] = pt
	}
	pt.first = min(pt.first, end)
	if ok {
		pt.starts = append(pt.starts, start)
		pt.okEnds = append(pt.okEnds, end)
	}
}

func (b *knownBuilder) known() *Known {
	k := &Known{providers: make(map[string]*providerLog, len(b.providers))}
	for name, pt := range b.providers {
		x := b.override
		if x <= 0 {
			x = 3 * medianSpacing(pt.starts)
		}
		x = max(x, time.Millisecond)
		pl := &providerLog{staleAfter: x.Milliseconds(), first: pt.first}
		slices.Sort(pt.okEnds)
		for _, end := range pt.okEnds {
			pl.spans = append(pl.spans, span{end, satAdd(end, pl.staleAfter)})
		}
		pl.spans = mergeSpans(pl.spans)
		k.providers[name] = pl
	}
	return k
}

// LoadKnown reads the poll log of [start-Lookback, end] from src (all of
// it before end when start is zero) and reduces it with NewKnown. The log
// is read a Lookback at a time, so that memory grows by 16 bytes a
// refresh, not by a whole store.Poll.
func LoadKnown(ctx context.Context, src Source, start, end time.Time, staleAfter time.Duration) (*Known, error) {
	b := newKnownBuilder(staleAfter)
	read := func(from, to time.Time) error { return store.PollTimes(ctx, src, from, to, b.addTimes) }
	if start.IsZero() || end.IsZero() {
		from := start
		if !from.IsZero() {
			from = from.Add(-Lookback)
		}
		if err := read(from, end); err != nil {
			return nil, err
		}
		return b.known(), nil
	}
	// Polls' bounds are inclusive: each chunk ends a millisecond (the
	// store's resolution) before the next begins.
	for from := start.Add(-Lookback); !from.After(end); from = from.Add(Lookback) {
		to := from.Add(Lookback - time.Millisecond)
		if to.After(end) {
			to = end
		}
		if err := read(from, to); err != nil {
			return nil, err
		}
	}
	return b.known(), nil
}

// medianSpacing is the median time between consecutive refresh starts
// (sorting starts), or DefaultStaleAfter/3 with fewer than two refreshes.
func medianSpacing(starts []int64) time.Duration {
	if len(starts) < 2 {
		return DefaultStaleAfter / 3
	}
	slices.Sort(starts)
	d := make([]int64, len(starts)-1)
	for i := 1; i < len(starts); i++ {
		d[i-1] = starts[i] - starts[i-1]
	}
	slices.Sort(d)
	return time.Duration(d[len(d)/2]) * time.Millisecond
}

func mergeSpans(ss []span) []span {
	out := ss[:0]
	for _, s := range ss {
		if n := len(out); n > 0 && s.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, s.to)
			continue
		}
		out = append(out, s)
	}
	return out
}

// StaleAfter is provider's X, and false when its poll log is empty (its
// prices hold until their next point).
func (k *Known) StaleAfter(provider string) (time.Duration, bool) {
	if k == nil {
		return 0, false
	}
	pl := k.providers[provider]
	if pl == nil {
		return 0, false
	}
	return time.Duration(pl.staleAfter) * time.Millisecond, true
}

// log returns provider's log, nil when it has none.
func (k *Known) log(provider string) *providerLog {
	if k == nil {
		return nil
	}
	return k.providers[provider]
}

// known appends to dst the parts of [a, b) during which a price whose
// point is at a is known under pl, merged and in order.
func (pl *providerLog) known(dst []span, a, b int64) []span {
	if pl == nil || b <= pl.first {
		return append(dst, span{a, b})
	}
	// Before the first refresh no log applies; the point itself vouches
	// for X after it.
	cur := span{a, min(b, max(pl.first, satAdd(a, pl.staleAfter)))}
	i := sort.Search(len(pl.spans), func(i int) bool { return pl.spans[i].to > a })
	for ; i < len(pl.spans) && pl.spans[i].from < b; i++ {
		f, t := max(pl.spans[i].from, a), min(pl.spans[i].to, b)
		if f <= cur.to {
			cur.to = max(cur.to, t)
			continue
		}
		if cur.to > cur.from {
			dst = append(dst, cur)
		}
		cur = span{f, t}
	}
	if cur.to > cur.from {
		dst = append(dst, cur)
	}
	return dst
}

// satAdd is a+b without overflowing past math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
