package aws

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// t0 is the fake's clock in most tests.
var t0 = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// clock is a settable clock shared by a fake and a collector.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startFake serves a fake AWS on a loopback port for the test.
func startFake(t testing.TB, opts fakecloud.AWSOptions) (*fakecloud.AWS, string) {
	t.Helper()
	f := fakecloud.NewAWS(opts)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// testConfig is the aws section pointed at a fake, with dummy static
// credentials.
func testConfig(url string, regions ...string) Config {
	cfg := *defaults()
	cfg.Enabled = true
	cfg.EC2Endpoint, cfg.PricingEndpoint = url, url
	cfg.Endpoint = url + fakecloud.AWSOfferPath
	cfg.AccessKeyID, cfg.SecretAccessKey = "AKIDEXAMPLE", "dummy-secret"
	cfg.Regions = regions
	cfg.RateLimit = 10000
	cfg.Concurrency = 4
	return cfg
}

// fastBackoff replaces the SDK retryer's delays (1s and up for
// throttling) in tests.
var fastBackoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })

// newTestCollector builds a collector on clk with fast retries.
func newTestCollector(t testing.TB, cfg Config, hist collectors.Backfiller, clk *clock, logger *slog.Logger) *Collector {
	t.Helper()
	c := newCollector(&cfg, collectors.Env{Backfiller: hist, Logger: logger}, nil)
	tune(c, clk)
	return c
}

// tune gives c retries that do not wait and, when clk is not nil, clk's
// time.
func tune(c *Collector, clk *clock) {
	c.backoff = fastBackoff
	c.bulkHTTP = collectors.NewHTTPClient(collectors.HTTPOptions{MaxResponseBytes: 1 << 62, Sleep: collectortest.Instant})
	if clk != nil {
		c.now = clk.Now
	}
}

// storeHistory is the store as the daemon hands it to the collector
// (collectors.Env.History): stamped with the provider.
type storeHistory struct{ st store.Store }

func (h storeHistory) Backfill(ctx context.Context, qs []price.Quote) (store.Result, error) {
	for i := range qs {
		qs[i].Provider = Name
	}
	return h.st.Backfill(ctx, qs)
}

func (h storeHistory) LastPoints(ctx context.Context) (map[price.SeriesKey]time.Time, error) {
	return h.st.LastPoints(ctx, Name)
}

