package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gpuprice/gpuprice/store/export"
)

// exportParams are the parameters of /api/v1/export.
var exportParams = append(slices.Clone(labelNames), "start", "end", "format", "resolution", "stale_after")

// exportWriteTimeout is how long one write of an export may take. The
// server's WriteTimeout bounds a whole answer, which a large export
// exceeds; the deadline is pushed back as the export advances instead, so a
// client that stops reading is still dropped.
const exportWriteTimeout = time.Minute

// export streams the raw history of the matching series: CSV (the
// default), Parquet or OpenMetrics, in [start, end] (open by default: all
// of it). Memory does not grow with the export; MaxExportRows bounds its
// size (limits.go).
func (a *API) export(w http.ResponseWriter, r *http.Request) {
	p, err := parseParams(r, exportParams)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f, err := parseFilter(p, false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	req := export.Request{Query: f.storeQuery(), Match: f.match, Now: a.now()}
	for _, b := range []struct {
		name string
		t    *time.Time
	}{{"start", &req.Query.Start}, {"end", &req.Query.End}} {
		if v, err := p.one(b.name); err != nil {
			a.fail(w, r, err)
			return
		} else if v != "" {
			if *b.t, err = parseTime(b.name, v); err != nil {
				a.fail(w, r, err)
				return
			}
		}
	}
	if !req.Query.Start.IsZero() && !req.Query.End.IsZero() && req.Query.Start.After(req.Query.End) {
		a.fail(w, r, badParam("start", formatTime(req.Query.Start), "is after end "+formatTime(req.Query.End)))
		return
	}
	v, err := p.one("format")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if v == "" {
		v = string(export.CSV)
	}
	if req.Format, err = export.ParseFormat(v); err != nil {
		a.fail(w, r, badParam("format", v, "is not csv, parquet or openmetrics"))
		return
	}
	res, v, err := durationParam(p, "resolution")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if res != 0 && (res < time.Second || res >= export.MaxResolution) {
		a.fail(w, r, badParam("resolution", v, "is not at least 1s and less than 5m (Prometheus' lookback: the series would vanish between samples)"))
		return
	}
	req.Resolution = res
	if req.StaleAfter, _, err = durationParam(p, "stale_after"); err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.storeAvailable(w, r) {
		return
	}
	if err := a.exportTooLarge(r, req); err != nil {
		a.fail(w, r, err)
		return
	}

	h := w.Header()
	h.Set("Content-Type", req.Format.ContentType())
	h.Set("Content-Disposition", `attachment; filename="gpuprice-history`+req.Format.Ext()+`"`)
	dw := &deadlineWriter{w: w, rc: http.NewResponseController(w)}
	dw.extend(time.Now()) // the first bytes may take a while: a large range, a busy store
	if _, err := export.Write(r.Context(), a.store, dw, req); err != nil {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			return // the client left
		}
		if dw.n == 0 {
			h.Del("Content-Disposition")
			a.fail(w, r, errorf(http.StatusServiceUnavailable, "reading history from the store: %v", err))
			return
		}
		// The status is sent: break the connection, so that the client
		// sees a failed transfer rather than a short file.
		a.logger.Error("export failed midway", "query", r.URL.RawQuery, "bytes_written", dw.n, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// deadlineWriter pushes the connection's write deadline back before each
// write and counts the bytes written.
type deadlineWriter struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	n    int64
	next time.Time // when to push the deadline back again
}

// extend pushes the write deadline back to exportWriteTimeout from now.
// ErrNotSupported (a recorder in tests, the history command's in-process
// writer) leaves the server's own timeout, if any, in place.
func (d *deadlineWriter) extend(now time.Time) {
	_ = d.rc.SetWriteDeadline(now.Add(exportWriteTimeout))
	d.next = now.Add(exportWriteTimeout / 4)
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if now := time.Now(); now.After(d.next) {
		d.extend(now)
	}
	n, err := d.w.Write(p)
	d.n += int64(n)
	return n, err
}
