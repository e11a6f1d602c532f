package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/api"
	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// pricesServer serves the real API over fixed quotes and records the
// query of every request.
type pricesServer struct {
	*httptest.Server
	mu      sync.Mutex
	queries []string
}

func (s *pricesServer) lastQuery() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[len(s.queries)-1]
}

var pricesNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func startPricesServer(t *testing.T) *pricesServer {
	t.Helper()
	seen := pricesNow.Add(-90 * time.Second)
	q := func(provider, instance, region, zone string, pm price.PricingModel, gpu, form string, mem, count, usd float64) price.Quote {
		return price.Quote{Provider: provider, InstanceType: instance, Region: region, Zone: zone, Geo: price.Geo(region),
			PricingModel: pm, GPUModel: gpu, GPUForm: form, GPUMemoryGB: mem, GPUCount: count, USDPerHour: usd, ObservedAt: seen}
	}
	// The host's vCPUs and RAM where the provider says: AWS's p5 and g6,
	// and Vast.ai's RTX 4090 share of a host (fractional); not the H100
	// offer.
	host := func(q price.Quote, vcpus, memoryGB float64) price.Quote {
		q.VCPUs, q.MemoryGB = vcpus, memoryGB
		return q
	}
	states := []*collectors.State{
		{Provider: "aws", Snapshot: &price.Snapshot{Provider: "aws", Time: seen, Quotes: []price.Quote{
			host(q("aws", "p5.48xlarge", "us-east-1", "us-east-1a", price.Spot, "H100", "sxm", 80, 8, 24), 192, 2048),
			host(q("aws", "p5.48xlarge", "us-east-1", "us-east-1b", price.Spot, "H100", "sxm", 80, 8, 22), 192, 2048),
			host(q("aws", "p5.48xlarge", "us-east-1", "", price.OnDemand, "H100", "sxm", 80, 8, 55.04), 192, 2048),
			host(q("aws", "g6.xlarge", "us-east-1", "us-east-1a", price.Spot, "L4", "", 24, 1, 0.35), 4, 16),
		}}},
		{Provider: "vastai", Snapshot: &price.Snapshot{Provider: "vastai", Time: seen.Add(-time.Hour), Quotes: []price.Quote{
			func() price.Quote {
				v := q("vastai", "1x_H100_SXM_80GB", "fr", "", price.Spot, "H100", "sxm", 80, 1, 1.1)
				v.ObservedAt, v.Offers, v.P50 = seen.Add(-time.Hour), 7, 1.3
				return v
			}(),
			host(q("vastai", "1x_RTX4090_24GB", "us", "", price.OnDemand, "RTX4090", "", 24, 1, 0.3), 10.6667, 42.5),
		}}},
	}
	s := &pricesServer{}
	mux := http.NewServeMux()
	api.New(api.Options{States: func() []*collectors.State { return states }}).Register(mux)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.queries = append(s.queries, r.URL.RawQuery)
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// quotesOpts returns the options of prices/cheapest as their flags'
// defaults, changed by set.
func quotesOpts(server string, set func(*quotesOptions)) quotesOptions {
	str := func(s string) *string { return &s }
	strs := func() *[]string { return &[]string{} }
	f, lim, timeout := 0.0, 0, 10*time.Second
	f2 := 0.0
	o := quotesOptions{server: str(server), gpus: strs(), counts: strs(), providers: strs(), pricing: strs(), geo: strs(), regions: strs(),
		minMemory: &f, maxPrice: &f2, limit: &lim, format: str("table"), timeout: &timeout}
	if set != nil {
		set(&o)
	}
	return o
}

func TestPricesTable(t *testing.T) {
	s := startPricesServer(t)
	var out bytes.Buffer
	o := quotesOpts(s.URL, func(o *quotesOptions) { *o.gpus = []string{"h100"} })
	if err := runQuotes(context.Background(), "/api/v1/prices", o, &out, pricesNow); err != nil {
		t.Fatal(err)
	}
	if q := s.lastQuery(); q != "gpu_model=H100&sort=gpu_usd_per_hour" {
		t.Errorf("query %q", q)
	}
	want := `PROVIDER  INSTANCE_TYPE     REGION     ZONE        GEO  PRICING    GPU   FORM  MEM_GB  GPUS  VCPUS  RAM_GB  USD/GPU-H  USD/H    STOCK  AGE    
vastai    1x_H100_SXM_80GB  fr         -           eu   spot       H100  sxm   80      1     -      -       1.1000     1.1000   -      1h1m   
aws       p5.48xlarge       us-east-1  us-east-1b  na   spot       H100  sxm   80      8     192    2048    2.7500     22.0000  -      1m30s  
aws       p5.48xlarge       us-east-1  us-east-1a  na   spot       H100  sxm   80      8     192    2048    3.0000     24.0000  -      1m30s  
aws       p5.48xlarge       us-east-1  -           na   on_demand  H100  sxm   80      8     192    2048    6.8800     55.0400  -      1m30s  
`
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestPricesFormats(t *testing.T) {
	s := startPricesServer(t)
	for _, c := range []struct {
		name      string
		path      string
		set       func(*quotesOptions)
		wantQuery string
		want      []string // provider/instance_type/zone, in order
	}{
		{"every price, cheapest first", "/api/v1/prices", nil, "sort=gpu_usd_per_hour",
			[]string{"vastai/1x_RTX4090_24GB/", "aws/g6.xlarge/us-east-1a", "vastai/1x_H100_SXM_80GB/", "aws/p5.48xlarge/us-east-1b", "aws/p5.48xlarge/us-east-1a", "aws/p5.48xlarge/"}},
		{"min memory, here", "/api/v1/prices", func(o *quotesOptions) { *o.minMemory = 48 }, "sort=gpu_usd_per_hour",
			[]string{"vastai/1x_H100_SXM_80GB/", "aws/p5.48xlarge/us-east-1b", "aws/p5.48xlarge/us-east-1a", "aws/p5.48xlarge/"}},
		{"limit after min memory", "/api/v1/prices", func(o *quotesOptions) { *o.minMemory, *o.limit = 48, 2 }, "sort=gpu_usd_per_hour",
			[]string{"vastai/1x_H100_SXM_80GB/", "aws/p5.48xlarge/us-east-1b"}},
		{"API filters", "/api/v1/prices", func(o *quotesOptions) {
			*o.providers, *o.pricing, *o.counts, *o.regions, *o.geo, *o.maxPrice = []string{"AWS"}, []string{"spot"}, []string{"8,1"}, []string{"US-EAST-1"}, []string{"na"}, 2.9
		}, "geo=na&gpu_count=8%2C1&max_gpu_usd_per_hour=2.9&pricing_model=spot&provider=aws&region=us-east-1&sort=gpu_usd_per_hour",
			[]string{"aws/g6.xlarge/us-east-1a", "aws/p5.48xlarge/us-east-1b"}},
		{"cheapest per GPU, memory and pricing model", "/api/v1/cheapest", nil, "sort=gpu_usd_per_hour",
			[]string{"vastai/1x_RTX4090_24GB/", "aws/g6.xlarge/us-east-1a", "vastai/1x_H100_SXM_80GB/", "aws/p5.48xlarge/"}},
		{"cheapest, several GPUs", "/api/v1/cheapest", func(o *quotesOptions) { *o.gpus = []string{"h100", "l4"} }, "gpu_model=H100%2CL4&sort=gpu_usd_per_hour",
			[]string{"aws/g6.xlarge/us-east-1a", "vastai/1x_H100_SXM_80GB/", "aws/p5.48xlarge/"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, format := range []string{"json", "csv", "table"} {
				var out bytes.Buffer
				o := quotesOpts(s.URL, c.set)
				*o.format = format
				if err := runQuotes(context.Background(), c.path, o, &out, pricesNow); err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				wantQuery := c.wantQuery
				if format == "csv" {
					v, _ := url.ParseQuery(wantQuery)
					v.Set("format", "csv")
					wantQuery = v.Encode()
				}
				if q := s.lastQuery(); q != wantQuery {
					t.Errorf("%s: query %q, want %q", format, q, wantQuery)
				}
				var got []string
				switch format {
				case "json":
					var answer struct {
						Data []map[string]any `json:"data"`
					}
					if err := json.Unmarshal(out.Bytes(), &answer); err != nil {
						t.Fatalf("json: %v\n%s", err, out.String())
					}
					for _, q := range answer.Data {
						got = append(got, q["provider"].(string)+"/"+q["instance_type"].(string)+"/"+q["zone"].(string))
						if q["provider"] == "vastai" && q["gpu_model"] == "H100" && (q["offers"] != 7.0 || q["p50_gpu_usd_per_hour"] != 1.3) {
							t.Errorf("json: the API's marketplace fields are lost: %v", q)
						}
					}
				case "csv":
					rows, err := csv.NewReader(&out).ReadAll()
					if err != nil || len(rows) == 0 || rows[0][0] != "provider" || rows[0][3] != "zone" {
						t.Fatalf("csv: %v %v", err, rows)
					}
					for _, r := range rows[1:] {
						got = append(got, r[0]+"/"+r[1]+"/"+r[3])
					}
				case "table":
					lines := strings.Split(strings.TrimSpace(out.String()), "\n")
					for _, l := range lines[1:] {
						f := strings.Fields(l)
						got = append(got, f[0]+"/"+f[1]+"/"+strings.TrimPrefix(f[3], "-"))
					}
				}
				if strings.Join(got, " ") != strings.Join(c.want, " ") {
					t.Errorf("%s:\n got %v\nwant %v", format, got, c.want)
				}
			}
		})
	}
}

// TestPricesHost: the host's vCPUs and RAM are in every format where the
// provider says (the table has a dash where not, CSV an empty cell, JSON
// no key), for prices and cheapest alike.
func TestPricesHost(t *testing.T) {
	s := startPricesServer(t)
	want := map[string][2]string{ // provider/instance_type/zone: vCPUs, RAM in GB; "" unknown
		"vastai/1x_RTX4090_24GB/":    {"10.6667", "42.5"},
		"aws/g6.xlarge/us-east-1a":   {"4", "16"},
		"vastai/1x_H100_SXM_80GB/":   {"", ""},
		"aws/p5.48xlarge/us-east-1b": {"192", "2048"},
		"aws/p5.48xlarge/us-east-1a": {"192", "2048"},
		"aws/p5.48xlarge/":           {"192", "2048"},
	}
	for _, path := range []string{"/api/v1/prices", "/api/v1/cheapest"} {
		for _, format := range []string{"json", "csv", "table"} {
			var out bytes.Buffer
			o := quotesOpts(s.URL, func(o *quotesOptions) { *o.format = format })
			if err := runQuotes(context.Background(), path, o, &out, pricesNow); err != nil {
				t.Fatalf("%s %s: %v", path, format, err)
			}
			got := map[string][2]string{}
			switch format {
			case "json":
				var answer struct {
					Data []map[string]any `json:"data"`
				}
				if err := json.Unmarshal(out.Bytes(), &answer); err != nil {
					t.Fatalf("json: %v", err)
				}
				for _, q := range answer.Data {
					str := func(k string) string {
						if v, ok := q[k]; ok {
							return price.FormatNumber(v.(float64))
						}
						return ""
					}
					got[q["provider"].(string)+"/"+q["instance_type"].(string)+"/"+q["zone"].(string)] = [2]string{str("vcpus"), str("memory_gb")}
				}
			case "csv":
				rows, err := csv.NewReader(&out).ReadAll()
				if err != nil || len(rows) < 2 {
					t.Fatalf("csv: %v %v", err, rows)
				}
				h := rows[0]
				v, m := slices.Index(h, "vcpus"), slices.Index(h, "memory_gb")
				if v < 0 || m < 0 {
					t.Fatalf("csv header %v has no vcpus, memory_gb", h)
				}
				for _, r := range rows[1:] {
					got[r[0]+"/"+r[1]+"/"+r[3]] = [2]string{r[v], r[m]}
				}
			case "table":
				lines := strings.Split(strings.TrimSpace(out.String()), "\n")
				h := strings.Fields(lines[0])
				if h[10] != "VCPUS" || h[11] != "RAM_GB" {
					t.Fatalf("table header %v", h)
				}
				for _, l := range lines[1:] {
					f := strings.Fields(l)
					got[f[0]+"/"+f[1]+"/"+strings.TrimPrefix(f[3], "-")] = [2]string{strings.TrimPrefix(f[10], "-"), strings.TrimPrefix(f[11], "-")}
				}
			}
			if len(got) == 0 {
				t.Errorf("%s %s: no quotes", path, format)
			}
			for id, g := range got {
				if w, ok := want[id]; !ok || g != w {
					t.Errorf("%s %s: %s has vCPUs and RAM %q, want %q", path, format, id, g, w)
				}
			}
		}
	}
}

func TestPricesErrors(t *testing.T) {
	s := startPricesServer(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for _, c := range []struct {
		name string
		set  func(*quotesOptions)
		want string
	}{
		{"no match", func(o *quotesOptions) { *o.gpus = []string{"B200"} }, ""},
		{"bad parameter, named by the API", func(o *quotesOptions) { *o.geo = []string{"mars"} }, `bad parameter "geo": "mars" is not one of`},
		{"not a URL", func(o *quotesOptions) { *o.server = "localhost:9847" }, `--server.url "localhost:9847" is not an http(s) URL`},
		{"nothing listening", func(o *quotesOptions) { *o.server = down.URL }, "connection refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runQuotes(context.Background(), "/api/v1/prices", quotesOpts(s.URL, c.set), &out, pricesNow)
			if c.want == "" {
				if err != nil || out.String() != "no prices match\n" {
					t.Errorf("err %v, output %q", err, out.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want %q", err, c.want)
			}
		})
	}
	var out bytes.Buffer
	o := quotesOpts(s.URL, func(o *quotesOptions) { *o.gpus, *o.format = []string{"B200"}, "json" })
	if err := runQuotes(context.Background(), "/api/v1/prices", o, &out, pricesNow); err != nil || strings.Join(strings.Fields(out.String()), "") != `{"data":[]}` {
		t.Errorf("json without a match: %v %q", err, out.String())
	}
}

// TestPricesCommand runs `gpuprice cheapest` of the real binary, flags
// parsed by kingpin.
func TestPricesCommand(t *testing.T) {
	s := startPricesServer(t)
	stdout, stderr, code := runMain(t, nil, "cheapest", "--server.url="+s.URL, "--gpu=H100", "--gpu=L4", "--min-memory=80", "--format=csv")
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if code != 0 || err != nil || len(rows) != 3 || rows[1][1] != "1x_H100_SXM_80GB" || rows[2][1] != "p5.48xlarge" {
		t.Errorf("exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
}

func TestAge(t *testing.T) {
	for _, c := range []struct {
		ago  time.Duration
		want string
	}{
		{0, "0s"}, {-time.Second, "0s"}, {42*time.Second + 300*time.Millisecond, "42s"}, {90 * time.Second, "1m30s"},
		{61 * time.Minute, "1h1m"}, {2 * time.Hour, "2h0m"}, {50 * time.Hour, "2d2h"},
	} {
		if got := age(pricesNow, pricesNow.Add(-c.ago)); got != c.want {
			t.Errorf("age(%s) = %q, want %q", c.ago, got, c.want)
		}
	}
	if got := age(pricesNow, time.Time{}); got != "-" {
		t.Errorf("age of no time = %q", got)
	}
}

// TestCollectTableZone: collect's table has the zone column, filled for
// AWS spot prices (one series per availability zone).
func TestCollectTableZone(t *testing.T) {
	var out bytes.Buffer
	cfgFile, format, demo, timeout := "", "table", true, time.Duration(0)
	providers := []string{"aws"}
	err := runCollect(slog.New(slog.DiscardHandler), collectOptions{config: &cfgFile, providers: &providers, format: &format, demo: &demo, timeout: &timeout}, &out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	header := strings.Fields(lines[0])
	if len(header) < 4 || header[2] != "REGION" || header[3] != "ZONE" {
		t.Fatalf("header %v", header)
	}
	zoned := 0
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 5 && f[5] == "spot" && strings.HasPrefix(f[3], f[2]) && len(f[3]) == len(f[2])+1 {
			zoned++
		}
	}
	if zoned == 0 {
		t.Errorf("no AWS spot row with its zone:\n%.2000s", out.String())
	}
}
