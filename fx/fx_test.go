package fx

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

func TestUSD(t *testing.T) {
	day := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	ecb := fakecloud.NewECB(fakecloud.ECBOptions{Day: func() time.Time { return day }, USD: 1.25})
	srv := httptest.NewServer(ecb)
	defer srv.Close()
	now := day.Add(20 * time.Hour)
	cfg := config.DefaultFX
	cfg.ECBURL, cfg.GLMUSDURL = srv.URL+fakecloud.ECBPath, ""
	r := New(cfg, srv.Client(), func() time.Time { return now })
	ctx := context.Background()

	for _, c := range []struct {
		amount   float64
		currency string
		want     float64
	}{{2, "EUR", 2.5}, {2, "eur", 2.5}, {3, "USD", 3}, {0.8563, "GBP", 1.25}} {
		got, asOf, err := r.USD(ctx, c.amount, c.currency)
		if err != nil || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("USD(%g %s) = %g, %v; want %g", c.amount, c.currency, got, err, c.want)
		}
		if c.currency != "USD" && !asOf.Equal(day) {
			t.Errorf("rate of %v, want %v", asOf, day)
		}
	}
	if _, _, err := r.USD(ctx, 1, "GLM"); !errors.Is(err, ErrNoRate) {
		t.Errorf("GLM: %v, want ErrNoRate", err)
	}
	if n := ecb.Faults.Requests(); n != 1 {
		t.Errorf("%d reads of the file, want 1 within the refresh interval", n)
	}

	// Five days on, the ECB still answering with the old day (as over a
	// long holiday, or a broken mirror): no conversion.
	now = day.Add(5 * 24 * time.Hour)
	if _, _, err := r.USD(ctx, 1, "EUR"); !errors.Is(err, ErrStale) {
		t.Errorf("five days on: %v, want ErrStale", err)
	}

	// The file gone: the rates read keep converting while young enough.
	r2 := New(cfg, srv.Client(), func() time.Time { return day.Add(time.Hour) })
	if _, _, err := r2.USD(ctx, 1, "EUR"); err != nil {
		t.Fatal(err)
	}
	ecb.Faults.Add(fakecloud.Fault{Kind: fakecloud.Status5xx})
	r2.now = func() time.Time { return day.Add(30 * time.Hour) }
	if got, _, err := r2.USD(ctx, 1, "EUR"); err != nil || got != 1.25 {
		t.Errorf("with the file failing: %g, %v; want the last rates", got, err)
	}

	// While the file fails, a refresh converting many prices asks for it
	// once, and again only after retryFloor.
	before := ecb.Faults.Requests()
	ecb.Faults.Add(fakecloud.Fault{Kind: fakecloud.Status5xx}, fakecloud.Fault{Kind: fakecloud.Status5xx})
	r2.now = func() time.Time { return day.Add(31 * time.Hour) }
	for range 10 {
		if got, _, err := r2.USD(ctx, 1, "EUR"); err != nil || got != 1.25 {
			t.Fatalf("with the file failing: %g, %v; want the last rates", got, err)
		}
	}
	if n := ecb.Faults.Requests() - before; n != 1 {
		t.Errorf("%d reads of a failing file for 10 conversions, want 1", n)
	}
	r2.now = func() time.Time { return day.Add(31*time.Hour + retryFloor) }
	r2.USD(ctx, 1, "EUR")
	if n := ecb.Faults.Requests() - before; n != 2 {
		t.Errorf("%d reads after retryFloor, want 2", n)
	}
}

