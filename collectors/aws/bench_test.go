package aws

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// peakHeap runs fn while sampling the live heap every few milliseconds,
// and returns the largest sample in bytes.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var (
		peak uint64
		wg   sync.WaitGroup
	)
	done := make(chan struct{})
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	return peak
}

// vmHWM returns the process's peak resident set size in bytes (Linux), or
// 0.
func vmHWM() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkBackfill90d is the figure: the first refresh of a new
// store backfills 90 days of spot history for every GPU instance type
// (~60) in every zone of the fake's 20 regions, into SQLite; the second,
// ten minutes later, fetches only what is new. The fake and the store run
// in this process, so the peak heap and RSS include the fake's.
//
//	go test -run '^$' -bench Backfill90d -benchtime 1x ./collectors/aws/
func BenchmarkBackfill90d(b *testing.B) {
	for b.Loop() {
		clk := newClock(t0)
		f, url := startFake(b, fakecloud.AWSOptions{Now: clk.Now})
		st := openStore(b, b.TempDir())
		cfg := testConfig(url)
		cfg.Concurrency = 8
		c := newTestCollector(b, cfg, storeHistory{st}, clk, nil)
		ctx := context.Background()
		var (
			first time.Duration
			err   error
		)
		peak := peakHeap(func() {
			start := time.Now()
			_, err = c.Collect(ctx)
			first = time.Since(start)
		})
		if err != nil {
			b.Fatal(err)
		}
		reqFirst := c.http.requests.Load()
		pagesFirst := spotPages(f)
		clk.Add(10 * time.Minute)
		start := time.Now()
		if _, err := c.Collect(ctx); err != nil {
			b.Fatal(err)
		}
		second := time.Since(start)
		b.StopTimer()
		series, err := st.History(ctx, store.Query{Provider: Name, PricingModel: price.Spot})
		if err != nil {
			b.Fatal(err)
		}
		points := 0
		for _, s := range series {
			points += len(s.Points)
		}
		st.Close()
		b.StartTimer()
		b.ReportMetric(first.Seconds(), "first-s")
		b.ReportMetric(second.Seconds(), "second-s")
		b.ReportMetric(float64(points), "points")
		b.ReportMetric(float64(len(series)), "spot-series")
		b.ReportMetric(float64(reqFirst), "requests-first")
		b.ReportMetric(float64(c.http.requests.Load()-reqFirst), "requests-second")
		b.ReportMetric(float64(pagesFirst), "spot-pages-first")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(vmHWM())/(1<<20), "peak-rss-MB")
	}
}

// spotPages counts the DescribeSpotPriceHistory requests the fake served.
func spotPages(f *fakecloud.AWS) int {
	n := 0
	for call, c := range f.Calls() {
		if strings.HasPrefix(call, "ec2 DescribeSpotPriceHistory ") {
			n += c
		}
	}
	return n
}

