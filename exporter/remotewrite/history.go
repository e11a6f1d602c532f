package remotewrite

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// historyDay is the step of the history pass: the watermark moves a day
// at a time, so a restart resends at most one day.
const historyDay = 24 * time.Hour

// historyRetry is how long a stopped history pass waits before resuming.
var historyRetry = time.Minute

// history sends the stored points the target has not had, then returns:
// from then on the live rounds carry every change. A pass stopped by the
// target resumes from the watermark after historyRetry.
func (t *target) history(ctx context.Context) {
	for {
		err := t.historyPass(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		t.log.Warn("history push stopped; it resumes from its watermark", "err", err, "retry_in", historyRetry)
		select {
		case <-ctx.Done():
			return
		case <-time.After(historyRetry):
		}
	}
}

// The watermark means: every stored point before it has been sent (or
// counted as too old).
func (t *target) historyPass(ctx context.Context) error {
	wms, _ := t.opts.History.(Watermarks)
	end := t.opts.Now() // from here on, the live rounds' business
	var from time.Time
	if wms != nil {
		var err error
		if from, err = wms.Watermark(ctx, t.name); err != nil {
			return err
		}
	}
	if !from.IsZero() && !from.Before(end) {
		return nil
	}
	cutoff := end.Add(-time.Duration(t.cfg.History.MaxAge))
	if from.Before(cutoff) {
		n, err := t.countPoints(ctx, from, cutoff)
		if err != nil {
			return err
		}
		if n > 0 {
			t.m.dropped.WithLabelValues("too_old").Add(float64(n))
			t.log.Info("stored points older than history.max_age are not sent", "samples", n, "max_age", t.cfg.History.MaxAge)
		}
		from = cutoff
	}
	days := int(end.Sub(from)/historyDay) + 1
	t.log.Info("sending stored history", "from", from.UTC().Format(time.RFC3339), "to", end.UTC().Format(time.RFC3339), "days", days)
	start, total, lastLog := time.Now(), 0, time.Now()
	for day := from; day.Before(end); day = day.Add(historyDay) {
		t.m.historyPending.Set(float64(days))
		next := day.Add(historyDay)
		if next.After(end) {
			next = end
		}
		n, err := t.sendWindow(ctx, day, next)
		total += n
		if err != nil {
			return err
		}
		if wms != nil {
			if err := wms.SetWatermark(ctx, t.name, next); err != nil {
				return err
			}
		}
		t.m.wm.Set(float64(next.UnixNano()) / 1e9)
		days--
		if time.Since(lastLog) >= 10*time.Second {
			t.log.Info("sending stored history", "up_to", next.UTC().Format(time.RFC3339), "samples", total, "days_left", days,
				"samples_per_second", float64(total)/time.Since(start).Seconds())
			lastLog = time.Now()
		}
	}
	t.m.historyPending.Set(0)
	t.log.Info("stored history sent", "samples", total, "duration_seconds", time.Since(start).Seconds())
	return nil
}

// countPoints counts the samples of the stored points in [from, to): two
// per point (the GPU and the instance price), without reading them.
// Count's range holds its end and starts with the point in effect at its
// start, which is not in [from, to) when older.
func (t *target) countPoints(ctx context.Context, from, to time.Time) (int, error) {
	counts, err := t.opts.History.Count(ctx, store.Query{Start: from, End: to.Add(-time.Nanosecond)})
	n := 0
	for _, c := range counts {
		n += c.Points
		if c.First.Before(from) {
			n--
		}
	}
	return 2 * n, err
}

// sendWindow sends the stored points in [from, to), each series' in time
// order, holding at most queue.capacity samples.
func (t *target) sendWindow(ctx context.Context, from, to time.Time) (int, error) {
	var (
		pending []prompb.TimeSeries
		held    int
		sent    int
	)
	flush := func() error {
		t.m.queue.Add(float64(held))
		err := t.send(ctx, "history", pending)
		t.m.queue.Sub(float64(held))
		if err == nil {
			sent += held
		}
		pending, held = pending[:0], 0
		return err
	}
	err := t.opts.History.HistoryEach(ctx, store.Query{Start: from, End: to}, func(s store.Series) error {
		gpu, inst := historySeries(&s.Labels)
		gpu.Labels, inst.Labels = t.withExtra(gpu.Labels), t.withExtra(inst.Labels)
		for _, p := range s.Points {
			if p.Time.Before(from) || !p.Time.Before(to) {
				continue // the point in effect at from was sent before
			}
			ts := p.Time.UnixMilli()
			g, v := staleNaN, staleNaN
			if !p.Withdrawn {
				q := s.Labels
				q.USDPerHour = p.USDPerHour
				g, v = q.GPUUSDPerHour(), p.USDPerHour
			}
			gpu.Samples = append(gpu.Samples, prompb.Sample{Value: g, Timestamp: ts})
			inst.Samples = append(inst.Samples, prompb.Sample{Value: v, Timestamp: ts})
		}
		if len(gpu.Samples) == 0 {
			return nil
		}
		pending = append(pending, gpu, inst)
		held += 2 * len(gpu.Samples)
		if held >= t.cfg.Queue.Capacity {
			return flush()
		}
		return nil
	})
	if err == nil && held > 0 {
		err = flush()
	}
	return sent, err
}

// historySeries are the empty gpuprice_gpu_usd_per_hour and
// gpuprice_instance_usd_per_hour series of a stored series' labels, as
// the exporter labels them.
func historySeries(q *price.Quote) (gpu, inst prompb.TimeSeries) {
	labels := make([]prompb.Label, 0, len(price.SeriesLabels)+1)
	labels = append(labels, prompb.Label{Name: model.MetricNameLabel, Value: "gpuprice_gpu_usd_per_hour"})
	for i := range price.SeriesLabels {
		if v := price.SeriesLabels[i].Value(q); v != "" {
			labels = append(labels, prompb.Label{Name: price.SeriesLabels[i].Name, Value: v})
		}
	}
	slices.SortFunc(labels, func(a, b prompb.Label) int { return strings.Compare(a.Name, b.Name) })
	instLabels := slices.Clone(labels)
	for i := range instLabels {
		if instLabels[i].Name == model.MetricNameLabel {
			instLabels[i].Value = "gpuprice_instance_usd_per_hour"
		}
	}
	return prompb.TimeSeries{Labels: labels}, prompb.TimeSeries{Labels: instLabels}
}
