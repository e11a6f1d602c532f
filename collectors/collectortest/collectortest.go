// Package collectortest is the contract suite of collectors.Collector: one
// set of named subtests that every provider runs against its own fake
// (fakecloud), so that what a refresh does with a recorded answer and with
// each fault is the same everywhere. A provider package calls Run from one
// test with a Case, the data of what differs: its fake's APIs, the text of
// its errors, the faults that do not apply to it, and misbehaviours of its
// own.
//
// Run builds the provider of a Case the way the daemon does
// (collectors.New), pointed at its plugin's fake (collectors.Fake), and
// checks:
//
//   - recorded: a refresh returns exactly the quotes and markets of the
//     provider's golden file (go test -update rewrites it);
//   - each row of the fault matrix (Row) on each API of the fake: the
//     refresh fails with the documented reason and no snapshot, or
//     succeeds with exactly the recorded quotes; no error shows a secret of
//     the section; a hung request ends as soon as its deadline passes; a
//     Retry-After is waited for (by the client, not by the test); and the
//     next refresh, the fault gone, returns the recorded quotes again;
//   - the provider's own misbehaviours (Case.Extra), the same way.
//
// Nothing waits on the wall clock: retries do not sleep (they record the
// wait asked for), and a hung request's deadline passes once the fake
// holds it (fakecloud.Faults.Hung).
package collectortest

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// MaxResponseBytes is the response size limit of the suite's HTTP client,
// which the Huge fault goes past. A collector with a client of its own
// sets that client's limit to it.
const MaxResponseBytes = 1 << 20

// Prompt is how soon a refresh must return once its deadline has passed.
const Prompt = 3 * time.Second

// bound is the deadline of every refresh the suite makes: one still
// running then ignores its context.
const bound = 30 * time.Second

// Succeeds is the Want.Reason of a refresh that must succeed: the fault
// is retried away, degrades the answer as documented, or does not apply.
const Succeeds = "succeeds"

// Case is one provider's expectations: all of the suite that differs from
// one provider to the next. S and C are its section and collector types,
// as in its collectors.Plugin: the provider is the one whose section is an
// S.
type Case[S config.Section, C collectors.Collector] struct {
	// Fake returns a new fake, a fakecloud.Faulty (default: the plugin's,
	// without drift).
	Fake func() http.Handler
	// Configure edits the section after the plugin's Fake.Point.
	Configure func(S)
	// Tune adjusts a new collector for tests: a lower page limit, a
	// fixed clock, the clients it has of its own.
	Tune func(C)
	// FX converts the prices of a provider that quotes another currency
	// than USD (its collectors.Env.FX).
	FX collectors.Converter
	// Golden is the file holding the recorded answer (default
	// testdata/recorded.golden).
	Golden string
	// ErrPrefix starts every error (but those of a Want.NoPrefix): the
	// provider, or the region it met the fault in.
	ErrPrefix string
	// APIs are the fake's APIs, each with how it meets the faults
	// (default: one API, "", meeting every fault as documented by Row).
	APIs []API[S]
	// Extra are misbehaviours of the provider's own.
	Extra []Extra[S]
}

// API is one API of a fake, by its fault queue (fakecloud.Faulty), and
// the outcomes of the matrix's rows on it where they differ from the
// documented ones.
type API[S config.Section] struct {
	// Name is the API's fault queue.
	Name string
	// Configure edits the section so that refreshes use this API (the
	// on-demand source that reads it), after Case.Configure.
	Configure func(S)
	// OwnClient says the API is reached through a client of the
	// collector's own (an SDK's, with retries of its own) rather than
	// collectors.Env.HTTPClient: the suite checks the outcome of each
	// fault, not how many requests it took or what the client waited.
	OwnClient bool
	// Unpaged says the API answers in one piece: EndlessPages and
	// NeedlessLink do not apply, and their refreshes succeed with the
	// usual requests.
	Unpaged bool
	// Throttle is the API's own throttling fault, if it has one
	// (fakecloud.AWSThrottle): the Throttled rows run, and Want must say
	// what Throttled gives.
	Throttle fakecloud.FaultKind
	// Want holds the outcomes that differ from the documented ones, by
	// row; its fields replace the row's.
	Want map[Row]Want
}

