package export

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/query"
)

// The OpenMetrics export holds two gauge families, gpuprice_gpu_usd_per_hour
// and gpuprice_instance_usd_per_hour, with the labels of /metrics (DESIGN
// §6; empty labels are left out, as Prometheus drops them when it
// scrapes), and samples with timestamps in seconds, then "# EOF".
//
// A change-only series is not what Prometheus can query: PromQL looks back
// only 5 minutes for a series' last sample, so a price that held for a
// day would vanish 5 minutes after its change. The export therefore
// writes the step function: a sample at each change, then the same value
// again every Resolution (on multiples of it since the epoch) for as long
// as the price is known under store/query's rule, as a scrape of /metrics
// at that interval would have seen it. At a withdrawal, or when the price
// becomes unknown, the samples stop, so the series ends in Prometheus
// within its lookback. Samples run to Query.End, or to Now for a series
// still live.
//
// OpenMetrics wants each family's samples together, and each series'
// samples in time order, so the history is read twice, once per family,
// one series at a time.

var families = []struct {
	price query.Price
	help  string
}{
	{query.PerGPU, "Price per GPU-hour in USD, from gpuprice's history: the price at each change, repeated while it was known."},
	{query.PerInstance, "Price of the whole instance per hour in USD, from gpuprice's history: the price at each change, repeated while it was known."},
}

func writeOpenMetrics(ctx context.Context, src query.Source, w io.Writer, req Request) (Result, error) {
	end := req.Query.End
	if end.IsZero() {
		end = req.Now
		if end.IsZero() {
			end = time.Now()
		}
	}
	start := req.Query.Start
	known, err := query.LoadKnown(ctx, src, start, end, req.StaleAfter)
	if err != nil {
		return Result{}, fmt.Errorf("read the poll log: %w", err)
	}
	q := req.Query
	q.End = end
	req.Query = q
	res := req.Resolution.Milliseconds()

	bw := bufio.NewWriterSize(w, 64<<10)
	var (
		out    Result
		prefix []byte
		line   []byte
	)
	for _, fam := range families {
		name := fam.price.Metric()
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n", name, fam.help, name)
		err := each(ctx, src, &req, &out, func(s *store.Series) error {
			// Steps over [start, end]: a sample at end itself is fine.
			steps := query.StepsOf(s, start, end.Add(time.Millisecond), known, fam.price)
			if len(steps) == 0 {
				return nil
			}
			out.Series++
			prefix = appendSeries(prefix[:0], name, &s.Labels)
			for _, seg := range steps {
				v := seg.Value
				// The change, then the grid times after it.
				for t := seg.Start; t < seg.End; t = (t/res + 1) * res {
					line = appendSample(append(line[:0], prefix...), v, t)
					if _, err := bw.Write(line); err != nil {
						return err
					}
					out.Samples++
				}
			}
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	out.Points /= len(families) // each point was read once per family
	bw.WriteString("# EOF\n")
	return out, bw.Flush()
}

// appendSeries appends the metric name and label set of l, leaving out
// empty labels.
func appendSeries(b []byte, name string, l *price.Quote) []byte {
	b = append(b, name...)
	b = append(b, '{')
	first := true
	for i := range price.SeriesLabels {
		lb := &price.SeriesLabels[i]
		v := lb.Value(l)
		if v == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, lb.Name...)
		b = append(b, '=')
		b = appendQuoted(b, v)
	}
	return append(b, '}', ' ')
}

// appendQuoted appends v as an OpenMetrics label value: quoted, with
// backslash, double quote and newline escaped.
func appendQuoted(b []byte, v string) []byte {
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendSample appends a sample's value and its timestamp ms (unix
// milliseconds) in seconds, and ends the line.
func appendSample(b []byte, v float64, ms int64) []byte {
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64)
	return append(b, '\n')
}
