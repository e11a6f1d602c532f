package collectortest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/fx"
)

// FixedRate is a collectors.Converter for tests of providers that price in
// another currency: every amount of Currency (any currency when empty) is
// worth Rate USD, as of At; with Err set, every conversion fails with it.
type FixedRate struct {
	Currency string
	Rate     float64
	At       time.Time
	Err      error
}

var _ collectors.Converter = FixedRate{}

// EURRate converts EUR (or any currency) at 1.08 USD: the rate of the
// tests of providers that price in EUR.
var EURRate = FixedRate{Rate: 1.08, At: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}

// USD implements collectors.Converter.
func (f FixedRate) USD(_ context.Context, amount float64, currency string) (float64, time.Time, error) {
	if f.Err != nil {
		return 0, time.Time{}, f.Err
	}
	if f.Currency != "" && currency != f.Currency {
		return 0, time.Time{}, fx.ErrNoRate
	}
	return amount * f.Rate, f.At, nil
}

// StaleRateFails checks that c, whose Converter is *conv, publishes
// nothing once its rate is too old: with conv replaced by one failing with
// fx.ErrStale, the refresh fails with reason fx.
func StaleRateFails(t testing.TB, c collectors.Collector, conv *collectors.Converter) {
	t.Helper()
	*conv = FixedRate{Err: fx.ErrStale}
	_, err := c.Collect(context.Background())
	if collectors.Reason(err) != "fx" || !errors.Is(err, fx.ErrStale) {
		t.Errorf("stale rate: %v (reason %s), want the fx reason", err, collectors.Reason(err))
	}
}
