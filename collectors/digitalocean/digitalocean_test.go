package digitalocean

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

func TestContract(t *testing.T) {
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		Tune: func(c *Collector) { c.maxPages = 5 },
		APIs: []collectortest.API[*Config]{{Want: map[collectortest.Row]collectortest.Want{
			collectortest.Status5xx:       {InErr: []string{"server_error"}},
			collectortest.TooManyRequests: {InErr: []string{"too_many_requests"}},
			collectortest.WrongTypes:      {Shapes: []string{"cannot unmarshal string"}},
			collectortest.EndlessPages:    {Is: errPagination, Requests: 5},
		}}},
		Extra: []collectortest.Extra[*Config]{{
			Name:      "refused token",
			Configure: func(c *Config) { c.APIToken = "dop_v1_wrong" },
			Want:      collectortest.Want{Reason: "http_4xx", InErr: []string{"the API token was refused"}},
		}},
	})
}

// withToken builds the collector of the API h serves, with a token.
func withToken(t *testing.T, h http.Handler) *Collector {
	t.Helper()
	return collectortest.New(t, New, defaults, collectortest.Serve(t, h), collectors.Env{}, func(c *Config) { c.APIToken = "t" })
}

// TestPages: a small page size makes the walk follow links.pages.next;
// the unavailable MI300X 8X, listed in no region, is skipped.
func TestPages(t *testing.T) {
	fake := fakecloud.NewDigitalOcean(fakecloud.DigitalOceanOptions{PerPage: 3})
	snap, err := withToken(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Set("per_page", "3") // the fake's page, whatever the client asks
		r.URL.RawQuery = q.Encode()
		fake.ServeHTTP(w, r)
	})).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := fake.Faults.Requests(); n != 3 {
		t.Errorf("%d requests, want 3 pages of 3 sizes", n)
	}
	if len(snap.Quotes) != 9 {
		t.Errorf("%d quotes, want 9 (7 GPU sizes in their regions)", len(snap.Quotes))
	}
}

func TestNoToken(t *testing.T) {
	c, _ := New(defaults(), collectors.Env{})
	if _, err := c.Collect(context.Background()); !errors.Is(err, ErrNoToken) {
		t.Errorf("%v, want ErrNoToken", err)
	}
}

// TestStock: a size marked available or not has that stock in every
// region it lists; one whose answer does not say (available missing or
// null) has unknown stock, never "none" for a missing field.
func TestStock(t *testing.T) {
	size := func(slug, available string) string {
		s := `{"slug": "` + slug + `", "price_hourly": 3.39, "regions": ["nyc2", "tor1"], "gpu_info": {"count": 1, "vram": {"amount": 80, "unit": "gib"}, "model": "nvidia_h100"}`
		if available != "" {
			s += `, "available": ` + available
		}
		return s + "}"
	}
	body := `{"sizes": [` + strings.Join([]string{
		size("gpu-h100x1-80gb", "true"),
		size("gpu-h100x1-80gb-b", "false"),
		size("gpu-h100x1-80gb-c", "null"),
		size("gpu-h100x1-80gb-d", ""),
	}, ",") + `], "links": {}, "meta": {"total": 4}}`
	snap, err := withToken(t, fakecloud.Answer(body)).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]price.Stock{"gpu-h100x1-80gb": price.StockAvailable, "gpu-h100x1-80gb-b": price.StockNone,
		"gpu-h100x1-80gb-c": price.StockUnknown, "gpu-h100x1-80gb-d": price.StockUnknown}
	if len(snap.Quotes) != 8 {
		t.Fatalf("%d quotes, want 4 sizes in 2 regions", len(snap.Quotes))
	}
	for _, q := range snap.Quotes {
		if q.Stock != want[q.InstanceType] {
			t.Errorf("%s %s: stock %q, want %q", q.InstanceType, q.Region, q.Stock, want[q.InstanceType])
		}
	}
}