// TestGLM: GLM converts at the simple-price answer's rate, read again
// after glm_refresh, and never with a rate older than glm_max_age by its
// own last_updated_at.
func TestGLM(t *testing.T) {
	updated := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	cg := fakecloud.NewCoinGecko(fakecloud.CoinGeckoOptions{UpdatedAt: func() time.Time { return updated }, USD: 0.25})
	srv := httptest.NewServer(cg)
	defer srv.Close()
	now := updated.Add(5 * time.Minute)
	cfg := config.DefaultFX
	cfg.ECBURL, cfg.GLMUSDURL = "http://127.0.0.1:1/none.xml", srv.URL+fakecloud.CoinGeckoPath+fakecloud.CoinGeckoQuery
	r := New(cfg, srv.Client(), func() time.Time { return now })
	ctx := context.Background()

	got, asOf, err := r.USD(ctx, 4, "glm")
	if err != nil || got != 1 || !asOf.Equal(updated) {
		t.Fatalf("USD(4 GLM) = %g of %v, %v; want 1 of %v", got, asOf, err, updated)
	}
	r.USD(ctx, 4, "GLM")
	if n := cg.Faults.Requests(); n != 1 {
		t.Errorf("%d reads within glm_refresh, want 1", n)
	}

	// The source fails and the rate ages past glm_max_age: no conversion.
	cg.Faults.Add(fakecloud.Fault{Kind: fakecloud.Status5xx})
	now = updated.Add(time.Duration(cfg.GLMMaxAge) + time.Minute)
	if _, _, err := r.USD(ctx, 1, "GLM"); !errors.Is(err, ErrStale) {
		t.Errorf("a rate older than glm_max_age: %v, want ErrStale", err)
	}

	// The source answers, but with a rate that stopped moving: stale too.
	cg.Faults.Clear()
	now = now.Add(time.Duration(cfg.GLMRefresh))
	if _, _, err := r.USD(ctx, 1, "GLM"); !errors.Is(err, ErrStale) {
		t.Errorf("an old last_updated_at: %v, want ErrStale", err)
	}

	// Without a source, GLM has no rate; EUR is unaffected by GLM's.
	cfg.GLMUSDURL = ""
	if _, _, err := New(cfg, nil, nil).USD(ctx, 1, "GLM"); !errors.Is(err, ErrNoRate) {
		t.Errorf("no glm_usd_url: %v, want ErrNoRate", err)
	}
}

func TestParseSimplePrice(t *testing.T) {
	for _, c := range []struct {
		name, body string
		usd        float64
		at         int64
		err        bool
	}{
		{"with time", `{"golem":{"usd":0.2634,"last_updated_at":1764849600}}`, 0.2634, 1764849600, false},
		{"without time", `{"golem":{"usd":0.3}}`, 0.3, 0, false},
		{"unknown id", `{}`, 0, 0, true},
		{"two tokens", `{"golem":{"usd":0.3},"bitcoin":{"usd":90000}}`, 0, 0, true},
		{"zero", `{"golem":{"usd":0}}`, 0, 0, true},
		{"no usd", `{"golem":{"eur":0.25}}`, 0, 0, true},
		{"string", `{"golem":{"usd":"0.3"}}`, 0, 0, true},
		{"error envelope", `{"status":{"error_code":429,"error_message":"rate limited"}}`, 0, 0, true},
	} {
		usd, at, err := parseSimplePrice(strings.NewReader(c.body))
		if (err != nil) != c.err || usd != c.usd || (c.at != 0 && at.Unix() != c.at) || (c.at == 0 && !at.IsZero()) {
			t.Errorf("%s: %g, %v, %v", c.name, usd, at, err)
		}
	}
}

// FuzzParseSimplePrice: no input makes the GLM rate's parser panic, and
// what it accepts is a positive, finite rate.
func FuzzParseSimplePrice(f *testing.F) {
	f.Add([]byte(`{"golem":{"usd":0.2634,"last_updated_at":1764849600}}`))
	f.Add([]byte(`{"golem":{"usd":1e400}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		usd, _, err := parseSimplePrice(bytes.NewReader(b))
		if err == nil && !(usd > 0 && !math.IsInf(usd, 0)) {
			t.Errorf("accepted a rate of %v", usd)
		}
	})
}

func TestNeverRead(t *testing.T) {
	cfg := config.DefaultFX
	cfg.ECBURL = "http://127.0.0.1:1/eurofxref-daily.xml"
	if _, _, err := New(cfg, nil, nil).USD(context.Background(), 1, "EUR"); !errors.Is(err, ErrNoRate) {
		t.Errorf("%v, want ErrNoRate", err)
	}
}

// FuzzParse: no input makes the parser panic, and what it accepts has a
// positive, finite USD rate.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`<Envelope><Cube><Cube time="2026-12-03"><Cube currency="USD" rate="1.08"/></Cube></Cube></Envelope>`))
	f.Add([]byte(`<Envelope><Cube><Cube time="x"/></Cube></Envelope>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, rates, err := parse(bytes.NewReader(b))
		if err == nil && !(rates["USD"] > 0 && !math.IsInf(rates["USD"], 0)) {
			t.Errorf("accepted a USD rate of %v", rates["USD"])
		}
	})
}