// Extra is a misbehaviour of the provider's own, checked like a row of
// the matrix.
type Extra[S config.Section] struct {
	Name string
	// API is the fault queue Faults go to.
	API    string
	Faults []fakecloud.Fault
	// Fake replaces the Case's fake (a variant: one wanting a key, one
	// with another error envelope).
	Fake func() http.Handler
	// Configure edits the section, after Case.Configure.
	Configure func(S)
	// Want is the outcome; its Reason is required.
	Want Want
}

// Want is the outcome of a row. In API.Want, the fields set replace the
// row's own, InErr adds to them, and a Reason of Succeeds replaces them
// all.
type Want struct {
	// Reason is collectors.Reason of the refresh's error, or Succeeds.
	Reason string
	// Is is an error the refresh's error wraps.
	Is error
	// InErr are texts the error holds: the provider's error body, the
	// field it could not decode.
	InErr []string
	// Shapes, on WrongTypes, are the texts of successive refreshes'
	// errors, for a fake that alternates its wrong answers: the row makes
	// one refresh per shape.
	Shapes []string
	// Status and Body are the *collectors.HTTPError's status code and the
	// start of its body.
	Status int
	Body   string
	// RetryAfter is what collectors.RetryAfter finds in the error, for
	// the Runner to schedule the next refresh after; -1 in API.Want for
	// none.
	RetryAfter time.Duration
	// Requests is how many requests the API gets in the row, when the
	// row's own count does not hold (a page limit).
	Requests int
	// NoPrefix exempts the error from Case.ErrPrefix (a verdict on the
	// whole answer rather than on one request).
	NoPrefix bool
}

// Row is one row of the fault matrix, run on every API of every fake.
type Row string

// The rows of the matrix, with the documented outcome of each on a
// collector that sends its requests one after the other through
// collectors.Env.HTTPClient (which retries 5xx and 429 three times).
// Failing rows fault every request, and fail at the first.
const (
	// Status5xxTwice: 503 twice, then answers: retried away, two more
	// requests than a clean refresh.
	Status5xxTwice Row = "5xx twice"
	// Status5xx: 503 on every request: http_5xx after three retries, the
	// *collectors.HTTPError of a 503.
	Status5xx Row = "5xx"
	// TooManyRequestsOnce: 429 with Retry-After 1s once: waited for, one
	// more request.
	TooManyRequestsOnce Row = "429 once"
	// TooManyRequests: 429 with Retry-After 1m, past the client's backoff
	// cap: http_429 at once, the *collectors.HTTPError of a 429 carrying
	// the Retry-After for the Runner.
	TooManyRequests Row = "429 past the backoff cap"
	// ThrottledOnce: the API's throttle fault once: retried away.
	ThrottledOnce Row = "throttled once"
	// Throttled: the throttle fault on every request: as API.Want says.
	Throttled Row = "throttled"
	// Hang: no answer: timeout, as soon as the deadline passes.
	Hang Row = "hang"
	// Truncated: the body cut in half: decode.
	Truncated Row = "truncated"
	// WrongTypes: numbers as strings, objects as lists: decode.
	WrongTypes Row = "wrong types"
	// Empty: a well-formed answer without items: empty.
	Empty Row = "empty"
	// EndlessPages: every page links to another: decode, at the
	// collector's page limit (on an API.Unpaged, success).
	EndlessPages Row = "endless pages"
	// NeedlessLink: one page links to another, which ends: success.
	NeedlessLink Row = "needless next link"
	// Huge: a body past MaxResponseBytes: decode, collectors.ErrTooLarge.
	Huge Row = "huge"
)

// retries is how many times the suite's client retries a 5xx or a 429.
const retries = 3

// row is a Row's faults and documented outcome.
type row struct {
	name   Row
	faults func(throttle fakecloud.FaultKind) []fakecloud.Fault
	want   Want
	// requests is the count of the API's requests in the row, from n, its
	// count in a clean refresh; nil when the row does not fix it.
	requests func(n int) int
	throttle bool // a row of APIs with a throttle fault only
}

