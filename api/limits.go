package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/export"
)

// heavyRetryAfter is the Retry-After of a heavy request refused because
// MaxHeavyQueries are running: about what one takes.
const heavyRetryAfter = 5 * time.Second

// heavy bounds how many requests that read the store's history (history,
// history/stats, export, breakeven) run at once: each holds a read
// connection and a core for seconds, and an export for as long as its
// client reads. Beyond the bound a request is refused at once with 429 and
// Retry-After rather than queued, so that a burst cannot pile up behind a
// slow export.
func (a *API) heavy(h http.HandlerFunc) http.HandlerFunc {
	if a.heavySlots == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case a.heavySlots <- struct{}{}:
			defer func() { <-a.heavySlots }()
			h(w, r)
		default:
			w.Header().Set("Retry-After", strconv.Itoa(int(heavyRetryAfter.Seconds())))
			writeError(w, http.StatusTooManyRequests, fmt.Sprintf(
				"too many history queries at once: this server runs at most %d (history, history/stats, export, breakeven); retry in %s",
				cap(a.heavySlots), heavyRetryAfter))
		}
	}
}

// exportTooLarge returns the 400 of an export of req that would write more
// than a.maxExportRows rows (samples for OpenMetrics), counted with the
// store's Counter before anything is written; nil when it fits, when there
// is no bound, or when the store cannot count.
func (a *API) exportTooLarge(r *http.Request, req export.Request) error {
	c, ok := a.store.(store.Counter)
	if a.maxExportRows <= 0 || !ok {
		return nil
	}
	counts, err := c.Count(r.Context(), req.Query)
	if err != nil {
		return errorf(http.StatusServiceUnavailable, "reading history from the store: %v", err)
	}
	n := export.Estimate(counts, req)
	if n <= a.maxExportRows {
		return nil
	}
	what := "rows"
	if req.Format == export.OpenMetrics {
		what = "samples (at most; a coarser resolution writes fewer)"
	}
	msg := fmt.Sprintf("the export would write %d %s, more than this server's limit of %d per request: "+
		"page through it by time with start and end (each page starts with the point in effect at its start)%s, "+
		"narrow it with filters, or export from the store itself (gpuprice export --storage.path, which has no limit)",
		n, what, a.maxExportRows, firstPage(counts, req, n, a.maxExportRows))
	return errorf(http.StatusBadRequest, "%s", msg)
}

// firstPage suggests the range of a first page that would fit, were the
// points spread evenly over time: ", e.g. start=...&end=...".
func firstPage(counts []store.SeriesCount, req export.Request, n, limit int64) string {
	start, end := req.Query.Start, req.Query.End
	for i := range counts {
		if start.IsZero() || counts[i].First.Before(start) {
			start = counts[i].First
		}
	}
	if end.IsZero() {
		end = req.Now
	}
	if start.IsZero() || !end.After(start) {
		return ""
	}
	pages := (n + limit - 1) / limit
	page := end.Sub(start) / time.Duration(pages)
	if page < time.Second {
		return ""
	}
	return fmt.Sprintf(", e.g. start=%s&end=%s first (about %d pages)", formatTime(start.Truncate(time.Second)), formatTime(start.Add(page).Truncate(time.Second)), pages)
}
