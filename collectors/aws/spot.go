package aws

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// spotProduct is the product description priced: Linux on EC2-VPC.
const spotProduct = "Linux/UNIX"

// maxSpotPages bounds one spot history walk. 90 days of every GPU type in
// the largest region is a few hundred pages of 1000; a nextToken still
// present after this many is a broken API.
const maxSpotPages = 20000

// backfillChunk is how many historical points go to the store per write:
// large enough for few transactions, small enough to bound memory.
const backfillChunk = 20000

// resumeMargin is how far before a region's newest stored point a later
// walk starts: it covers changes AWS publishes late and the refreshes in
// which a region was skipped (its series withdrawn) for a while.
const resumeMargin = time.Hour

// spotRecord is one DescribeSpotPriceHistory item, kept small: a region's
// whole 90-day history is held (and sorted) before it is stored.
type spotRecord struct {
	series int32 // index into the walk's series
	ms     int64 // unix milliseconds
	usd    float64
}

// spotSeriesID is an instance type in a zone.
type spotSeriesID struct {
	instanceType, zone string
}

// spotWalk gathers one region's spot history.
type spotWalk struct {
	region  string
	index   map[spotSeriesID]int32
	series  []spotSeriesID
	records []spotRecord
	pages   int
	bad     int // items whose price could not be read
}

func (w *spotWalk) add(id spotSeriesID, ms int64, usd float64) {
	i, ok := w.index[id]
	if !ok {
		i = int32(len(w.series))
		w.index[id] = i
		w.series = append(w.series, id)
	}
	w.records = append(w.records, spotRecord{series: i, ms: ms, usd: usd})
}

// spot fetches region's spot prices for the given GPU instance types and
// sets res.spot to the current price of every (type, zone).
//
// Without a store (or with spot_backfill 0) it asks for the prices in
// effect now. With one, it asks for what is new since the region's last
// walk (see spotQueries), writes the changes not yet stored with their
// original timestamps, and takes the current price from the same answer.
// The API also returns, per series, the price in effect at StartTime:
// that point is already stored, or repeats one that is, and only tells
// whether the next one is a change. A price equal to the one before is
// not a change, and gets no point.
//
// Points are written oldest first across the region's series, so that a
// refresh that fails half-way leaves every series stored up to the same
// time, which is where the next walk resumes.
func (c *Collector) spot(ctx context.Context, client *ec2.Client, region string, facts map[string]gpuFacts, last map[price.SeriesKey]time.Time, res *regionResult) error {
	now := c.now().UTC()
	w := &spotWalk{region: region, index: map[spotSeriesID]int32{}}
	backfill := c.history != nil && c.cfg.SpotBackfill > 0
	startOf := map[string]time.Time{} // instance type → its walk's StartTime
	for _, g := range c.spotQueries(region, facts, last, now) {
		if !backfill {
			g.start = now
		}
		for _, t := range g.types {
			startOf[t] = g.start
		}
		if err := c.walkSpot(ctx, client, w, g); err != nil {
			return err
		}
	}
	res.pages, res.bad = w.pages, w.bad

	// Sort by series and time; keep, per series, the changes after its
	// last stored point, and the newest record as the current price.
	slices.SortStableFunc(w.records, func(a, b spotRecord) int {
		return cmp.Or(cmp.Compare(a.series, b.series), cmp.Compare(a.ms, b.ms))
	})
	var (
		write   []int32 // indexes into w.records of the points to store
		current = make([]price.Quote, len(w.series))
	)
	for lo := 0; lo < len(w.records); {
		hi := lo + 1
		for hi < len(w.records) && w.records[hi].series == w.records[lo].series {
			hi++
		}
		si := w.records[lo].series
		id := w.series[si]
		f, ok := facts[id.instanceType]
		if !ok {
			lo = hi // not asked for
			continue
		}
		cur := f.quote(id.instanceType, region, id.zone, price.Spot, 0)
		// Known points: up to the series' last stored one and, when it has
		// one, up to StartTime, since the last walk stored every change
		// before it. What is left there are repeats of stored prices.
		known := int64(math.MinInt64)
		if t, ok := last[cur.Key()]; ok {
			known = max(t.UnixMilli(), startOf[id.instanceType].UnixMilli())
		}
		prevMS, prevUSD := int64(-1), -1.0
		for i := lo; i < hi; i++ {
			r := w.records[i]
			if r.ms == prevMS {
				continue // the same point twice (two queries, or a repeat)
			}
			if backfill && r.ms > known && r.usd != prevUSD {
				write = append(write, int32(i))
			}
			prevMS, prevUSD = r.ms, r.usd
		}
		newest := w.records[hi-1]
		cur.USDPerHour, cur.EffectiveAt = newest.usd, time.UnixMilli(newest.ms).UTC()
		current[si] = cur
		res.spot = append(res.spot, cur)
		lo = hi
	}
	if !backfill {
		return nil
	}
	slices.SortStableFunc(write, func(a, b int32) int { return cmp.Compare(w.records[a].ms, w.records[b].ms) })
	batch := make([]price.Quote, 0, min(len(write), backfillChunk))
	for start := 0; start < len(write); start += backfillChunk {
		batch = batch[:0]
		for _, i := range write[start:min(start+backfillChunk, len(write))] {
			r := w.records[i]
			q := current[r.series]
			q.USDPerHour, q.EffectiveAt = r.usd, time.UnixMilli(r.ms).UTC()
			batch = append(batch, q)
		}
		n, err := c.history.Backfill(ctx, batch)
		if err != nil {
			return fmt.Errorf("aws: store spot history of %s: %w", region, err)
		}
		res.points += n.Points
	}
	if res.points > 0 {
		c.logger.Debug("stored aws spot history", "region", region, "points", res.points, "pages", res.pages, "series", len(w.series))
	}
	return nil
}

