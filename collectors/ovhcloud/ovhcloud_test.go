package ovhcloud

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

// TestContract runs the contract suite against the fake, whose catalog
// holds what must not be priced: monthly, 3-AZ, Windows and per-minute
// plans, CPU flavors, and a flavor at 0.
func TestContract(t *testing.T) {
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		// The whole catalog, with the flavor of an unknown GPU the
		// plugin's fake leaves out for the demo.
		Fake: func() http.Handler { return fakecloud.NewOVHcloud(fakecloud.OVHcloudOptions{}) },
		FX:   collectortest.EURRate,
		APIs: []collectortest.API[*Config]{{Unpaged: true, Want: map[collectortest.Row]collectortest.Want{
			collectortest.Status5xx:       {InErr: []string{"Server::InternalServerError"}},
			collectortest.TooManyRequests: {InErr: []string{"Client::TooManyRequests"}},
			collectortest.WrongTypes:      {Shapes: []string{"cannot unmarshal string"}},
		}}},
	})
}

// frCatalog serves what body returns as the FR catalog.
func frCatalog(body func() string) http.Handler {
	return fakecloud.AnswerAt(CatalogPath+"?ovhSubsidiary=FR", body)
}

// newCollector builds the collector of the API at endpoint.
func newCollector(t testing.TB, endpoint string, conv collectors.Converter, edit func(*Config)) *Collector {
	t.Helper()
	return collectortest.New(t, New, defaults, endpoint, collectors.Env{FX: conv}, edit)
}

// collect refreshes once from an API answering body.
func collect(t *testing.T, body string, conv collectors.Converter) (*price.Snapshot, error) {
	t.Helper()
	return newCollector(t, collectortest.Serve(t, frCatalog(func() string { return body })), conv, nil).Collect(context.Background())
}

// gpuAddon is a GPU flavor's addon in the catalog's wire format.
func gpuAddon(plan, pricings, gpu, regions string) string {
	return `{"planCode":"` + plan + `","product":"publiccloud-instance","pricings":` + pricings +
		`,"configurations":[{"name":"region","values":` + regions + `}],` +
		`"blobs":{"technical":{"cpu":{"cores":15},"memory":{"size":90},"gpu":` + gpu + `,"os":{"family":"linux"}},"tags":["active"]}}`
}

const (
	perHour  = `[{"capacities":["consumption"],"interval":1,"intervalUnit":"hour","price":140000000}]`
	perNone  = `[{"capacities":["consumption"],"interval":0,"intervalUnit":"none","price":180000000}]`
	perMonth = `[{"capacities":["renew","consumption"],"interval":1,"intervalUnit":"month","price":100800000000}]`
	l40s     = `{"model":"L40S","number":1,"memory":{"size":48}}`
)

func catalog(currency string, addons ...string) string {
	return `{"locale":{"currencyCode":"` + currency + `","subsidiary":"FR"},"addons":[` + strings.Join(addons, ",") + `]}`
}

