package remotewrite

import (
	"slices"
	"testing"
)

// TestParseSummaryWithoutCount: a summary with quantiles only (a market of
// published statistics) becomes its quantile series, without a _sum or
// _count that /metrics does not have.
func TestParseSummaryWithoutCount(t *testing.T) {
	text := []byte(`# TYPE gpuprice_market_gpu_usd_per_hour summary
gpuprice_market_gpu_usd_per_hour{provider="akash",quantile="0.5"} 1.58
gpuprice_market_gpu_usd_per_hour{provider="vastai",quantile="0.5"} 2.1
gpuprice_market_gpu_usd_per_hour_sum{provider="vastai"} 10.9
gpuprice_market_gpu_usd_per_hour_count{provider="vastai"} 5
`)
	series, err := parseFamilies(text)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range series {
		var name, provider string
		for _, l := range s.Labels {
			switch l.Name {
			case "__name__":
				name = l.Value
			case "provider":
				provider = l.Value
			}
		}
		got = append(got, provider+" "+name)
	}
	slices.Sort(got)
	want := []string{
		"akash gpuprice_market_gpu_usd_per_hour",
		"vastai gpuprice_market_gpu_usd_per_hour",
		"vastai gpuprice_market_gpu_usd_per_hour_count",
		"vastai gpuprice_market_gpu_usd_per_hour_sum",
	}
	if !slices.Equal(got, want) {
		t.Errorf("series %q, want %q", got, want)
	}
}