// the returns the faults of a row; throttled those of a Throttled row,
// which are the API's.
func the(fs ...fakecloud.Fault) func(fakecloud.FaultKind) []fakecloud.Fault {
	return func(fakecloud.FaultKind) []fakecloud.Fault { return fs }
}

func throttled(times int) func(fakecloud.FaultKind) []fakecloud.Fault {
	return func(k fakecloud.FaultKind) []fakecloud.Fault { return []fakecloud.Fault{{Kind: k, Times: times}} }
}

// more returns a row's requests: k more than a clean refresh's n; one is
// the first request alone.
func more(k int) func(n int) int { return func(n int) int { return n + k } }
func one(int) int                { return 1 }

var matrix = []row{
	{name: Status5xxTwice, faults: the(fakecloud.Fault{Kind: fakecloud.Status5xx, Times: 2}),
		want: Want{Reason: Succeeds}, requests: more(2)},
	{name: Status5xx, faults: the(fakecloud.Fault{Kind: fakecloud.Status5xx}),
		want: Want{Reason: "http_5xx", Status: http.StatusServiceUnavailable}, requests: func(int) int { return 1 + retries }},
	{name: TooManyRequestsOnce, faults: the(fakecloud.Fault{Kind: fakecloud.TooManyRequests, Times: 1, RetryAfter: time.Second}),
		want: Want{Reason: Succeeds}, requests: more(1)},
	{name: TooManyRequests, faults: the(fakecloud.Fault{Kind: fakecloud.TooManyRequests, RetryAfter: time.Minute}),
		want: Want{Reason: "http_429", Status: http.StatusTooManyRequests, RetryAfter: time.Minute}, requests: one},
	{name: ThrottledOnce, faults: throttled(1), throttle: true, want: Want{Reason: Succeeds}},
	{name: Throttled, faults: throttled(0), throttle: true},
	{name: Hang, faults: the(fakecloud.Fault{Kind: fakecloud.Hang}),
		want: Want{Reason: "timeout", Is: context.DeadlineExceeded}, requests: one},
	{name: Truncated, faults: the(fakecloud.Fault{Kind: fakecloud.Truncate}), want: Want{Reason: "decode"}, requests: one},
	{name: WrongTypes, faults: the(fakecloud.Fault{Kind: fakecloud.WrongTypes}), want: Want{Reason: "decode"}},
	{name: Empty, faults: the(fakecloud.Fault{Kind: fakecloud.Empty}),
		want: Want{Reason: "empty", Is: collectors.ErrEmpty}, requests: one},
	{name: EndlessPages, faults: the(fakecloud.Fault{Kind: fakecloud.EndlessPages}), want: Want{Reason: "decode"}},
	{name: NeedlessLink, faults: the(fakecloud.Fault{Kind: fakecloud.EndlessPages, Times: 1}), want: Want{Reason: Succeeds}},
	{name: Huge, faults: the(fakecloud.Fault{Kind: fakecloud.Huge}),
		want: Want{Reason: "decode", Is: collectors.ErrTooLarge}, requests: one},
}

// over returns w with the unset fields taken from def.
func (w Want) over(def Want) Want {
	switch w.Reason {
	case Succeeds:
		return w
	case "":
		w.Reason = def.Reason
	}
	if w.Reason == Succeeds {
		return w
	}
	if w.Is == nil {
		w.Is = def.Is
	}
	if w.Status == 0 {
		w.Status = def.Status
	}
	switch w.RetryAfter {
	case 0:
		w.RetryAfter = def.RetryAfter
	case -1:
		w.RetryAfter = 0
	}
	w.InErr = append(slices.Clone(def.InErr), w.InErr...)
	return w
}

