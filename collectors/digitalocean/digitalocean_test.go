package digitalocean

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
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

// TestPages: a small page size makes the walk follow links.pages.next;
// the unavailable MI300X 8X, listed in no region, is skipped.
func TestPages(t *testing.T) {
	fake := fakecloud.NewDigitalOcean(fakecloud.DigitalOceanOptions{PerPage: 3})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Set("per_page", "3") // the fake's page, whatever the client asks
		r.URL.RawQuery = q.Encode()
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg := defaults()
	cfg.Endpoint, cfg.APIToken = srv.URL, "t"
	c, _ := New(cfg, collectors.Env{HTTPClient: srv.Client()})
	snap, err := c.Collect(context.Background())
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
