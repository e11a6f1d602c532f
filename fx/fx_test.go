package fx

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/http/httptest"
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
	cfg.ECBURL = srv.URL + fakecloud.ECBPath
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