// Run runs the contract suite for the provider of c.
func Run[S config.Section, C collectors.Collector](t *testing.T, c Case[S, C]) {
	s := &suite[S, C]{c: c}
	builtin := config.Builtin()
	for _, f := range collectors.Fakes() {
		if _, ok := builtin.Providers[f.Provider].(S); ok {
			s.name, s.plugin = f.Provider, f
		}
	}
	if s.plugin.Handler == nil {
		t.Fatalf("no provider with a fake has a section of type %T", *new(S))
	}
	if len(s.c.APIs) == 0 {
		s.c.APIs = []API[S]{{}}
	}
	if s.c.Golden == "" {
		s.c.Golden = filepath.Join("testdata", "recorded.golden")
	}
	if !*update {
		// Read here, not in "recorded": that subtest may be left out by
		// -run.
		s.golden, _ = os.ReadFile(s.c.Golden)
	}
	if !t.Run("recorded", s.recorded) {
		return
	}
	for _, api := range s.c.APIs {
		t.Run(cmp.Or(api.Name, "faults"), func(t *testing.T) { s.api(t, api) })
	}
	if len(c.Extra) > 0 {
		t.Run("extra", func(t *testing.T) {
			for _, x := range c.Extra {
				t.Run(x.Name, func(t *testing.T) { s.extra(t, x) })
			}
		})
	}
}

type suite[S config.Section, C collectors.Collector] struct {
	c      Case[S, C]
	name   string // the provider
	plugin collectors.FakeAPI
	golden []byte // the recorded answer, rendered
}

// recorded checks a refresh against the golden file.
func (s *suite[S, C]) recorded(t *testing.T) {
	r := s.start(t, nil, nil)
	snap, err := r.collect(t, nil)
	if err != nil {
		t.Fatalf("refresh of the recorded answer: %v", err)
	}
	s.golden = golden(t, s.c.Golden, render(t, s.name, snap))
}

// api runs the matrix on one API.
func (s *suite[S, C]) api(t *testing.T, api API[S]) {
	// A clean refresh in the API's configuration: the recorded answer,
	// and the requests every row's count starts from.
	r := s.start(t, api.Configure, nil)
	q := r.queue(t, api.Name)
	snap, err := r.collect(t, nil)
	if err != nil {
		t.Fatalf("clean refresh: %v", err)
	}
	s.same(t, snap, "a clean refresh")
	n := q.Requests()
	if n == 0 {
		t.Fatalf("a refresh sends API %q no request: its faults would test nothing", api.Name)
	}
	for _, rw := range matrix {
		if rw.throttle && api.Throttle == "" {
			continue
		}
		want, ok := api.Want[rw.name]
		if rw.name == Throttled && !ok {
			t.Fatalf("API %q has a throttle fault but no Want for %s", api.Name, Throttled)
		}
		if api.Unpaged && (rw.name == EndlessPages || rw.name == NeedlessLink) {
			rw.want, rw.requests = Want{Reason: Succeeds}, more(0)
		}
		want = want.over(rw.want)
		requests := want.Requests
		if requests == 0 && rw.requests != nil {
			requests = rw.requests(n)
		}
		if api.OwnClient {
			requests = 0
		}
		t.Run(string(rw.name), func(t *testing.T) {
			t.Parallel()
			s.run(t, trial[S]{api: api, faults: rw.faults(api.Throttle), want: want, requests: requests,
				recover: true, waitOut: rw.name == TooManyRequestsOnce && !api.OwnClient})
		})
	}
}

// extra runs one of the provider's own misbehaviours.
func (s *suite[S, C]) extra(t *testing.T, x Extra[S]) {
	if x.Want.Reason == "" {
		t.Fatal("the Want of an Extra needs a Reason")
	}
	api := API[S]{Name: x.API}
	for _, a := range s.c.APIs {
		if a.Name == x.API {
			api = a
		}
	}
	requests := x.Want.Requests
	if api.OwnClient {
		requests = 0
	}
	s.run(t, trial[S]{api: api, faults: x.Faults, fake: x.Fake, configure: x.Configure, want: x.Want,
		requests: requests, recover: x.Fake == nil && x.Configure == nil})
}

// trial is one row or Extra.
type trial[S config.Section] struct {
	api       API[S]
	faults    []fakecloud.Fault
	fake      func() http.Handler
	configure func(S)
	want      Want
	requests  int  // the API's requests, when not 0
	recover   bool // check the refresh after the faults are cleared
	waitOut   bool // check that a Retry-After of 1s was waited for
}