// BenchmarkOfferFile streams one large synthetic offer file (GPU rows
// plus CPU-only padding, like the real multi-hundred-MB regional files)
// over loopback HTTP through the bulk parser. Memory must not grow with
// the file: peak-heap-MB stays at a few MB whatever its size. The size is
// GPUPRICE_BENCH_OFFER_MB (default 512).
//
//	go test -run '^$' -bench OfferFile -benchtime 1x ./collectors/aws/
func BenchmarkOfferFile(b *testing.B) {
	mb := 512
	if v, err := strconv.Atoi(os.Getenv("GPUPRICE_BENCH_OFFER_MB")); err == nil && v > 0 {
		mb = v
	}
	// A padding row is 515 bytes.
	_, url := startFake(b, fakecloud.AWSOptions{Now: newClock(t0).Now, OfferPadding: mb << 20 / 515})
	c := newTestCollector(b, testConfig(url, "us-east-1"), nil, nil, nil)
	counter := &countingTransport{base: http.DefaultTransport}
	c.bulkHTTP = &http.Client{Transport: counter}
	for b.Loop() {
		var rows int
		peak := peakHeap(func() {
			_, err := c.fetchOffer(context.Background(), "us-east-1", func(offerRow) { rows++ })
			if err != nil {
				b.Fatal(err)
			}
		})
		if rows != fakecloud.AWSGPUTypeCount()+3 { // GPU types and the 3 CPU-only ones
			b.Fatalf("%d on-demand rows", rows)
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	}
	b.SetBytes(counter.bytes.Load() / int64(b.N))
	b.ReportMetric(float64(counter.bytes.Load())/float64(b.N)/(1<<20), "file-MB")
	b.ReportMetric(float64(vmHWM())/(1<<20), "peak-rss-MB")
}

// countingTransport counts response body bytes.
type countingTransport struct {
	base  http.RoundTripper
	bytes atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if resp != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.bytes}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// BenchmarkPriceList walks the Price List Query API (GetProducts, through
// the SDK) for every GPU instance type of the fake's 20 regions, the
// on-demand half of a refresh without bulk files. Its per-row figures are
// per price found (one instance type in one region).
//
//	go test -run '^$' -bench PriceList -benchtime 3x ./collectors/aws/
func BenchmarkPriceList(b *testing.B) {
	_, url := startFake(b, fakecloud.AWSOptions{Now: newClock(t0).Now})
	cfg := testConfig(url)
	c := newTestCollector(b, cfg, nil, nil, nil)
	ctx := context.Background()
	sdk, err := c.sdkConfig(ctx)
	if err != nil {
		b.Fatal(err)
	}
	regions, err := c.regions(ctx, sdk)
	if err != nil {
		b.Fatal(err)
	}
	results, err := c.collectRegions(ctx, sdk, regions, nil)
	if err != nil {
		b.Fatal(err)
	}
	facts, offered := map[string]gpuFacts{}, map[string][]string{}
	for _, r := range results {
		for name, f := range r.types {
			facts[name] = f
			offered[name] = append(offered[name], r.region)
		}
	}
	prices, _, err := c.priceList(ctx, sdk, facts, offered)
	if err != nil || len(prices) == 0 {
		b.Fatal(err)
	}
	collectortest.PerRow(b, len(prices), func() {
		if _, _, err := c.priceList(ctx, sdk, facts, offered); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkPriceListItem isolates the decoding of Price List items (the
// fake's, every variant of one GPU type in every region): into the
// fields read (onDemandPrice), and into maps of every attribute and term
// (the decoder before, for comparison). Its per-row figures are per item.
//
//	go test -run '^$' -bench PriceListItem -benchtime 3x ./collectors/aws/
func BenchmarkPriceListItem(b *testing.B) {
	_, url := startFake(b, fakecloud.AWSOptions{Now: newClock(t0).Now})
	c := newTestCollector(b, testConfig(url), nil, nil, nil)
	ctx := context.Background()
	sdk, err := c.sdkConfig(ctx)
	if err != nil {
		b.Fatal(err)
	}
	out, err := c.pricingClient(sdk).GetProducts(ctx, &pricing.GetProductsInput{
		ServiceCode: aws.String("AmazonEC2"), FormatVersion: aws.String("aws_v1"), MaxResults: aws.Int32(100),
		Filters: []ptypes.Filter{{Type: ptypes.FilterTypeTermMatch, Field: aws.String("instanceType"), Value: aws.String("p5.48xlarge")}},
	})
	if err != nil || len(out.PriceList) == 0 {
		b.Fatal(err, len(out.PriceList))
	}
	items := out.PriceList
	b.Run("fields", func(b *testing.B) {
		collectortest.PerRow(b, len(items), func() {
			for _, item := range items {
				if _, _, _, err := onDemandPrice(item, "p5.48xlarge"); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("maps", func(b *testing.B) {
		type productMaps struct {
			Product struct {
				Attributes map[string]string `json:"attributes"`
			} `json:"product"`
			Terms map[string]map[string]struct {
				PriceDimensions map[string]struct {
					Unit         string            `json:"unit"`
					PricePerUnit map[string]string `json:"pricePerUnit"`
				} `json:"priceDimensions"`
			} `json:"terms"`
		}
		collectortest.PerRow(b, len(items), func() {
			for _, item := range items {
				var p productMaps
				if err := json.Unmarshal([]byte(item), &p); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
