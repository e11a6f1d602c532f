package verda

import (
	"context"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

func TestContract(t *testing.T) {
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		APIs: []collectortest.API[*Config]{{Unpaged: true, Want: map[collectortest.Row]collectortest.Want{
			collectortest.Status5xx:       {InErr: []string{"internal_error"}},
			collectortest.TooManyRequests: {InErr: []string{"too_many_requests"}},
			collectortest.WrongTypes:      {Shapes: []string{"cannot unmarshal number"}},
		}}},
	})
}

// collect refreshes a collector whose endpoint answers body.
func collect(t *testing.T, body string, locations ...string) (*price.Snapshot, error) {
	t.Helper()
	endpoint := collectortest.Serve(t, fakecloud.AnswerAt(InstanceTypesPath, func() string { return body }))
	return collectortest.New(t, New, defaults, endpoint, collectors.Env{}, func(c *Config) {
		if len(locations) > 0 {
			c.Locations = locations
		}
	}).Collect(context.Background())
}

func TestQuotes(t *testing.T) {
	snap, err := collect(t, `[
	  {"instance_type": "8H100.80S.176V", "price_per_hour": "18.320", "spot_price": "7.920", "currency": "usd",
	   "gpu": {"description": "8x H100 SXM5 80GB", "number_of_gpus": 8}, "gpu_memory": {"size_in_gigabytes": 640}},
	  {"instance_type": "4A100.40S.88V", "price_per_hour": "4.720", "spot_price": "0", "currency": "usd",
	   "gpu": {"description": "4x A100 SXM4 40GB", "number_of_gpus": 4}, "gpu_memory": {"size_in_gigabytes": 160}},
	  {"instance_type": "2XYZ.20V", "price_per_hour": "3.000", "currency": "usd",
	   "gpu": {"description": "2x XYZ 1000 64GB", "number_of_gpus": 2}, "gpu_memory": {"size_in_gigabytes": 128}},
	  {"instance_type": "CPU.32V.128G", "price_per_hour": "0.320", "spot_price": "0.140", "currency": "usd",
	   "gpu": {"description": "", "number_of_gpus": 0}},
	  {"instance_type": "1H100.eur", "price_per_hour": "2.000", "currency": "eur",
	   "gpu": {"description": "1x H100 SXM5 80GB", "number_of_gpus": 1}},
	  {"instance_type": "1H100.free", "price_per_hour": "0", "currency": "usd",
	   "gpu": {"description": "1x H100 SXM5 80GB", "number_of_gpus": 1}},
	  {"instance_type": "1H100.null", "price_per_hour": null, "currency": "usd",
	   "gpu": {"description": "1x H100 SXM5 80GB", "number_of_gpus": 1}},
	  {"instance_type": "1H100.text", "price_per_hour": "call us", "currency": "usd",
	   "gpu": {"description": "1x H100 SXM5 80GB", "number_of_gpus": 1}},
	  {"instance_type": "1H100.typed", "price_per_hour": 2.5, "currency": "usd",
	   "gpu": {"description": "1x H100 SXM5 80GB", "number_of_gpus": 1}}
	]`, "FIN-01", "ICE-01")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range snap.Quotes {
		got = append(got, strings.Join([]string{q.InstanceType, q.Region, q.Geo, string(q.PricingModel), q.GPUModel, q.GPUForm,
			price.FormatNumber(q.GPUMemoryGB), price.FormatNumber(q.GPUCount), price.FormatNumber(q.USDPerHour)}, " "))
	}
	want := []string{
		"2XYZ.20V fin-01 eu on_demand UNKNOWN  64 2 3",
		"2XYZ.20V ice-01 eu on_demand UNKNOWN  64 2 3",
		"4A100.40S.88V fin-01 eu on_demand A100 sxm 40 4 4.72",
		"4A100.40S.88V ice-01 eu on_demand A100 sxm 40 4 4.72",
		"8H100.80S.176V fin-01 eu on_demand H100 sxm 80 8 18.32",
		"8H100.80S.176V fin-01 eu spot H100 sxm 80 8 7.92",
		"8H100.80S.176V ice-01 eu on_demand H100 sxm 80 8 18.32",
		"8H100.80S.176V ice-01 eu spot H100 sxm 80 8 7.92",
	}
	if n := snap.Skipped[price.SkippedInvalid]; n != 3 {
		t.Errorf("skipped %v, want 3 invalid rows (a null, a non-numeric and a wrong-typed price)", snap.Skipped)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("quotes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNothingUsable(t *testing.T) {
	_, err := collect(t, `[{"instance_type": "CPU.32V.128G", "price_per_hour": "0.320", "currency": "usd", "gpu": {"number_of_gpus": 0}}]`)
	if collectors.Reason(err) != "empty" {
		t.Errorf("err %v (reason %s), want an empty answer", err, collectors.Reason(err))
	}
}