func (s *suite[S, C]) run(t *testing.T, tr trial[S]) {
	r := s.start(t, func(sec S) {
		if tr.api.Configure != nil {
			tr.api.Configure(sec)
		}
		if tr.configure != nil {
			tr.configure(sec)
		}
	}, tr.fake)
	q := r.queue(t, tr.api.Name)
	q.Add(tr.faults...)
	hang := slices.ContainsFunc(tr.faults, func(f fakecloud.Fault) bool { return f.Kind == fakecloud.Hang })
	for i := range max(1, len(tr.want.Shapes)) {
		var hung <-chan struct{}
		if hang {
			hung = q.Hung()
		}
		snap, err := r.collect(t, hung)
		s.check(t, r, tr.want, i, snap, err)
	}
	if tr.requests != 0 && q.Requests() != tr.requests {
		t.Errorf("%d requests to API %q, want %d", q.Requests(), tr.api.Name, tr.requests)
	}
	if tr.waitOut {
		if w := r.waits.longest(); w < time.Second {
			t.Errorf("longest wait before a retry %s, want the Retry-After of 1s", w)
		}
	}
	if !tr.recover {
		return
	}
	q.Clear()
	snap, err := r.collect(t, nil)
	if err != nil {
		t.Fatalf("the refresh after the fault: %v", err)
	}
	s.same(t, snap, "the refresh after the fault")
}

// check compares the outcome of the i-th refresh of a row with want.
func (s *suite[S, C]) check(t *testing.T, r *rig[S, C], want Want, i int, snap *price.Snapshot, err error) {
	t.Helper()
	if want.Reason == Succeeds {
		if err != nil {
			t.Fatalf("refresh failed (reason %s): %v", collectors.Reason(err), err)
		}
		s.same(t, snap, "the refresh")
		return
	}
	if got := collectors.Reason(err); got != want.Reason {
		t.Fatalf("reason %q, want %q (err: %v)", got, want.Reason, err)
	}
	if snap != nil {
		t.Error("a snapshot came with the error")
	}
	msg := err.Error()
	if want.Is != nil && !errors.Is(err, want.Is) {
		t.Errorf("error %v is not %v", err, want.Is)
	}
	texts := want.InErr
	if i < len(want.Shapes) {
		texts = append(slices.Clone(texts), want.Shapes[i])
	}
	for _, text := range texts {
		if !strings.Contains(msg, text) {
			t.Errorf("error %v does not hold %q", err, text)
		}
	}
	if want.Status != 0 || want.Body != "" {
		var he *collectors.HTTPError
		switch {
		case !errors.As(err, &he):
			t.Errorf("error %v is not a *collectors.HTTPError", err)
		case want.Status != 0 && he.StatusCode != want.Status:
			t.Errorf("HTTP status %d, want %d", he.StatusCode, want.Status)
		case !strings.HasPrefix(he.Body, want.Body):
			t.Errorf("error body %q does not start with %q", he.Body, want.Body)
		}
	}
	if want.RetryAfter != 0 {
		if got := collectors.RetryAfter(err); got != want.RetryAfter {
			t.Errorf("RetryAfter = %s, want the server's %s", got, want.RetryAfter)
		}
	}
	if p := s.c.ErrPrefix; p != "" && !want.NoPrefix && !strings.HasPrefix(msg, p) {
		t.Errorf("error does not start with %q: %v", p, err)
	}
	for _, secret := range r.secrets() {
		if strings.Contains(msg, secret) {
			t.Errorf("the error shows a secret of the configuration: %v", err)
		}
	}
}

// same checks that a successful refresh returned the recorded answer.
func (s *suite[S, C]) same(t *testing.T, snap *price.Snapshot, what string) {
	t.Helper()
	if got := render(t, s.name, snap); !equal(t, got, s.golden) {
		t.Errorf("%s differs from the recorded answer", what)
	}
}

// rig is one fake, and a collector pointed at it.
type rig[S config.Section, C collectors.Collector] struct {
	fake      fakecloud.Faulty
	section   S
	collector C
	waits     waits
}

