package akash

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

// TestContract runs the collector contract suite against the fake, whose
// recorded answer holds a model without bids (price null) and one whose
// statistics are all 0: both are skipped, never priced at 0.
func TestContract(t *testing.T) {
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		APIs: []collectortest.API[*Config]{{Unpaged: true, Want: map[collectortest.Row]collectortest.Want{
			collectortest.Status5xx:       {InErr: []string{"Service Unavailable"}},
			collectortest.TooManyRequests: {InErr: []string{"Too Many Requests"}},
			collectortest.WrongTypes:      {Shapes: []string{"cannot unmarshal string"}},
		}}},
	})
}

// TestStock: a model is available or not where the answer counts its
// available GPUs, and unknown where it does not, never "none" for a
// missing field.
func TestStock(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name string
		a    *availability
		want price.Stock
	}{
		{"GPUs available", &availability{Available: f(24)}, price.StockAvailable},
		{"none available", &availability{Available: f(0)}, price.StockNone},
		{"no availability", nil, price.StockUnknown},
		{"available missing or null", &availability{}, price.StockUnknown},
		{"available negative", &availability{Available: f(-1)}, price.StockUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := stock(tc.a); got != tc.want {
				t.Errorf("stock %q, want %q", got, tc.want)
			}
		})
	}
}

// TestStockDecoded: the same through a whole answer.
func TestStockDecoded(t *testing.T) {
	model := func(name, availability string) string {
		s := `{"vendor": "nvidia", "model": "` + name + `", "ram": "80Gi", "interface": "SXM5", "price": {"currency": "USD", "min": 1.2}`
		if availability != "" {
			s += `, "availability": ` + availability
		}
		return s + "}"
	}
	body := `{"availability": {"total": 10, "available": 3}, "models": [` + strings.Join([]string{
		model("h100", `{"total": 8, "available": 3}`),
		model("h200", `{"total": 2, "available": 0}`),
		model("a100", `{"total": 2, "available": null}`),
		model("b200", ``),
	}, ",") + `]}`
	snap, err := collectortest.New(t, New, defaults, collectortest.Serve(t, fakecloud.Answer(body)), collectors.Env{}, nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]price.Stock{}
	for _, q := range snap.Quotes {
		got[q.InstanceType] = q.Stock
	}
	want := map[string]price.Stock{"h100-80gi-sxm5": price.StockAvailable, "h200-80gi-sxm5": price.StockNone,
		"a100-80gi-sxm5": price.StockUnknown, "b200-80gi-sxm5": price.StockUnknown}
	if !maps.Equal(got, want) {
		t.Errorf("stocks %v, want %v", got, want)
	}
}
