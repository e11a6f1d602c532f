package query

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// Request is a history query.
type Request struct {
	// Query selects series by label equality (Start and End are set from
	// the Request's). Match, when set, further filters the series the
	// store returns, for filters a store.Query cannot say (several values
	// of one label).
	Query store.Query
	Match func(*price.Quote) bool

	// Start and End bound the window; both are required.
	Start, End time.Time
	// Step is the grid of a resampled query, at least a millisecond. Run
	// needs it; Stats summarizes the exact step functions without it.
	Step time.Duration
	// Agg, when set, aggregates the series at each grid time, per group
	// of series sharing the values of the By labels (one group when By
	// is empty).
	Agg Agg
	By  []string
	// Price is the price worked on: per GPU-hour or per instance-hour.
	Price Price
	// StaleAfter overrides every provider's staleness (see the package
	// comment); 0 derives it from the poll log.
	StaleAfter time.Duration
	Limits     Limits
}

// Series is one series of an answer: a store series resampled, or an
// aggregate of several. An aggregate's Labels are those its members all
// share (the By labels at least); the others are zero.
type Series struct {
	Labels  price.Quote
	Members int // series aggregated; 1 for a resampled store series
	Samples []Sample
}

// SeriesSummary is the summary of one series of an answer.
type SeriesSummary struct {
	Labels  price.Quote
	Members int
	Summary
}

func (r *Request) check(needStep bool) error {
	if r.Start.IsZero() || r.End.IsZero() {
		return errors.New("query: start and end are required")
	}
	if r.End.Before(r.Start) {
		return fmt.Errorf("query: end %s is before start %s", r.End.Format(time.RFC3339), r.Start.Format(time.RFC3339))
	}
	if r.Step != 0 && r.Step < time.Millisecond {
		return fmt.Errorf("query: step %s is finer than the store's resolution (1ms)", r.Step)
	}
	if needStep && r.Step == 0 {
		return errors.New("query: a step is required")
	}
	if r.Agg != None && r.Step == 0 {
		return fmt.Errorf("query: agg=%s aggregates samples taken every step: a step is required", r.Agg)
	}
	if len(r.By) > 0 && r.Agg == None {
		return fmt.Errorf("query: by=%s groups an aggregation: agg is required", strings.Join(r.By, ","))
	}
	return nil
}