// start serves a new fake and builds a collector for it, its section
// edited by configure (when not nil) after the Case's Configure.
func (s *suite[S, C]) start(t *testing.T, configure func(S), fake func() http.Handler) *rig[S, C] {
	t.Helper()
	if fake == nil {
		fake = s.c.Fake
	}
	var h http.Handler
	if fake != nil {
		h = fake()
	} else {
		h = s.plugin.Handler(fakecloud.Drift{})
	}
	f, ok := h.(fakecloud.Faulty)
	if !ok {
		t.Fatalf("the fake of %s, a %T, is not a fakecloud.Faulty", s.name, h)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)

	cfg := config.Builtin()
	s.plugin.Point(cfg, srv.URL)
	r := &rig[S, C]{fake: f, section: cfg.Providers[s.name].(S)}
	r.section.Shared().Enabled = true
	for _, edit := range []func(S){s.c.Configure, configure} {
		if edit != nil {
			edit(r.section)
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the section pointed at the fake: %v", err)
	}
	env := collectors.Env{
		HTTPClient: collectors.NewHTTPClient(collectors.HTTPOptions{MaxResponseBytes: MaxResponseBytes, Sleep: r.waits.sleep}),
		Catalog:    price.DefaultCatalog(),
		FX:         s.c.FX,
	}
	c, err := collectors.New(s.name, cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	r.collector = c.(C)
	if s.c.Tune != nil {
		s.c.Tune(r.collector)
	}
	return r
}

// queue returns the fake's fault queue of api.
func (r *rig[S, C]) queue(t *testing.T, api string) *fakecloud.Faults {
	t.Helper()
	q := r.fake.FaultQueue(api)
	if q == nil {
		t.Fatalf("the fake has no API %q", api)
	}
	return q
}

// collect runs one refresh. When hung is not nil, its deadline passes as
// soon as hung is closed, and it must return within Prompt of that.
func (r *rig[S, C]) collect(t *testing.T, hung <-chan struct{}) (*price.Snapshot, error) {
	t.Helper()
	var (
		ctx     context.Context
		expired func() time.Time // when the deadline passed; zero if it did not
	)
	if hung == nil {
		c, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		ctx, expired = c, func() time.Time { return time.Time{} }
	} else {
		e := newExpiring()
		defer e.expire()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-hung:
				e.expire()
			case <-stop:
			}
		}()
		ctx, expired = e, e.expiredAt
	}
	type result struct {
		snap *price.Snapshot
		err  error
	}
	done := make(chan result, 1)
	go func() {
		snap, err := r.collector.Collect(ctx)
		done <- result{snap, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(bound + Prompt):
		t.Fatalf("the refresh ignored its deadline of %s", bound)
	}
	if hung != nil {
		at := expired()
		switch {
		case at.IsZero():
			t.Error("the refresh ended without the fake holding a request")
		case time.Since(at) > Prompt:
			t.Errorf("the refresh returned %s after its deadline passed, want at once", time.Since(at).Round(time.Millisecond))
		}
	}
	return res.snap, res.err
}

// secrets returns the non-empty config.Secret values of the section.
func (r *rig[S, C]) secrets() []string { return config.SecretsOf(r.section) }

// waits records the waits the suite's client asked for, without waiting.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) longest() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Max(append([]time.Duration{0}, w.d...))
}

// Instant is a collectors.HTTPOptions.Sleep that does not wait, for the
// clients a collector has of its own.
func Instant(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// expiring is a context whose deadline passes when expire is called
// rather than at a time.
type expiring struct {
	context.Context // values only
	done            chan struct{}
	once            sync.Once
	mu              sync.Mutex
	at              time.Time
}

func newExpiring() *expiring {
	return &expiring{Context: context.Background(), done: make(chan struct{})}
}

func (e *expiring) expire() {
	e.once.Do(func() {
		e.mu.Lock()
		e.at = time.Now()
		e.mu.Unlock()
		close(e.done)
	})
}

func (e *expiring) expiredAt() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.at
}

func (e *expiring) Done() <-chan struct{} { return e.done }

func (e *expiring) Err() error {
	select {
	case <-e.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
