package remotewrite

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
)

// staleNaN marks the end of a series for the receiver.
var staleNaN = math.Float64frombits(value.StaleNaN)

// live sends every series' current value each send_interval.
func (t *target) live(ctx context.Context) {
	var (
		body   []byte
		series []prompb.TimeSeries
		stale  []prompb.TimeSeries
	)
	tick := time.NewTicker(time.Duration(t.cfg.SendInterval))
	defer tick.Stop()
	for {
		if b := t.opts.Families(); !sameSlice(b, body) {
			next, err := parseFamilies(b)
			if err != nil {
				t.log.Error("cannot read the exporter's families; sending the previous ones", "err", err)
			} else {
				for i := range next {
					next[i].Labels = t.withExtra(next[i].Labels)
				}
				nextKeys := make(map[string]bool, len(next))
				for i := range next {
					nextKeys[labelsKey(next[i].Labels)] = true
				}
				for i := range series {
					if !nextKeys[labelsKey(series[i].Labels)] {
						stale = append(stale, prompb.TimeSeries{Labels: series[i].Labels, Samples: []prompb.Sample{{Value: staleNaN}}})
					}
				}
				body, series = b, next
			}
		}
		now := t.opts.Now().UnixMilli()
		for i := range series {
			series[i].Samples[0].Timestamp = now
		}
		for i := range stale {
			stale[i].Samples[0].Timestamp = now
		}
		queued := float64(len(series) + len(stale))
		t.m.queue.Add(queued)
		// Stale markers are sent once, whether or not they arrive: a
		// receiver that misses one sees the series end 5 minutes later.
		sendCtx, cancel := context.WithTimeout(ctx, time.Duration(t.cfg.SendInterval))
		err := t.send(sendCtx, "live", append(stale, series...))
		cancel()
		if err != nil && ctx.Err() == nil {
			t.log.Warn("live samples not sent; the next round sends newer ones", "err", err)
		}
		stale = stale[:0]
		t.m.queue.Sub(queued)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// parseFamilies turns families in the text format into one series per
// sample, each with one sample whose timestamp the caller sets, sorted by
// their labels.
func parseFamilies(text []byte) ([]prompb.TimeSeries, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return nil, err
	}
	var out []prompb.TimeSeries
	add := func(name string, m *dto.Metric, v float64, extra ...prompb.Label) {
		labels := make([]prompb.Label, 0, len(m.GetLabel())+1+len(extra))
		labels = append(labels, prompb.Label{Name: model.MetricNameLabel, Value: name})
		for _, l := range m.GetLabel() {
			if l.GetValue() != "" { // as a scrape stores them: an empty label is no label
				labels = append(labels, prompb.Label{Name: l.GetName(), Value: l.GetValue()})
			}
		}
		labels = append(labels, extra...)
		slices.SortFunc(labels, func(a, b prompb.Label) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, prompb.TimeSeries{Labels: labels, Samples: []prompb.Sample{{Value: v}}})
	}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetType() {
			case dto.MetricType_GAUGE:
				add(name, m, m.GetGauge().GetValue())
			case dto.MetricType_COUNTER:
				add(name, m, m.GetCounter().GetValue())
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					add(name, m, q.GetValue(), prompb.Label{Name: model.QuantileLabel, Value: strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)})
				}
				// A market of published statistics (Akash) has no
				// _sum and _count on /metrics: none here either.
				if s.SampleSum != nil {
					add(name+"_sum", m, s.GetSampleSum())
				}
				if s.SampleCount != nil {
					add(name+"_count", m, float64(s.GetSampleCount()))
				}
			default:
				add(name, m, m.GetUntyped().GetValue())
			}
		}
	}
	keyed := make([]keyedSeries, len(out))
	for i := range out {
		keyed[i] = keyedSeries{labelsKey(out[i].Labels), out[i]}
	}
	slices.SortFunc(keyed, func(a, b keyedSeries) int { return strings.Compare(a.key, b.key) })
	for i := range keyed {
		out[i] = keyed[i].ts
	}
	return out, nil
}

type keyedSeries struct {
	key string
	ts  prompb.TimeSeries
}

// labelsKey is a series' identity: its sorted label pairs.
func labelsKey(labels []prompb.Label) string {
	var b strings.Builder
	for _, l := range labels {
		b.WriteString(l.Name)
		b.WriteByte(0)
		b.WriteString(l.Value)
		b.WriteByte(0)
	}
	return b.String()
}