// TestDecode: what of an addon makes a quote, and what is skipped.
func TestDecode(t *testing.T) {
	for _, c := range []struct {
		name   string
		body   string
		want   []string // instance_type/region/gpu_count/gpu_model/usd
		reason string   // of the error, when it fails
	}{
		{name: "hourly, two regions", body: catalog("EUR", gpuAddon("l40s-90.consumption", perHour, l40s, `["GRA11","BHS5"]`)),
			want: []string{"l40s-90/bhs5/na/1/L40S/1.512", "l40s-90/gra11/eu/1/L40S/1.512"}},
		{name: "USD catalog, intervalUnit none", body: catalog("USD", gpuAddon("l40s-90.consumption", perNone, l40s, `["US-EAST-VA"]`)),
			want: []string{"l40s-90/us-east-va/na/1/L40S/1.8"}},
		{name: "count from the blob, not the name", body: catalog("EUR", gpuAddon("h100-380.consumption", `[{"capacities":["consumption"],"intervalUnit":"hour","interval":1,"price":1120000000}]`,
			`{"model":"H100","number":4,"memory":{"size":80}}`, `["GRA11"]`)),
			want: []string{"h100-380/gra11/eu/4/H100/12.096"}},
		{name: "regions from the monthly plan", body: catalog("EUR",
			gpuAddon("l40s-90.consumption", perHour, l40s, `[]`), gpuAddon("l40s-90.monthly.postpaid", perMonth, l40s, `["SBG5"]`)),
			want: []string{"l40s-90/sbg5/eu/1/L40S/1.512"}},
		{name: "no region anywhere", body: catalog("EUR", gpuAddon("l40s-90.consumption", perHour, l40s, `[]`)),
			want: []string{"l40s-90///1/L40S/1.512"}},
		{name: "unknown GPU kept", body: catalog("EUR", gpuAddon("x9-90.consumption", perHour, `{"model":"B300 SXM6","number":8,"memory":{"size":288}}`, `["GRA11"]`)),
			want: []string{"x9-90/gra11/eu/8/UNKNOWN/1.512"}},
		{name: "monthly, 3-AZ, per-minute and Windows plans skipped", body: catalog("EUR",
			gpuAddon("l40s-90.monthly.postpaid", perMonth, l40s, `["GRA11"]`),
			gpuAddon("l40s-90.consumption.3AZ", perHour, l40s, `["EU-WEST-PAR"]`),
			gpuAddon("win-l40s-90.consumption", perHour, l40s, `["GRA11"]`),
			gpuAddon("l4-90.consumption", `[{"capacities":["consumption"],"interval":1,"intervalUnit":"minute","price":1250000}]`, l40s, `["GRA11"]`),
			gpuAddon("a10-45.consumption", perHour, l40s, `["GRA11"]`)),
			want: []string{"a10-45/gra11/eu/1/L40S/1.512"}},
		{name: "zero price and no GPU skipped", body: catalog("EUR",
			gpuAddon("t1-le-45.consumption", `[{"capacities":["consumption"],"interval":1,"intervalUnit":"hour","price":0}]`, `{"model":"Tesla V100","number":1}`, `["GRA7"]`),
			gpuAddon("b3-8.consumption", perHour, `null`, `["GRA11"]`),
			gpuAddon("l40s-90.consumption", perHour, l40s, `["GRA7"]`)),
			want: []string{"l40s-90/gra7/eu/1/L40S/1.512"}},
		{name: "other products skipped", body: catalog("EUR",
			`{"planCode":"volume.high-speed.consumption","product":"publiccloud-volume-high-speed","pricings":`+perHour+`}`,
			gpuAddon("l40s-90.consumption", perHour, l40s, `["GRA7"]`)),
			want: []string{"l40s-90/gra7/eu/1/L40S/1.512"}},
		{name: "only CPU flavors", body: catalog("EUR", gpuAddon("b3-8.consumption", perHour, `null`, `["GRA11"]`)), reason: "empty"},
		{name: "no addons", body: catalog("EUR"), reason: "empty"},
		{name: "no currency", body: catalog("", gpuAddon("l40s-90.consumption", perHour, l40s, `["GRA7"]`)), reason: "decode"},
		{name: "every GPU addon unreadable", body: catalog("EUR",
			`{"planCode":"b3-8.consumption","product":"publiccloud-instance","pricings":[]}`,
			gpuAddon("l40s-90.consumption", `[{"capacities":["consumption"],"intervalUnit":"hour","price":"140000000"}]`, l40s, `["GRA7"]`)), reason: "decode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			snap, err := collect(t, c.body, collectortest.EURRate)
			if collectortest.Failed(t, err, c.reason) {
				return
			}
			var got []string
			for _, q := range snap.Quotes {
				got = append(got, strings.Join([]string{q.InstanceType, q.Region, q.Geo, price.FormatNumber(q.GPUCount), q.GPUModel, price.FormatNumber(q.USDPerHour)}, "/"))
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("quotes\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestFX: the EUR price is kept beside its USD conversion, and without a
// rate young enough nothing is published.
func TestFX(t *testing.T) {
	c := newCollector(t, collectortest.Serve(t, fakecloud.NewOVHcloud(fakecloud.OVHcloudOptions{})), collectortest.EURRate, nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var h200 *price.Quote
	for i := range snap.Quotes {
		if snap.Quotes[i].InstanceType == "h200-1920" {
			h200 = &snap.Quotes[i]
		}
	}
	if h200 == nil || h200.Currency != "EUR" || h200.CurrencyPerHour != 42 || h200.USDPerHour != 42*1.08 ||
		h200.GPUModel != "H200" || h200.GPUCount != 8 || h200.GPUMemoryGB != 141 || h200.Region != "gra11" || h200.Geo != "eu" {
		t.Errorf("h200-1920: %+v", h200)
	}
	collectortest.StaleRateFails(t, c, &c.FX)
}

// TestSubsidiary: the subsidiary is sent upper-cased, and one the API does
// not serve is an HTTP error naming it.
func TestSubsidiary(t *testing.T) {
	srv := httptest.NewServer(fakecloud.NewOVHcloud(fakecloud.OVHcloudOptions{}))
	defer srv.Close()
	for sub, ok := range map[string]bool{"fr": true, "CA": false} {
		cfg := defaults()
		cfg.Endpoint, cfg.Subsidiary = srv.URL, sub
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		c, _ := New(cfg, collectors.Env{HTTPClient: srv.Client(), FX: collectortest.EURRate})
		_, err := c.Collect(context.Background())
		var he *collectors.HTTPError
		if ok && err != nil || !ok && (!errors.As(err, &he) || he.StatusCode != http.StatusBadRequest || !strings.Contains(err.Error(), "ovhSubsidiary")) {
			t.Errorf("subsidiary %s: %v", sub, err)
		}
	}
	cfg := defaults()
	cfg.Subsidiary = "fr/../x"
	if err := cfg.Validate(); err == nil {
		t.Error("a subsidiary with a path in it validated")
	}
}

func TestGeo(t *testing.T) {
	for r, want := range map[string]string{"gra11": "eu", "sbg5": "eu", "de1": "eu", "uk1": "eu", "waw1": "eu", "bhs5": "na",
		"sgp1": "asia", "syd1": "oc", "eu-west-par": "eu", "ca-east-tor": "na", "ap-southeast-syd": "oc", "ap-south-mum": "asia", "": ""} {
		if got := Geo(r); got != want {
			t.Errorf("Geo(%q) = %q, want %q", r, got, want)
		}
	}
}

// FuzzDecode: no catalog makes the decoder panic, and every quote it
// returns has a positive price and GPU count.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(catalog("EUR", gpuAddon("l40s-90.consumption", perHour, l40s, `["GRA11"]`))))
	f.Add([]byte(catalog("USD", gpuAddon("l40s-90.consumption", perNone, l40s, `[]`), gpuAddon("l40s-90.monthly.postpaid", perMonth, l40s, `["BHS5"]`))))
	f.Add([]byte(`{"addons":[{"planCode":".consumption","product":"publiccloud-instance"}]}`))
	// One server for every input: a fuzz worker runs one at a time.
	var body atomic.Value
	endpoint := collectortest.Serve(f, frCatalog(func() string { return body.Load().(string) }))
	f.Fuzz(func(t *testing.T, b []byte) {
		body.Store(string(b))
		snap, err := newCollector(t, endpoint, collectortest.EURRate, nil).Collect(context.Background())
		if err != nil {
			return
		}
		for _, q := range snap.Quotes {
			if !(q.USDPerHour > 0) || !(q.GPUCount > 0) {
				t.Errorf("quote %+v", q)
			}
		}
	})
}
