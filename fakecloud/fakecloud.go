// Package fakecloud holds in-process fake provider APIs that speak each
// provider's real wire protocol, serving hand-written recorded data. Tests
// point the real clients at them, benchmarks load them, and `gpuprice demo`
// runs the whole daemon against them.
//
// Every fake has a Faults queue per API (Faulty names them): a test selects
// the next failures (5xx, 429 with Retry-After, a hang, a truncated body,
// wrong types, an empty list, endless pagination, a huge response) and the
// fake serves them in order before answering normally again. The collector
// contract suite, collectors/collectortest, runs each against every
// collector.
package fakecloud

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind is a kind of misbehaviour a fake can show.
type FaultKind string

// The fault kinds. The generic ones (applied by Faults.Wrap to any handler)
// are Status5xx, TooManyRequests, Hang and Truncate; the others need the
// fake's own knowledge of its wire format and are handled by each fake.
const (
	Status5xx       FaultKind = "5xx"         // HTTP 503 with the provider's error body
	TooManyRequests FaultKind = "429"         // HTTP 429 with Retry-After
	Hang            FaultKind = "hang"        // no answer until the client gives up
	Truncate        FaultKind = "truncate"    // the normal body cut in half
	WrongTypes      FaultKind = "wrong_types" // numbers as strings, objects as arrays
	Empty           FaultKind = "empty"       // a well-formed answer with no items
	EndlessPages    FaultKind = "endless"     // every page links to another
	Huge            FaultKind = "huge"        // a body far larger than any real one
	// EchoRequest answers HTTP 400 with a body that repeats the request —
	// its URL with the query, then its headers — as some providers (Runpod
	// repeats ?api_key=) and proxies do: tests check that no credential
	// leaves the collector.
	EchoRequest FaultKind = "echo"
)

// Fault is one scheduled misbehaviour.
type Fault struct {
	Kind FaultKind
	// Times is how many requests get it; 0 means every request until
	// Faults.Clear.
	Times int
	// RetryAfter is sent with TooManyRequests (default 1s).
	RetryAfter time.Duration
}

// Faults is a fake's queue of scheduled faults; safe for concurrent use.
type Faults struct {
	mu       sync.Mutex
	queue    []Fault
	requests int
	hung     chan struct{} // closed once a request is held by Hang
}

// Faulty is a fake whose faults tests schedule by API: what the collector
// contract suite (collectors/collectortest) drives. Every fake is one.
type Faulty interface {
	http.Handler
	// FaultQueue returns the queue of the fake's API called api, nil for
	// an API it does not have. "" is the fake's only API, or its main one.
	FaultQueue(api string) *Faults
}

var (
	_ Faulty = (*AWS)(nil)
	_ Faulty = (*Azure)(nil)
	_ Faulty = (*GCP)(nil)
	_ Faulty = (*Lambda)(nil)
	_ Faulty = (*Runpod)(nil)
	_ Faulty = (*VastAI)(nil)
	_ Faulty = (*Akash)(nil)
	_ Faulty = (*CoinGecko)(nil)
	_ Faulty = (*DigitalOcean)(nil)
	_ Faulty = (*ECB)(nil)
	_ Faulty = (*Golem)(nil)
	_ Faulty = (*OVHcloud)(nil)
	_ Faulty = (*Scaleway)(nil)
	_ Faulty = (*Verda)(nil)
	_ Faulty = (*OCI)(nil)
)

// Add schedules faults after those already queued.
func (f *Faults) Add(faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, faults...)
}

// Clear drops every scheduled fault.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = nil
}

// Requests returns how many requests the fake has received.
func (f *Faults) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// Hung returns a channel closed once the fake holds a request with the
// Hang fault: a test can let its client's deadline pass then, rather than
// after a guess at how long the request takes to arrive.
func (f *Faults) Hung() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hungLocked()
}

func (f *Faults) hungLocked() chan struct{} {
	if f.hung == nil {
		f.hung = make(chan struct{})
	}
	return f.hung
}

// holding notes that a request is held by Hang.
func (f *Faults) holding() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.hungLocked():
	default:
		close(f.hung)
	}
}

// Next counts a request and returns the fault it gets, if any.
func (f *Faults) Next() (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if len(f.queue) == 0 {
		return Fault{}, false
	}
	ft := f.queue[0]
	if ft.Times > 0 {
		f.queue[0].Times--
		if f.queue[0].Times == 0 {
			f.queue = f.queue[1:]
		}
	}
	return ft, true
}

// faultKey carries a request's fault to the fake's own handler.
type faultKey struct{}

// FaultOf returns the provider-specific fault selected for r, if any.
func FaultOf(r *http.Request) (Fault, bool) {
	ft, ok := r.Context().Value(faultKey{}).(Fault)
	return ft, ok
}