// Run resamples every series matching req at req.Step over [Start, End]
// and, with req.Agg, aggregates them per group. Series (or groups) without
// any sample are left out; samples where a series' price is unknown are
// left out of its samples, so a gap shows as a gap. Answers are sorted by
// price.CompareLabels (aggregates by their By values first). Run refuses, with a *LimitError, a request that would
// take more samples or answer more points than req.Limits allow.
func Run(ctx context.Context, src Source, req Request) ([]Series, error) {
	if err := req.check(true); err != nil {
		return nil, err
	}
	lim := req.Limits.withDefaults()
	g := NewGrid(req.Start, req.End, req.Step)
	if g.N > lim.MaxPoints {
		return nil, limitf("step %s gives %d samples from start to end, more than the %d allowed: increase step or shorten start..end",
			req.Step, g.N, lim.MaxPoints)
	}
	times := g.times()
	known, err := LoadKnown(ctx, src, req.Start, req.End, req.StaleAfter)
	if err != nil {
		return nil, fmt.Errorf("read the poll log: %w", err)
	}
	q := req.Query
	q.Start, q.End = req.Start, req.End
	// Steps are built over [start, end]: the grid may sample end itself.
	lo, hi := req.Start.UnixMilli(), req.End.UnixMilli()+1

	type group struct {
		key     string
		labels  price.Quote
		members int
		acc     *accumulator
	}
	var (
		out     []Series
		groups  = map[string]*group{}
		matched int
		points  int
		steps   Steps
		row     []float64
		keyBuf  []byte
	)
	err = scan(ctx, src, q, func(s store.Series) error {
		if req.Match != nil && !req.Match(&s.Labels) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		matched++
		if matched*g.N > lim.MaxSamples {
			return limitf("history would take more than the %d samples allowed (%d series so far × %d steps): narrow the filters, shorten start..end or increase step",
				lim.MaxSamples, matched, g.N)
		}
		if _, q := req.Agg.quantile(); q && matched*g.N > lim.MaxHeld {
			return limitf("agg=%s would hold more than the %d samples allowed in memory (%d series so far × %d steps): narrow the filters, shorten start..end, increase step, or use min, max or avg",
				req.Agg, lim.MaxHeld, matched, g.N)
		}
		steps = appendSteps(steps[:0], &s, lo, hi, known, req.Price)
		if len(steps) == 0 {
			return nil
		}
		if req.Agg == None {
			row = steps.sample(times, row[:0])
			var samples []Sample
			for k, v := range row {
				if !math.IsNaN(v) {
					samples = append(samples, Sample{g.Time(k), v})
				}
			}
			if points += len(samples); points > lim.MaxPoints {
				return limitf("history would return more than the %d points allowed: narrow the filters, shorten start..end, increase step or aggregate (agg)",
					lim.MaxPoints)
			}
			if len(samples) > 0 {
				out = append(out, Series{Labels: s.Labels.LabelsOnly(), Members: 1, Samples: samples})
			}
			return nil
		}
		keyBuf = groupKey(&s.Labels, req.By, keyBuf[:0])
		gr := groups[string(keyBuf)]
		if gr == nil {
			if (len(groups)+1)*g.N > lim.MaxPoints {
				return limitf("history would return more than the %d points allowed (%d groups so far × %d steps): group by fewer labels, narrow the filters, shorten start..end or increase step",
					lim.MaxPoints, len(groups)+1, g.N)
			}
			gr = &group{key: string(keyBuf), labels: s.Labels.LabelsOnly(), acc: newAccumulator(req.Agg, g.N)}
			groups[string(keyBuf)] = gr
		} else {
			narrow(&gr.labels, &s.Labels)
		}
		gr.members++
		// A quantile accumulator keeps the row: give it its own.
		if gr.acc.vals == nil {
			gr.acc.add(steps.sample(times, make([]float64, 0, g.N)))
		} else {
			row = steps.sample(times, row[:0])
			gr.acc.add(row)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Groups in the order of their By values, then of their labels.
	sorted := slices.SortedFunc(maps.Values(groups), func(a, b *group) int {
		return cmp.Or(strings.Compare(a.key, b.key), price.CompareLabels(&a.labels, &b.labels))
	})
	for _, gr := range sorted {
		var samples []Sample
		for k, v := range gr.acc.result() {
			if !math.IsNaN(v) {
				samples = append(samples, Sample{g.Time(k), v})
			}
		}
		if len(samples) > 0 {
			out = append(out, Series{Labels: gr.labels, Members: gr.members, Samples: samples})
		}
	}
	if req.Agg == None {
		slices.SortFunc(out, func(a, b Series) int { return price.CompareLabels(&a.Labels, &b.Labels) })
	}
	return out, nil
}

// Stats summarizes the series req selects over [Start, End): without a
// step, each series' exact step function (Summarize); with a step, the
// series Run answers, each sample counting for one step. below is the
// ShareBelow threshold (NaN for none). Series without any known price in
// the window are left out. Without a step, the number of series is bounded
// by req.Limits.MaxPoints.
func Stats(ctx context.Context, src Source, req Request, below float64) ([]SeriesSummary, error) {
	if err := req.check(false); err != nil {
		return nil, err
	}
	var out []SeriesSummary
	if req.Step > 0 {
		series, err := Run(ctx, src, req)
		if err != nil {
			return nil, err
		}
		g := NewGrid(req.Start, req.End, req.Step)
		end := g.Time(g.N) // each of the N samples holds one step
		for _, s := range series {
			out = append(out, SeriesSummary{Labels: s.Labels, Members: s.Members,
				Summary: Summarize(FromSamples(s.Samples, req.Step), req.Start, end, below)})
		}
		return out, nil
	}
	lim := req.Limits.withDefaults()
	known, err := LoadKnown(ctx, src, req.Start, req.End, req.StaleAfter)
	if err != nil {
		return nil, fmt.Errorf("read the poll log: %w", err)
	}
	q := req.Query
	q.Start, q.End = req.Start, req.End
	lo, hi := req.Start.UnixMilli(), req.End.UnixMilli()
	var steps Steps
	err = scan(ctx, src, q, func(s store.Series) error {
		if req.Match != nil && !req.Match(&s.Labels) {
			return nil
		}
		steps = appendSteps(steps[:0], &s, lo, hi, known, req.Price)
		if len(steps) == 0 {
			return nil
		}
		if len(out) >= lim.MaxPoints {
			return limitf("history would summarize more than the %d series allowed: narrow the filters", lim.MaxPoints)
		}
		out = append(out, SeriesSummary{Labels: s.Labels.LabelsOnly(), Members: 1,
			Summary: Summarize(steps, req.Start, req.End, below)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b SeriesSummary) int { return price.CompareLabels(&a.Labels, &b.Labels) })
	return out, nil
}
