package all_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/aws"
	"github.com/gpuprice/gpuprice/collectors/azure"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// The answer fuzzers run each provider's real collector (its real HTTP
// client or SDK, its decoders, its normalization) against its fake, but
// with one answer replaced by the fuzzer's bytes: the which-th request of
// the refresh (modulo the requests it makes) gets them as a 200 with the
// fake's headers. A refresh may fail; it may not panic, hang past its
// deadline, or loop on requests. The seeds are the fake's own answers.

// fuzzMaxRequests stops a walk that an answer sends round in circles
// (a next-page link to itself).
const fuzzMaxRequests = 64

// fuzzSetups make each provider's refresh small: one region, few types,
// no filler, so that an execution takes milliseconds.
var fuzzSetups = map[string]struct {
	fake  func() http.Handler // nil: the provider's registered fake
	shape func(*config.Config)
}{
	"aws": {
		fake: func() http.Handler {
			return fakecloud.NewAWS(fakecloud.AWSOptions{Regions: []string{"us-east-1"}, InstanceTypes: []string{"p5.48xlarge", "g6.xlarge"}})
		},
		shape: func(cfg *config.Config) {
			s := cfg.Providers["aws"].(*aws.Config)
			s.Regions, s.SpotBackfill = []string{"us-east-1"}, 0
		},
	},
	"azure": {
		fake: func() http.Handler { return fakecloud.NewAzure(fakecloud.AzureOptions{PageSize: 4}) },
		shape: func(cfg *config.Config) {
			s := cfg.Providers["azure"].(*azure.Config)
			s.Regions, s.Concurrency = []string{"uaenorth"}, 1
		},
	},
	"gcp":    {fake: func() http.Handler { return fakecloud.NewGCP(fakecloud.GCPOptions{MaxPageSize: 8}) }},
	"vastai": {fake: func() http.Handler { return fakecloud.NewVastAI(fakecloud.VastAIOptions{Synthesize: 3}) }},
}

// fuzzServer serves every request from the fake, but the which-th. A fuzz
// worker runs one input at a time, so one server serves them all. (The
// engine's exec counter lags: a worker reports in batches.)
type fuzzServer struct {
	fake http.Handler

	mu    sync.Mutex
	n     int64
	which int64 // -1: none
	body  []byte
	// record, when set, gets every answer's body (for the seeds).
	record func(i int64, body []byte)
}

// next makes the server serve body as the which-th answer from now on.
func (fs *fuzzServer) next(which int64, body []byte, record func(int64, []byte)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.n, fs.which, fs.body, fs.record = 0, which, body, record
}

func (fs *fuzzServer) requests() int64 {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.n
}

func (fs *fuzzServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	i, which, body, record := fs.n, fs.which, fs.body, fs.record
	fs.n++
	fs.mu.Unlock()
	if i >= fuzzMaxRequests {
		http.Error(w, "fuzz: too many requests", http.StatusBadRequest)
		return
	}
	rec := httptest.NewRecorder()
	fs.fake.ServeHTTP(rec, r)
	if record != nil {
		record(i, rec.Body.Bytes())
	}
	status := rec.Code
	if i != which {
		body = rec.Body.Bytes()
	} else {
		status = http.StatusOK
	}
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(status)
	w.Write(body)
}

// answerFuzzer is one provider's collector against its fake behind a
// fuzzServer.
type answerFuzzer struct {
	provider string
	fs       *fuzzServer
	srv      *httptest.Server
	client   *http.Client
	cfg      *config.Config
	// walk is the number of requests of a refresh against the fake: the
	// answers a fuzz input may replace.
	walk int64
}

