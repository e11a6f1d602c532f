// Package export writes the store's history in bulk: every change point of
// the matching series, with all their labels, as CSV, as Parquet, or as
// OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`, so
// that a Prometheus user can backfill gpuprice's history into their own
// TSDB.
//
// An export streams: series are read from the store one at a time
// (store.Store.HistoryEach) and written out at once, so memory does not
// grow with the size of the export. CSV and Parquet hold the raw points
// (withdrawals included), exactly as /api/v1/history answers them without a
// step; OpenMetrics holds samples of the step function, as Prometheus needs
// them (see OpenMetrics).
package export

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/query"
)

// Format is an export's encoding.
type Format string

// The formats.
const (
	CSV         Format = "csv"
	Parquet     Format = "parquet"
	OpenMetrics Format = "openmetrics"
)

// Formats lists every format.
var Formats = []Format{CSV, Parquet, OpenMetrics}

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%q is not one of csv, parquet, openmetrics", s)
}

// ContentType is the format's media type.
func (f Format) ContentType() string {
	switch f {
	case Parquet:
		return "application/vnd.apache.parquet"
	case OpenMetrics:
		return "application/openmetrics-text; version=1.0.0; charset=utf-8"
	}
	return "text/csv; charset=utf-8"
}

// Ext is the format's usual file name extension.
func (f Format) Ext() string {
	if f == OpenMetrics {
		return ".om.txt"
	}
	return "." + string(f)
}

// Header is the columns of the CSV and Parquet exports, one row per point:
// the series' labels (price.Labels, gpu_raw and currency included), the
// point's time, the instance and per-GPU prices (empty for a withdrawal),
// whether it is a withdrawal, and the instance price in the series'
// currency where that is not USD (else empty). /api/v1/history's raw CSV
// has the same columns.
var Header = append(price.LabelNames(price.Labels), "time", "usd_per_hour", "gpu_usd_per_hour", "withdrawn", "currency_per_hour")

// DefaultResolution is how often the OpenMetrics export repeats a live
// series' value: as often as remote write sends it (DESIGN §5).
const DefaultResolution = time.Minute

// MaxResolution bounds Resolution: Prometheus forgets a series whose last
// sample is older than its 5-minute lookback.
const MaxResolution = 5 * time.Minute

// Request is an export.
type Request struct {
	// Query selects the series by label and the range [Start, End]
	// (zero: open). As for History, each series starts with the point in
	// effect at Start. Match, when set, further filters the series.
	Query store.Query
	Match func(*price.Quote) bool
	// Format is the encoding; default CSV.
	Format Format

	// OpenMetrics only. Resolution is how often a live series' value is
	// repeated between its changes (default DefaultResolution, less than
	// MaxResolution). StaleAfter overrides the providers' staleness (see
	// store/query). Now is where the samples of a still-live series end
	// when Query.End is zero; default time.Now().
	Resolution time.Duration
	StaleAfter time.Duration
	Now        time.Time
}

// Result counts what an export wrote.
type Result struct {
	Series  int // series exported (per family for OpenMetrics)
	Points  int // change points read
	Samples int // rows or samples written
}

// Write streams the export req asks for from src to w. On error, what was
// written is incomplete: an OpenMetrics export then lacks its "# EOF", a
// Parquet one its footer.
func Write(ctx context.Context, src query.Source, w io.Writer, req Request) (Result, error) {
	if req.Format == "" {
		req.Format = CSV
	}
	switch req.Format {
	case CSV:
		return writeCSV(ctx, src, w, req)
	case Parquet:
		return writeParquet(ctx, src, w, req)
	case OpenMetrics:
		if req.Resolution == 0 {
			req.Resolution = DefaultResolution
		}
		if req.Resolution < time.Second || req.Resolution >= MaxResolution {
			return Result{}, fmt.Errorf("resolution %s: want at least 1s and less than Prometheus' 5m lookback, or the series vanish between samples", req.Resolution)
		}
		return writeOpenMetrics(ctx, src, w, req)
	}
	return Result{}, fmt.Errorf("unknown export format %q", req.Format)
}

// each streams the series req selects to fn, counting them.
func each(ctx context.Context, src query.Source, req *Request, res *Result, fn func(*store.Series) error) error {
	return src.HistoryEach(ctx, req.Query, func(s store.Series) error {
		if req.Match != nil && !req.Match(&s.Labels) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		res.Points += len(s.Points)
		return fn(&s)
	})
}

// csvField appends f to b as one CSV field (RFC 4180 quoting, as
// encoding/csv does).
func csvField(b []byte, f string) []byte {
	if f == "" || !strings.ContainsAny(f, ",\"\r\n") && f[0] != ' ' && f[0] != '\t' {
		return append(b, f...)
	}
	b = append(b, '"')
	for i := 0; i < len(f); i++ {
		if f[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, f[i])
	}
	return append(b, '"')
}
