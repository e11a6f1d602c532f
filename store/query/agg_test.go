package query

import (
	"reflect"
	"testing"

	"github.com/gpuprice/gpuprice/price"
)

func TestQuantile(t *testing.T) {
	tests := []struct {
		name string
		vs   []float64
		q    float64
		want float64
	}{
		{"one value", []float64{7}, 0.5, 7},
		{"two values: midway", []float64{3, 1}, 0.5, 2},
		{"odd count: the middle", []float64{3, 1, 2}, 0.5, 2},
		{"even count: between the middle two", []float64{4, 1, 3, 2}, 0.5, 2.5},
		{"p10 of 1, 2, 4: rank 0.2", []float64{4, 1, 2}, 0.1, 1.2},
		{"p90 of 1, 2, 4: rank 1.8", []float64{4, 1, 2}, 0.9, 3.6},
		{"no values", nil, 0.5, nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quantile(tt.vs, tt.q); !near(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAggregate(t *testing.T) {
	rows := [][]float64{
		{1, nan, 3, nan},
		{2, 5, nan, nan},
		{4, nan, nan, nan},
	}
	tests := []struct {
		agg  Agg
		want []float64
	}{
		{Min, []float64{1, 5, 3, nan}},
		{Max, []float64{4, 5, 3, nan}},
		{Avg, []float64{7.0 / 3, 5, 3, nan}},
		{P10, []float64{1.2, 5, 3, nan}},
		{P50, []float64{2, 5, 3, nan}},
		{P90, []float64{3.6, 5, 3, nan}},
	}
	for _, tt := range tests {
		t.Run(string(tt.agg), func(t *testing.T) {
			got := Aggregate(tt.agg, rows)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k := range got {
				if !near(got[k], tt.want[k]) {
					t.Errorf("got %v, want %v", got, tt.want)
					break
				}
			}
		})
	}
	if got := Aggregate(Min, nil); got != nil {
		t.Errorf("no rows: %v", got)
	}
}

func TestParseAgg(t *testing.T) {
	for _, a := range Aggs {
		if got, err := ParseAgg(string(a)); got != a || err != nil {
			t.Errorf("ParseAgg(%q) = %q, %v", a, got, err)
		}
	}
	if _, err := ParseAgg("median"); err == nil || err.Error() != `"median" is not one of min, max, avg, p10, p50, p90` {
		t.Errorf("ParseAgg(median): %v", err)
	}
}

func TestParseBy(t *testing.T) {
	got, err := ParseBy([]string{"provider", "", "geo", "provider"})
	if err != nil || !reflect.DeepEqual(got, []string{"provider", "geo"}) {
		t.Errorf("ParseBy = %v, %v", got, err)
	}
	if _, err := ParseBy([]string{"gpu"}); err == nil {
		t.Error("ParseBy(gpu) accepted an unknown label")
	}
}

func TestNarrow(t *testing.T) {
	a := price.Quote{Provider: "aws", Region: "us-east-1", Geo: "na", PricingModel: price.Spot, GPUModel: "H100", GPUMemoryGB: 80, GPUCount: 8}
	b := price.Quote{Provider: "aws", Region: "us-west-2", Geo: "na", PricingModel: price.Spot, GPUModel: "H100", GPUMemoryGB: 80.00001, GPUCount: 4}
	narrow(&a, &b)
	want := price.Quote{Provider: "aws", Geo: "na", PricingModel: price.Spot, GPUModel: "H100", GPUMemoryGB: 80}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("\n got %+v\nwant %+v", a, want)
	}
}

func TestLabelValue(t *testing.T) {
	q := price.Quote{Provider: "azure", InstanceType: "Standard_NV6ads_A10_v5", Region: "westeurope", Geo: "eu",
		PricingModel: price.OnDemand, GPUModel: "A10", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: 1.0 / 6}
	var got []string
	for _, n := range LabelNames {
		got = append(got, LabelValue(&q, n))
	}
	want := []string{"azure", "Standard_NV6ads_A10_v5", "westeurope", "", "eu", "on_demand", "A10", "pcie", "24", "0.1667"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}