func openStore(t testing.TB, dir string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestFacts(t *testing.T) {
	f, url := startFake(t, fakecloud.AWSOptions{Now: newClock(t0).Now})
	c := newTestCollector(t, testConfig(url, "us-east-1"), nil, nil, nil)
	ctx := context.Background()
	cfg, err := c.sdkConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	facts, err := c.instanceTypes(ctx, c.ec2Client(cfg, "us-east-1"), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(facts) != fakecloud.AWSGPUTypeCount() {
		t.Errorf("%d GPU instance types, want %d (every GPU type of us-east-1)", len(facts), fakecloud.AWSGPUTypeCount())
	}
	for _, tc := range []struct {
		name, instanceType string
		want               gpuFacts
		absent             bool
	}{
		{name: "V100 16GB", instanceType: "p3.2xlarge", want: gpuFacts{raw: "NVIDIA V100", model: "V100", form: "sxm", memGB: 16, count: 1}},
		{name: "V100 32GB snapped", instanceType: "p3dn.24xlarge", want: gpuFacts{raw: "NVIDIA V100", model: "V100", form: "sxm", memGB: 32, count: 8}},
		{name: "A100 40GB snapped", instanceType: "p4d.24xlarge", want: gpuFacts{raw: "NVIDIA A100", model: "A100", form: "sxm", memGB: 40, count: 8}},
		{name: "p4de without GpuInfo", instanceType: "p4de.24xlarge", want: gpuFacts{raw: "NVIDIA A100", model: "A100", form: "sxm", memGB: 80, count: 8}},
		{name: "one H100", instanceType: "p5.4xlarge", want: gpuFacts{raw: "NVIDIA H100", model: "H100", form: "sxm", memGB: 80, count: 1}},
		{name: "p5en named NVIDIA", instanceType: "p5en.48xlarge", want: gpuFacts{raw: "NVIDIA H200", model: "H200", form: "sxm", memGB: 141, count: 8}},
		{name: "B200", instanceType: "p6-b200.48xlarge", want: gpuFacts{raw: "NVIDIA B200", model: "B200", form: "sxm", memGB: 180, count: 8}},
		{name: "T4", instanceType: "g4dn.12xlarge", want: gpuFacts{raw: "NVIDIA T4", model: "T4", form: "pcie", memGB: 16, count: 4}},
		{name: "AMD", instanceType: "g4ad.8xlarge", want: gpuFacts{raw: "AMD Radeon Pro V520", model: "V520", form: "pcie", memGB: 8, count: 2}},
		{name: "A10G memory as marketed", instanceType: "g5.48xlarge", want: gpuFacts{raw: "NVIDIA A10G", model: "A10G", form: "pcie", memGB: 24, count: 8}},
		{name: "T4g", instanceType: "g5g.16xlarge", want: gpuFacts{raw: "NVIDIA T4g", model: "T4G", form: "pcie", memGB: 16, count: 2}},
		{name: "L4 memory as marketed", instanceType: "g6.xlarge", want: gpuFacts{raw: "NVIDIA L4", model: "L4", form: "pcie", memGB: 24, count: 1}},
		{name: "g6f eighth from memory", instanceType: "g6f.large", want: gpuFacts{raw: "NVIDIA L4", model: "L4", form: "pcie", memGB: 24, count: 0.125}},
		{name: "g6f quarter from memory", instanceType: "g6f.2xlarge", want: gpuFacts{raw: "NVIDIA L4", model: "L4", form: "pcie", memGB: 24, count: 0.25}},
		{name: "g6f half from memory", instanceType: "g6f.4xlarge", want: gpuFacts{raw: "NVIDIA L4", model: "L4", form: "pcie", memGB: 24, count: 0.5}},
		{name: "gr6f half from gpuPartitionSize", instanceType: "gr6f.4xlarge", want: gpuFacts{raw: "NVIDIA L4", model: "L4", form: "pcie", memGB: 24, count: 0.5}},
		{name: "L40S", instanceType: "g6e.48xlarge", want: gpuFacts{raw: "NVIDIA L40S", model: "L40S", form: "pcie", memGB: 48, count: 8}},
		{name: "CPU only", instanceType: "m7i.large", absent: true},
		{name: "Inferentia", instanceType: "inf2.xlarge", absent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := facts[tc.instanceType]
			if tc.absent {
				if ok {
					t.Fatalf("%s kept as a GPU type: %+v", tc.instanceType, got)
				}
				return
			}
			if !ok {
				t.Fatalf("%s missing", tc.instanceType)
			}
			// The host comes from vCpuInfo and memoryInfo (tested below).
			if got.vcpus <= 0 || got.ramGB <= 0 {
				t.Errorf("%s: host %v vCPUs, %v GB", tc.instanceType, got.vcpus, got.ramGB)
			}
			got.vcpus, got.ramGB = 0, 0
			if got != tc.want {
				t.Errorf("%s = %+v, want %+v", tc.instanceType, got, tc.want)
			}
		})
	}
	if f := facts["p4d.24xlarge"]; f.vcpus != 96 || f.ramGB != 1152 {
		t.Errorf("p4d.24xlarge host: %v vCPUs, %v GB; want 96 and 1152 (vCpuInfo, memoryInfo 1179648 MiB)", f.vcpus, f.ramGB)
	}
	if n := f.Calls()["ec2 DescribeInstanceTypes us-east-1"]; n != 1 {
		t.Errorf("%d DescribeInstanceTypes calls, want 1", n)
	}
}

func TestFactsOfUnusualAnswers(t *testing.T) {
	c := newCollector(&Config{}, collectors.Env{}, nil)
	gpu := func(name, manufacturer string, count int32, mib int32) *types.GpuInfo {
		return &types.GpuInfo{Gpus: []types.GpuDeviceInfo{{Name: aws.String(name), Manufacturer: aws.String(manufacturer),
			Count: aws.Int32(count), MemoryInfo: &types.GpuDeviceMemoryInfo{SizeInMiB: aws.Int32(mib)}}}}
	}
	for _, tc := range []struct {
		name string
		info types.InstanceTypeInfo
		want gpuFacts
		ok   bool
	}{
		{
			name: "unknown GPU kept with its raw name",
			info: types.InstanceTypeInfo{InstanceType: "g7e.2xlarge", GpuInfo: gpu("RTX PRO 6000 Blackwell", "NVIDIA", 1, 97887)},
			want: gpuFacts{raw: "NVIDIA RTX PRO 6000 Blackwell", model: price.Unknown, memGB: 96, count: 1}, ok: true,
		},
		{
			name: "count 0 on a GPU type becomes 1",
			info: types.InstanceTypeInfo{InstanceType: "g6.xlarge", GpuInfo: gpu("L4", "NVIDIA", 0, 22888)},
			want: gpuFacts{raw: "NVIDIA L4", model: "L4", form: "pcie", memGB: 24, count: 1}, ok: true,
		},
		{
			name: "p5.4xlarge is one H100 whatever the count says",
			info: types.InstanceTypeInfo{InstanceType: "p5.4xlarge", GpuInfo: gpu("H100", "NVIDIA", 8, 81920)},
			want: gpuFacts{raw: "NVIDIA H100", model: "H100", form: "sxm", memGB: 80, count: 1}, ok: true,
		},
		{
			name: "no GpuInfo and no fix-up",
			info: types.InstanceTypeInfo{InstanceType: "p9.48xlarge"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := c.facts(&tc.info)
			if ok != tc.ok || got != tc.want {
				t.Errorf("facts = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// byKey indexes quotes by series.
func byKey(qs []price.Quote) map[price.SeriesKey]price.Quote {
	m := map[price.SeriesKey]price.Quote{}
	for _, q := range qs {
		m[q.Key()] = q
	}
	return m
}

func TestCollectCurrentPrices(t *testing.T) {
	clk := newClock(t0)
	f, url := startFake(t, fakecloud.AWSOptions{Now: clk.Now})
	c := newTestCollector(t, testConfig(url, "us-east-1", "eu-west-1"), nil, clk, nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	quotes := byKey(snap.Quotes)
	// On-demand: us-east-1 list prices, eu-west-1 at the fake's 1.11.
	for _, tc := range []struct {
		name, instanceType, region string
		usd, perGPU                float64
	}{
		{"p5.48xlarge us-east-1", "p5.48xlarge", "us-east-1", 55.04, 6.88},
		{"g4dn.12xlarge eu-west-1", "g4dn.12xlarge", "eu-west-1", 4.3423, 1.085575},
		{"g6f.large us-east-1 (1/8 L4)", "g6f.large", "us-east-1", 0.2, 1.6},
		{"g5.xlarge eu-west-1", "g5.xlarge", "eu-west-1", 1.1167, 1.1167},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var q price.Quote
			for _, cand := range snap.Quotes {
				if cand.InstanceType == tc.instanceType && cand.Region == tc.region && cand.PricingModel == price.OnDemand {
					q = cand
				}
			}
			if q.USDPerHour != tc.usd || math.Abs(q.GPUUSDPerHour()-tc.perGPU) > 1e-9 || q.Zone != "" {
				t.Errorf("on-demand %s in %s = %+v, want %v (%v per GPU), no zone", tc.instanceType, tc.region, q, tc.usd, tc.perGPU)
			}
		})
	}
	// Spot: one quote per (type, zone), the price in effect now, zone set.
	spot := 0
	for _, q := range quotes {
		if q.PricingModel != price.Spot {
			continue
		}
		spot++
		if q.Zone == "" || !strings.HasPrefix(q.Zone, q.Region) || len(q.Zone) != len(q.Region)+1 {
			t.Errorf("spot quote %s: zone %q does not belong to region %q", q.Key(), q.Zone, q.Region)
		}
		h := f.SpotHistory(q.Zone, q.InstanceType, t0, t0)
		if len(h) != 1 || h[0].USD != q.USDPerHour || !h[0].Time.Equal(q.EffectiveAt) {
			t.Errorf("spot %s = %v at %s, want the fake's %v", q.Key(), q.USDPerHour, q.EffectiveAt, h)
		}
	}
	if spot < 300 {
		t.Errorf("%d spot quotes, want one per GPU type and zone (300 and more)", spot)
	}
	calls := f.Calls()
	for call, want := range map[string]int{
		"ec2 DescribeInstanceTypes us-east-1":    1,
		"ec2 DescribeInstanceTypes eu-west-1":    1,
		"ec2 DescribeSpotPriceHistory us-east-1": 1, // the prices in effect now fit one page
		"ec2 DescribeSpotPriceHistory eu-west-1": 1,
		"pricing GetProducts":                    fakecloud.AWSGPUTypeCount(), // one walk per GPU type
	} {
		if calls[call] != want {
			t.Errorf("%s: %d calls, want %d", call, calls[call], want)
		}
	}
}

// changes is what the store should hold of a fake history: the changes.
func changes(h []fakecloud.SpotChange) []store.Point {
	var out []store.Point
	for _, c := range h {
		if n := len(out); n > 0 && out[n-1].USDPerHour == c.USD {
			continue
		}
		out = append(out, store.Point{Time: c.Time, USDPerHour: c.USD})
	}
	return out
}

// checkHistory compares the stored spot history of every quote's series
// with the fake's, from the one in effect at start.
func checkHistory(t *testing.T, st store.Store, f *fakecloud.AWS, quotes []price.Quote, start, end time.Time) int {
	t.Helper()
	total := 0
	for _, q := range quotes {
		if q.PricingModel != price.Spot {
			continue
		}
		series, err := st.History(context.Background(), store.Query{Provider: Name, InstanceType: q.InstanceType, Zone: q.Zone, PricingModel: price.Spot})
		if err != nil {
			t.Fatal(err)
		}
		if len(series) != 1 {
			t.Fatalf("%s: %d stored series, want 1", q.Key(), len(series))
		}
		want := changes(f.SpotHistory(q.Zone, q.InstanceType, start, end))
		got := series[0].Points
		total += len(got)
		if len(got) != len(want) {
			t.Errorf("%s: %d points stored, want %d", q.Key(), len(got), len(want))
			continue
		}
		for i := range want {
			if !got[i].Time.Equal(want[i].Time) || got[i].USDPerHour != want[i].USDPerHour || got[i].Withdrawn {
				t.Errorf("%s point %d = %+v, want %+v", q.Key(), i, got[i], want[i])
				break
			}
		}
	}
	return total
}

func TestBackfillThenIncremental(t *testing.T) {
	clk := newClock(t0)
	f, url := startFake(t, fakecloud.AWSOptions{Now: clk.Now, InstanceTypes: []string{"p5.48xlarge", "g6.*", "g6f.large"}})
	st := openStore(t, t.TempDir())
	defer st.Close()
	cfg := testConfig(url, "us-east-1")
	cfg.SpotBackfill = config.Duration(7 * 24 * time.Hour)
	c := newTestCollector(t, cfg, storeHistory{st}, clk, nil)
	ctx := context.Background()
	start := t0.Add(-7 * 24 * time.Hour)

	snap, err := c.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored := checkHistory(t, st, f, snap.Quotes, start, t0)
	series := 0
	for _, q := range snap.Quotes {
		if q.PricingModel == price.Spot {
			series++
		}
	}
	if stored < 10*series {
		t.Errorf("first refresh stored %d points for %d series; want 7 days of ~2 changes a day", stored, series)
	}
	// The snapshot's spot prices are the newest stored points.
	for _, q := range snap.Quotes {
		if q.PricingModel == price.Spot {
			h := f.SpotHistory(q.Zone, q.InstanceType, t0, t0)
			if q.USDPerHour != h[0].USD {
				t.Fatalf("current %s = %v, want %v", q.Key(), q.USDPerHour, h[0].USD)
			}
		}
	}

	for _, step := range []struct {
		name    string
		advance time.Duration
		pages   int // spot pages the refresh may fetch
	}{
		{"same time: nothing new", 0, 1},
		{"ten minutes later", 10 * time.Minute, 1},
		{"two days later", 48 * time.Hour, 1},
	} {
		t.Run(step.name, func(t *testing.T) {
			clk.Add(step.advance)
			before := f.Calls()["ec2 DescribeSpotPriceHistory us-east-1"]
			snap, err := c.Collect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages := f.Calls()["ec2 DescribeSpotPriceHistory us-east-1"] - before
			if pages > step.pages {
				t.Errorf("incremental refresh fetched %d spot pages, want at most %d", pages, step.pages)
			}
			// Every change since the backfill's start, each once.
			checkHistory(t, st, f, snap.Quotes, start, clk.Now())
		})
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	clk := newClock(t0)
	f, url := startFake(t, fakecloud.AWSOptions{Now: clk.Now})
	f.EC2Faults.Add(fakecloud.Fault{Kind: fakecloud.AWSThrottle, Times: 2})
	f.PricingFaults.Add(fakecloud.Fault{Kind: fakecloud.AWSThrottle, Times: 5})
	c := newTestCollector(t, testConfig(url, "us-east-1"), nil, clk, nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatalf("throttled refresh failed: %v", err)
	}
	if len(snap.Quotes) == 0 {
		t.Fatal("no quotes")
	}
	calls := f.Calls()
	if calls["ec2 DescribeInstanceTypes us-east-1"] != 3 || calls["pricing GetProducts"] != fakecloud.AWSGPUTypeCount()+5 {
		t.Errorf("calls %v: want 2 throttled DescribeInstanceTypes retried, 5 throttled GetProducts retried", calls)
	}
}

// TestContract runs the collector contract suite on each of the fake's
// APIs, with three instance types in one region.
func TestContract(t *testing.T) {
	clk := newClock(t0)
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		Fake: func() http.Handler {
			return fakecloud.NewAWS(fakecloud.AWSOptions{Now: clk.Now, HugeBytes: 8 << 20,
				InstanceTypes: []string{"p5.48xlarge", "g6.xlarge", "g6f.large"}})
		},
		// A rate limit the retries of 39 faulted refreshes do not wait on.
		Configure: func(c *Config) {
			c.Regions, c.OnDemandSource, c.RateLimit = []string{"us-east-1"}, OnDemandPriceList, 1000
		},
		Tune: func(c *Collector) {
			tune(c, clk)
			c.http.maxBody = collectortest.MaxResponseBytes
		},
		// The SDK retries EC2 and the Price List, and its errors carry no
		// Retry-After (AWS throttles with error codes instead); the offer
		// files have a client of their own.
		APIs: []collectortest.API[*Config]{
			{Name: "ec2", OwnClient: true, Throttle: fakecloud.AWSThrottle, Want: map[collectortest.Row]collectortest.Want{
				collectortest.TooManyRequests: {RetryAfter: -1},
				collectortest.Throttled:       {Reason: "http_5xx"}, // RequestLimitExceeded is a 503
			}},
			{Name: "pricing", OwnClient: true, Throttle: fakecloud.AWSThrottle, Want: map[collectortest.Row]collectortest.Want{
				collectortest.TooManyRequests: {RetryAfter: -1},
				collectortest.Throttled:       {Reason: "http_4xx"}, // ThrottlingException is a 400
			}},
			{Name: "offers", OwnClient: true, Unpaged: true, Configure: func(c *Config) { c.OnDemandSource = OnDemandBulk },
				Want: map[collectortest.Row]collectortest.Want{
					// A huge offer file is what the real ones are:
					// streamed, it works.
					collectortest.Huge: {Reason: collectortest.Succeeds},
				}},
		},
	})
}

// logRecorder keeps log records for assertions.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.records = append(l.records, r)
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// warnings returns the messages and regions of warnings so far.
func (l *logRecorder) warnings() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.records {
		if r.Level < slog.LevelWarn {
			continue
		}
		s := r.Message
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "region" || a.Key == "reason" {
				s += " " + a.Value.String()
			}
			return true
		})
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func TestUnusableRegionsAreSkipped(t *testing.T) {
	clk := newClock(t0)
	f, url := startFake(t, fakecloud.AWSOptions{Now: clk.Now, DeadRegions: []string{"eu-west-1"}, InstanceTypes: []string{"g5.*"}})
	logs := &logRecorder{}
	c := newTestCollector(t, testConfig(url, "us-east-1", "af-south-1", "eu-west-1"), nil, clk, slog.New(logs))
	for i := range 2 {
		start := time.Now()
		snap, err := c.Collect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("refresh %d took %s: a dead region must not stall it", i, d)
		}
		for _, q := range snap.Quotes {
			if q.Region != "us-east-1" {
				t.Fatalf("quote of skipped region: %s", q.Key())
			}
		}
	}
	want := []string{
		"skipping region af-south-1 region not enabled for the account (AuthFailure)",
		"skipping region eu-west-1 endpoint unreachable",
	}
	if got := logs.warnings(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings over two refreshes:\n%s\nwant each skip logged once:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := f.Calls()["ec2 DescribeSpotPriceHistory af-south-1"]; n != 0 {
		t.Errorf("%d spot requests to a skipped region", n)
	}

	// Every region skipped is a failure that says why.
	c = newTestCollector(t, testConfig(url, "af-south-1"), nil, clk, nil)
	if _, err := c.Collect(context.Background()); err == nil || !strings.Contains(err.Error(), "every region was skipped (af-south-1)") {
		t.Errorf("all regions skipped: err %v", err)
	}
}

// TestRegionThatServedIsNotSkipped: an endpoint that stops answering after
// it served prices fails the refresh (the Runner keeps the region's prices
// until stale) instead of a snapshot without the region withdrawing them.
func TestRegionThatServedIsNotSkipped(t *testing.T) {
	clk := newClock(t0)
	f, url := startFake(t, fakecloud.AWSOptions{Now: clk.Now, InstanceTypes: []string{"g5.*"}})
	c := newTestCollector(t, testConfig(url, "us-east-1", "eu-west-1"), nil, clk, nil)
	if _, err := c.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.SetDead("eu-west-1", true)
	if _, err := c.Collect(context.Background()); err == nil {
		t.Fatal("a region that served prices went unreachable and the refresh succeeded without it")
	}
	f.SetDead("eu-west-1", false)
	if _, err := c.Collect(context.Background()); err != nil {
		t.Fatalf("after the region came back: %v", err)
	}
}

func TestRegionsDiscovered(t *testing.T) {
	clk := newClock(t0)
	f, url := startFake(t, fakecloud.AWSOptions{Now: clk.Now, Regions: []string{"us-east-1", "eu-west-1", "af-south-1"},
		InstanceTypes: []string{"g5.xlarge", "p5.48xlarge"}})
	c := newTestCollector(t, testConfig(url), nil, clk, nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	regions := map[string]bool{}
	for _, q := range snap.Quotes {
		regions[q.Region] = true
	}
	if len(regions) != 2 || !regions["us-east-1"] || !regions["eu-west-1"] {
		t.Errorf("regions priced: %v, want the two enabled ones", regions)
	}
	calls := f.Calls()
	if calls["ec2 DescribeRegions us-east-1"] != 1 || calls["ec2 DescribeInstanceTypes af-south-1"] != 0 {
		t.Errorf("calls %v: want one DescribeRegions and nothing for the region not opted in", calls)
	}
}

// noCredentials hides every credential source of the SDK's default chain.
func noCredentials(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_DEFAULT_PROFILE": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
}

func TestNoCredentials(t *testing.T) {
	noCredentials(t)
	clk := newClock(t0)
	f, url := startFake(t, fakecloud.AWSOptions{Now: clk.Now})
	cfg := testConfig(url, "us-east-1")
	cfg.AccessKeyID, cfg.SecretAccessKey = "", ""

	t.Run("price list: a clear error", func(t *testing.T) {
		c := newTestCollector(t, cfg, nil, clk, nil)
		_, err := c.Collect(context.Background())
		if !errors.Is(err, errNoCredentials) || !strings.Contains(err.Error(), "providers.aws.access_key_id") {
			t.Fatalf("err %v, want one naming how to provide credentials", err)
		}
		if n := f.Requests(); n != 0 {
			t.Errorf("%d requests sent without credentials", n)
		}
	})

	t.Run("bulk: on-demand from the offer files", func(t *testing.T) {
		cfg := cfg
		cfg.OnDemandSource = OnDemandBulk
		c := newTestCollector(t, cfg, nil, clk, nil)
		snap, err := c.Collect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Quotes) != fakecloud.AWSGPUTypeCount() {
			t.Errorf("%d quotes, want one on-demand quote per GPU type of us-east-1 (%d)", len(snap.Quotes), fakecloud.AWSGPUTypeCount())
		}
		want := map[string]price.Quote{
			"p5.48xlarge":   {GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 55.04},
			"p4d.24xlarge":  {GPUModel: "A100", GPUForm: "sxm", GPUMemoryGB: 40, GPUCount: 8, USDPerHour: 21.9576},
			"g6f.large":     {GPUModel: "L4", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: 0.125, USDPerHour: 0.2},
			"g4ad.16xlarge": {GPUModel: "V520", GPUForm: "pcie", GPUMemoryGB: 8, GPUCount: 4, USDPerHour: 3.468},
		}
		for _, q := range snap.Quotes {
			if q.PricingModel != price.OnDemand || q.Zone != "" || q.Region != "us-east-1" {
				t.Errorf("unexpected quote %s", q.Key())
			}
			w, ok := want[q.InstanceType]
			if !ok {
				continue
			}
			if q.GPUModel != w.GPUModel || q.GPUForm != w.GPUForm || q.GPUMemoryGB != w.GPUMemoryGB || q.GPUCount != w.GPUCount || q.USDPerHour != w.USDPerHour {
				t.Errorf("%s = %+v, want %+v", q.InstanceType, q, w)
			}
		}
		if n := f.Calls()["offers us-east-1"]; n != 1 {
			t.Errorf("%d offer file downloads, want 1", n)
		}
	})
}

func TestBulkMatchesPriceList(t *testing.T) {
	clk := newClock(t0)
	_, url := startFake(t, fakecloud.AWSOptions{Now: clk.Now})
	snaps := map[string]*price.Snapshot{}
	for _, source := range []string{OnDemandPriceList, OnDemandBulk} {
		cfg := testConfig(url, "us-east-1", "ap-northeast-1")
		cfg.OnDemandSource = source
		snap, err := newTestCollector(t, cfg, nil, clk, nil).Collect(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		snaps[source] = snap
	}
	a, b := byKey(snaps[OnDemandPriceList].Quotes), byKey(snaps[OnDemandBulk].Quotes)
	if len(a) != len(b) {
		t.Errorf("price list: %d quotes, offer files: %d", len(a), len(b))
	}
	for k, q := range a {
		if b[k] != q {
			t.Errorf("%s: price list %+v, offer file %+v", k, q, b[k])
		}
	}
}

func TestSplitCSV(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       []string
	}{
		{"quoted", `"a","b","c"`, []string{"a", "b", "c"}},
		{"empty fields unquoted", `"a",,"c",`, []string{"a", "", "c", ""}},
		{"comma inside quotes", `"Linux, with SQL","x"`, []string{"Linux, with SQL", "x"}},
		{"escaped quote", `"say ""hi""",1`, []string{`say "hi"`, "1"}},
		{"unquoted", `a,b`, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range splitCSV([]byte(tc.line), nil) {
				got = append(got, string(f))
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("splitCSV(%s) = %q, want %q", tc.line, got, tc.want)
			}
		})
	}
}

func TestParseOffer(t *testing.T) {
	const preamble = "\"FormatVersion\",\"v1.0\"\n\"Disclaimer\",\"x\"\n\"Publication Date\",\"2026-06-01T00:00:00Z\"\n\"Version\",\"1\"\n\"OfferCode\",\"AmazonEC2\"\n"
	const header = `"TermType","Unit","PricePerUnit","Currency","Instance Type","Tenancy","Operating System","CapacityStatus","Pre Installed S/W","GPU","Region Code"` + "\n"
	row := func(term, price, typ, tenancy, os, capacity, sw, gpu, region string) string {
		return `"` + strings.Join([]string{term, "Hrs", price, "USD", typ, tenancy, os, capacity, sw, gpu, region}, `","`) + "\"\n"
	}
	for _, tc := range []struct {
		name, file string
		want       []offerRow
		err        string
	}{
		{
			name: "only plain Linux on-demand rows",
			file: preamble + header +
				row("OnDemand", "55.0400000000", "p5.48xlarge", "Shared", "Linux", "Used", "NA", "8", "us-east-1") +
				row("Reserved", "30.0000000000", "p5.48xlarge", "Shared", "Linux", "Used", "NA", "8", "us-east-1") +
				row("OnDemand", "60.5400000000", "p5.48xlarge", "Dedicated", "Linux", "Used", "NA", "8", "us-east-1") +
				row("OnDemand", "55.0400000000", "p5.48xlarge", "Shared", "Linux", "UnusedCapacityReservation", "NA", "8", "us-east-1") +
				row("OnDemand", "56.0000000000", "p5.48xlarge", "Shared", "Linux", "Used", "SQL Web", "8", "us-east-1") +
				row("OnDemand", "0.2000000000", "g6f.large", "Shared", "Linux", "Used", "NA", "0.125", "us-east-1") +
				row("OnDemand", "0.3000000000", "g6f.large", "Shared", "Linux", "Used", "NA", "0.125", "us-west-2"),
			want: []offerRow{{"p5.48xlarge", 55.04, 8}, {"g6f.large", 0.2, 0.125}},
		},
		{name: "cut off mid-line", file: preamble + header + row("OnDemand", "1", "g5.xlarge", "Shared", "Linux", "Used", "NA", "1", "us-east-1")[:30], err: "unexpected EOF"},
		{name: "no header", file: preamble, err: "no header after 5 lines"},
		{name: "header without the price", file: preamble + `"TermType","Unit"` + "\n", err: `header (line 6) has no "PricePerUnit" column`},
		{name: "bad price", file: preamble + header + row("OnDemand", "n/a", "g5.xlarge", "Shared", "Linux", "Used", "NA", "1", "us-east-1"), err: `none of 1 on-demand rows could be read: line 7: price "n/a" of g5.xlarge`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []offerRow
			_, err := parseOffer(strings.NewReader(tc.file), "us-east-1", func(r offerRow) { got = append(got, r) })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("rows %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("row %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// A line longer than the read buffer is assembled, not split.
func TestParseOfferLongLine(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("\"FormatVersion\",\"v1.0\"\n\"a\",\"b\"\n\"c\",\"d\"\n\"e\",\"f\"\n\"g\",\"h\"\n")
	b.WriteString(`"TermType","Unit","PricePerUnit","Currency","Instance Type","Tenancy","Operating System","CapacityStatus","Pre Installed S/W","GPU","Comments"` + "\n")
	b.WriteString(`"OnDemand","Hrs","1.5","USD","g5.xlarge","Shared","Linux","Used","NA","1","` + strings.Repeat("x", 600<<10) + "\"\n")
	var got []offerRow
	if _, err := parseOffer(&b, "us-east-1", func(r offerRow) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (offerRow{"g5.xlarge", 1.5, 1}) {
		t.Errorf("rows %+v", got)
	}
}
