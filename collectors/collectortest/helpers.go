package collectortest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// The helpers below are for a provider's own tests, beside the suite: they
// build its collector and serve its answers the way every provider's tests
// do.

// New builds a collector with newCollector from the section defaults
// returns, its endpoint set to endpoint and then changed by edit (which
// may be nil), and env (without an HTTPClient, FastClient's); an error
// fails t.
func New[S config.Section, C any](t testing.TB, newCollector func(S, collectors.Env) (C, error), defaults func() S,
	endpoint string, env collectors.Env, edit func(S)) C {
	t.Helper()
	if env.HTTPClient == nil {
		env.HTTPClient = FastClient(collectors.HTTPOptions{})
	}
	s := defaults()
	s.Shared().Endpoint = endpoint
	if edit != nil {
		edit(s)
	}
	c, err := newCollector(s, env)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Serve serves h until the test ends and returns its URL.
func Serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// FastClient is the daemon's HTTP client with backoffs of 1 to 5 ms where
// o leaves them zero: it retries as the daemon's does, without the waits.
func FastClient(o collectors.HTTPOptions) *http.Client {
	if o.MinBackoff == 0 {
		o.MinBackoff = time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Millisecond
	}
	return collectors.NewHTTPClient(o)
}

// Failed checks the error of a refresh of a table test against reason,
// the collectors.Reason it must fail with ("": it must succeed), and says
// whether it failed as it must: the case ends there.
func Failed(t testing.TB, err error, reason string) bool {
	t.Helper()
	if reason == "" {
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	if collectors.Reason(err) != reason {
		t.Fatalf("%v (reason %q), want reason %s", err, collectors.Reason(err), reason)
	}
	return true
}

// SameQuotes reports each quote of got that is not the one of want at its
// place, and a difference in their numbers.
func SameQuotes(t testing.TB, got, want []price.Quote) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d quotes, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("quote %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// Recorder is a handler that keeps every request, its body included, and
// passes it on to Next: for tests of what a collector sends.
type Recorder struct {
	Next http.Handler
	mu   sync.Mutex
	reqs []Request
}

// Request is a request a Recorder kept.
type Request struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte
}

// ServeHTTP implements http.Handler.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	u := *req.URL
	r.mu.Lock()
	r.reqs = append(r.reqs, Request{Method: req.Method, URL: &u, Header: req.Header.Clone(), Body: body})
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.Next.ServeHTTP(w, req)
}

// Requests returns the requests kept so far, in the order they came.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}
