package main

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// httpLimits bound what one client can hold of the daemon: a goroutine
// and a connection per request, for at most these times.
type httpLimits struct {
	// ReadHeader and Read bound reading a request (its headers; headers
	// and body): a slowloris client is cut off.
	ReadHeader, Read time.Duration
	// Write bounds writing an answer: a client that stops reading /metrics
	// or the API is dropped. /api/v1/export pushes it back as the export
	// advances (api.exportWriteTimeout), so a long export that keeps
	// moving is not cut.
	Write time.Duration
	// Idle bounds a kept-alive connection between requests.
	Idle time.Duration
	// MaxHeaderBytes bounds a request's headers, MaxBodyBytes its body.
	MaxHeaderBytes int
	MaxBodyBytes   int64
}

// defaultHTTPLimits are the daemon's: a scrape or an API answer takes
// seconds, /metrics at 100k series is 2.2 MB gzip-compressed; the only
// POST (/-/reload) has no body.
var defaultHTTPLimits = httpLimits{
	ReadHeader:     10 * time.Second,
	Read:           30 * time.Second,
	Write:          2 * time.Minute,
	Idle:           2 * time.Minute,
	MaxHeaderBytes: 64 << 10,
	MaxBodyBytes:   64 << 10,
}

// newHTTPServer returns the daemon's server for h, with lim's bounds and
// its errors (TLS handshakes, panics in handlers, bad requests the server
// itself refuses) logged through logger, not the standard logger.
func newHTTPServer(h http.Handler, logger *slog.Logger, lim httpLimits) *http.Server {
	return &http.Server{
		Handler:           limitBody(h, lim.MaxBodyBytes),
		ReadHeaderTimeout: lim.ReadHeader,
		ReadTimeout:       lim.Read,
		WriteTimeout:      lim.Write,
		IdleTimeout:       lim.Idle,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelError),
	}
}

// limitBody refuses a request whose declared body exceeds max with 413,
// and cuts any other body at max (http.MaxBytesReader), so that no
// handler, present or future, reads an unbounded body.
func limitBody(h http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_, _ = w.Write([]byte(`{"error":"request body too large: at most ` + byteSize(max) + `"}` + "\n"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		h.ServeHTTP(w, r)
	})
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