func newAnswerFuzzer(tb testing.TB, provider string) *answerFuzzer {
	var fake collectors.FakeAPI
	for _, fa := range collectors.Fakes() {
		if fa.Provider == provider {
			fake = fa
		}
	}
	setup := fuzzSetups[provider]
	af := &answerFuzzer{provider: provider, fs: &fuzzServer{fake: fake.Handler(fakecloud.Drift{})}, cfg: config.Builtin()}
	if setup.fake != nil {
		af.fs.fake = setup.fake()
	}
	af.srv = httptest.NewServer(af.fs)
	tb.Cleanup(af.srv.Close)
	af.client = collectors.NewHTTPClient(collectors.HTTPOptions{MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond, MaxResponseBytes: 16 << 20})
	af.cfg.Providers.Each(func(name string, s config.Section) { s.Shared().Enabled = name == provider })
	fake.Point(af.cfg, af.srv.URL)
	if setup.shape != nil {
		setup.shape(af.cfg)
	}
	return af
}

// run refreshes once with body as the which-th answer (-1: none),
// recording the answers when record is set.
func (af *answerFuzzer) run(which int64, body []byte, record func(int64, []byte)) error {
	af.fs.next(which, body, record)
	// A collector with its own client (AWS's SDK) leaves its connections
	// open: close them, or every run adds some.
	defer af.srv.CloseClientConnections()
	c, err := collectors.New(af.provider, af.cfg, collectors.Env{HTTPClient: af.client, Logger: slog.New(slog.DiscardHandler), FX: fixedFX{}})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = collectors.Safely(func() error { _, err := c.Collect(ctx); return err })
	if ctx.Err() != nil && af.fs.requests() < fuzzMaxRequests {
		return fmt.Errorf("the refresh ran past its deadline after %d requests: %w", af.fs.requests(), err)
	}
	var pe *collectors.PanicError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s panicked on answer %d: %v\n%s", af.provider, which, pe.Value, pe.Stack)
	}
	return nil
}

func fuzzAnswers(f *testing.F, provider string) {
	af := newAnswerFuzzer(f, provider)
	// Seeds: the fake's answers of one whole refresh, the small ones (the
	// mutator works best on small inputs).
	seen := 0
	if err := af.run(-1, nil, func(i int64, body []byte) {
		if len(body) <= 16<<10 && seen < 8 {
			seen++
			f.Add(uint8(i), bytes.Clone(body))
		}
	}); err != nil {
		f.Fatal(err)
	}
	af.walk = af.fs.requests()
	f.Add(uint8(0), []byte(`{}`))
	f.Add(uint8(1), []byte(`[]`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		if err := af.run(int64(which)%af.walk, body, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzAWSAnswer(f *testing.F)          { fuzzAnswers(f, "aws") }
func FuzzAzureAnswer(f *testing.F)        { fuzzAnswers(f, "azure") }
func FuzzGCPAnswer(f *testing.F)          { fuzzAnswers(f, "gcp") }
func FuzzLambdaAnswer(f *testing.F)       { fuzzAnswers(f, "lambda") }
func FuzzRunpodAnswer(f *testing.F)       { fuzzAnswers(f, "runpod") }
func FuzzVastAIAnswer(f *testing.F)       { fuzzAnswers(f, "vastai") }
func FuzzVerdaAnswer(f *testing.F)        { fuzzAnswers(f, "verda") }
func FuzzAkashAnswer(f *testing.F)        { fuzzAnswers(f, "akash") }
func FuzzOCIAnswer(f *testing.F)          { fuzzAnswers(f, "oci") }
func FuzzScalewayAnswer(f *testing.F)     { fuzzAnswers(f, "scaleway") }
func FuzzDigitalOceanAnswer(f *testing.F) { fuzzAnswers(f, "digitalocean") }
func FuzzOVHcloudAnswer(f *testing.F)     { fuzzAnswers(f, "ovhcloud") }
func FuzzGolemAnswer(f *testing.F)        { fuzzAnswers(f, "golem") }

// fixedFX converts at 1.1 USD per unit of any currency.
type fixedFX struct{}

func (fixedFX) USD(_ context.Context, amount float64, _ string) (float64, time.Time, error) {
	return amount * 1.1, time.Now(), nil
}