// Wrap applies the generic faults to h and passes the others on to h
// through the request context (see FaultOf). errorBody renders the
// provider's error envelope for a status code and message.
func (f *Faults) Wrap(h http.Handler, errorBody func(status int, msg string) (contentType string, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ft, ok := f.Next()
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		switch ft.Kind {
		case Status5xx:
			writeError(w, errorBody, http.StatusServiceUnavailable, "service unavailable (injected fault)")
		case TooManyRequests:
			ra := ft.RetryAfter
			if ra == 0 {
				ra = time.Second
			}
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.Seconds()))))
			writeError(w, errorBody, http.StatusTooManyRequests, "too many requests (injected fault)")
		case Hang:
			// net/http notices a client hanging up only once the request
			// body has been read: drain it, or a hung POST outlives its
			// client (and blocks the server's Close).
			io.Copy(io.Discard, r.Body)
			f.holding()
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Minute):
			}
		case EchoRequest:
			var b strings.Builder
			fmt.Fprintf(&b, "bad request: %s %s", r.Method, r.URL.RequestURI())
			for _, k := range slices.Sorted(maps.Keys(r.Header)) {
				fmt.Fprintf(&b, "; %s: %s", k, strings.Join(r.Header[k], ", "))
			}
			writeError(w, errorBody, http.StatusBadRequest, b.String())
		case Truncate:
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(body[:len(body)/2])
		default:
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), faultKey{}, ft)))
		}
	})
}

func writeError(w http.ResponseWriter, errorBody func(int, string) (string, []byte), status int, msg string) {
	ct, body := "text/plain; charset=utf-8", []byte(msg)
	if errorBody != nil {
		ct, body = errorBody(status, msg)
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	w.Write(body)
}

// Answer is an API that answers every request with body, as JSON: for
// hand-written answers no fake produces (rows of the wrong types, fields
// missing), which collectors must survive.
func Answer(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	})
}

// AnswerAt is an API that answers a request for uri (its path and query,
// as the client sends them) with what body returns then, as JSON, and
// anything else with 404: Answer for a collector whose request is checked.
func AnswerAt(uri string, body func() string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RequestURI() != uri {
			http.NotFound(w, r)
			return
		}
		Answer(body()).ServeHTTP(w, r)
	})
}

// Server is a fake listening on a loopback port.
type Server struct {
	URL string
	srv *http.Server
	ln  net.Listener
}

// Start serves h on 127.0.0.1 at a free port (or at addr, when not empty).
func Start(h http.Handler, addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return s, nil
}

// Close stops the server, cutting open connections (a hung request ends).
func (s *Server) Close() error { return s.srv.Close() }

// Drift makes recorded prices move a little over time, so that a demo's
// dashboards show life. The zero Drift leaves prices unchanged.
type Drift struct {
	// Tick is how often prices change; 0 disables drift.
	Tick time.Duration
	// Amplitude is the largest relative change (default 0.05 = ±5%).
	Amplitude float64
	// Now returns the current time (default time.Now); tests set it.
	Now func() time.Time
	// Dip, when positive, multiplies every price by DipFactor during the
	// second half of each Dip period counted from Origin, so that price
	// alerts can be seen firing and resolving at predictable times
	// (`gpuprice demo --demo.dip`). A tick dips when it starts inside a
	// dip, so a dip begins and ends at a tick boundary. Needs Tick > 0.
	Dip time.Duration
	// Origin is where the Dip periods are counted from (default: the Unix
	// epoch).
	Origin time.Time
}

// Demo returns a provider's fake as its plugin registers it
// (collectors.Fake.Handler): newFake with opts, its prices moving with
// the drift it is given. Every fake's options embed a Drift.
func Demo[O any, P interface {
	*O
	drift() *Drift
}, F http.Handler](newFake func(O) F, opts O) func(Drift) http.Handler {
	return func(d Drift) http.Handler {
		o := opts
		*P(&o).drift() = d
		return newFake(o)
	}
}

func (d *Drift) drift() *Drift { return d }

// DipFactor is what a Drift's Dip multiplies prices by.
const DipFactor = 0.5

// Apply returns price moved by a factor that depends only on the item id
// and the current tick: every request within one tick sees the same price,
// so a paginated walk stays consistent.
func (d Drift) Apply(id string, price float64) float64 {
	if d.Tick <= 0 || price == 0 {
		return price
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	amp := d.Amplitude
	if amp == 0 {
		amp = 0.05
	}
	tick := now().UnixNano() / int64(d.Tick)
	h := fnv.New64a()
	h.Write([]byte(id))
	phase := float64(h.Sum64()%1000) / 1000 * 2 * math.Pi
	factor := 1 + amp*math.Sin(float64(tick)/3+phase)
	if d.dipping(tick * int64(d.Tick)) {
		factor *= DipFactor
	}
	return math.Round(price*factor*1e4) / 1e4
}

// dipping reports whether the tick starting at t (Unix nanoseconds) is in
// a dip.
func (d Drift) dipping(t int64) bool {
	if d.Dip <= 0 {
		return false
	}
	var origin int64
	if !d.Origin.IsZero() {
		origin = d.Origin.UnixNano()
	}
	since := t - origin
	return since >= 0 && since%int64(d.Dip) >= int64(d.Dip)/2
}

// streamHuge writes a JSON document that goes on for limit bytes without
// being held in memory: prefix, then item(i) for i = 0, 1, ...,
// comma-separated, until limit bytes are written or the client hangs up,
// then suffix(n) for the n items written. Its Content-Type is
// application/json unless the caller set another.
func streamHuge(w http.ResponseWriter, limit int64, prefix string, item func(i int) []byte, suffix func(n int) string) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	written, err := counted(io.WriteString(w, prefix))
	n := 0
	for ; err == nil && written < limit; n++ {
		if n > 0 {
			var c int64
			c, err = counted(io.WriteString(w, ","))
			written += c
		}
		var c int64
		c, err = counted(w.Write(item(n)))
		written += c
	}
	if err == nil {
		io.WriteString(w, suffix(n))
	}
}