// spotQuery is one DescribeSpotPriceHistory walk: instance types since a
// start time.
type spotQuery struct {
	types []string
	start time.Time
}

// spotQueries splits region's types in at most two walks: the types
// without stored history from spot_backfill ago, and the others from the
// region's last walk.
//
// The last walk is known from the region's newest stored spot point: every
// walk stores all the changes it saw, oldest first, so no series has an
// unstored change before that point. (The oldest of the series' last
// points would be safe too, but a price that has not moved for weeks
// would make every refresh fetch weeks of history again.) resumeMargin
// before it covers changes published late.
func (c *Collector) spotQueries(region string, facts map[string]gpuFacts, last map[price.SeriesKey]time.Time, now time.Time) []spotQuery {
	full := now.Add(-time.Duration(c.cfg.SpotBackfill))
	var newest time.Time
	stored := map[string]bool{}
	for k, t := range last {
		if k.Region != region || k.PricingModel != price.Spot {
			continue
		}
		stored[k.InstanceType] = true
		if t.After(newest) {
			newest = t
		}
	}
	known := spotQuery{start: newest.Add(-resumeMargin)}
	if known.start.Before(full) {
		known.start = full
	}
	if known.start.After(now) {
		known.start = now
	}
	fresh := spotQuery{start: full}
	for name := range facts {
		if stored[name] {
			known.types = append(known.types, name)
		} else {
			fresh.types = append(fresh.types, name)
		}
	}
	var out []spotQuery
	for _, q := range []spotQuery{fresh, known} {
		if len(q.types) > 0 {
			slices.Sort(q.types)
			out = append(out, q)
		}
	}
	return out
}

// walkSpot pages through one spot history query.
func (c *Collector) walkSpot(ctx context.Context, client *ec2.Client, w *spotWalk, q spotQuery) error {
	in := &ec2.DescribeSpotPriceHistoryInput{
		ProductDescriptions: []string{spotProduct},
		StartTime:           aws.Time(q.start),
		MaxResults:          aws.Int32(1000),
	}
	for _, t := range q.types {
		in.InstanceTypes = append(in.InstanceTypes, types.InstanceType(t))
	}
	for page := 0; ; page++ {
		if page == maxSpotPages {
			return &collectors.DecodeError{What: "aws DescribeSpotPriceHistory in " + w.region,
				Err: fmt.Errorf("endless pagination: nextToken still present after %d pages", page)}
		}
		resp, err := client.DescribeSpotPriceHistory(ctx, in)
		if err != nil {
			return apiError("DescribeSpotPriceHistory", w.region, err)
		}
		w.pages++
		read, bad := 0, 0
		var badErr error
		for i := range resp.SpotPriceHistory {
			sp := &resp.SpotPriceHistory[i]
			zone := aws.ToString(sp.AvailabilityZone)
			if string(sp.ProductDescription) != spotProduct || !strings.HasPrefix(zone, w.region) || sp.Timestamp == nil {
				continue
			}
			usd, err := strconv.ParseFloat(aws.ToString(sp.SpotPrice), 64)
			if err != nil || !(usd > 0) {
				// One unreadable price costs its item only, unless no
				// item of the page can be read.
				bad++
				if badErr == nil {
					badErr = fmt.Errorf("spot price %q of %s in %s", aws.ToString(sp.SpotPrice), sp.InstanceType, zone)
				}
				continue
			}
			read++
			w.add(spotSeriesID{string(sp.InstanceType), zone}, sp.Timestamp.UnixMilli(), usd)
		}
		if read == 0 && bad > 0 {
			return &collectors.DecodeError{What: "aws DescribeSpotPriceHistory in " + w.region,
				Err: fmt.Errorf("none of %d spot prices could be read: %w", bad, badErr)}
		}
		w.bad += bad
		next := aws.ToString(resp.NextToken)
		if next == "" {
			return nil
		}
		if in.NextToken != nil && *in.NextToken == next {
			return &collectors.DecodeError{What: "aws DescribeSpotPriceHistory in " + w.region,
				Err: fmt.Errorf("endless pagination: nextToken repeats")}
		}
		in.NextToken = aws.String(next)
	}
}
