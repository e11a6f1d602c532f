package price

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// distinctLabels returns a quote whose labels all have different values.
func distinctLabels() Quote {
	var q Quote
	for i := range Labels {
		switch p := Labels[i].Field(&q).(type) {
		case *string:
			*p = Labels[i].Name + " value"
		case *float64:
			*p = float64(i) + 0.25
		}
	}
	return q
}

// jsonName is the JSON name of a struct field, "" when it has none.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// TestLabelsAreQuoteFields checks that every label reads the Quote field
// its JSON name is, and that numeric labels are the float fields.
func TestLabelsAreQuoteFields(t *testing.T) {
	var q Quote
	v := reflect.ValueOf(&q).Elem()
	fields := map[string]int{} // by JSON name
	for i := range v.NumField() {
		fields[jsonName(v.Type().Field(i))] = i
	}
	for i := range Labels {
		l := &Labels[i]
		fi, ok := fields[l.Name]
		if !ok {
			t.Errorf("label %s: no Quote field has that JSON name", l.Name)
			continue
		}
		f := v.Type().Field(fi)
		if reflect.ValueOf(l.Field(&q)).UnsafePointer() != v.Field(fi).Addr().UnsafePointer() {
			t.Errorf("label %s reads another field than Quote.%s", l.Name, f.Name)
		}
		if l.Numeric() != (f.Type.Kind() == reflect.Float64) {
			t.Errorf("label %s: Numeric() = %v, field Quote.%s is %s", l.Name, l.Numeric(), f.Name, f.Type)
		}
		if l.Help == "" {
			t.Errorf("label %s has no help", l.Name)
		}
	}
}

// TestSeriesKeyIsKeyLabels checks that SeriesKey holds the values of
// KeyLabels, in their order.
func TestSeriesKeyIsKeyLabels(t *testing.T) {
	q := distinctLabels()
	k := reflect.ValueOf(q.Key())
	if k.NumField() != len(KeyLabels) {
		t.Fatalf("SeriesKey has %d fields, KeyLabels %d", k.NumField(), len(KeyLabels))
	}
	for i := range KeyLabels {
		if got, want := k.Field(i).String(), KeyLabels[i].Value(&q); got != want {
			t.Errorf("SeriesKey.%s = %q, want %s's value %q", k.Type().Field(i).Name, got, KeyLabels[i].Name, want)
		}
	}
	back := q.Key().Labels()
	for i := range Labels {
		l := &Labels[i]
		want := "" // only the key survives
		if l.Key() {
			want = l.Value(&q)
		}
		if l.Value(&back) != want {
			t.Errorf("Key().Labels(): %s = %q, want %q", l.Name, l.Value(&back), want)
		}
	}
}

func TestSeriesKeyCompare(t *testing.T) {
	quotes := []Quote{
		{Provider: "aws", InstanceType: "p5", GPUCount: 8},
		{Provider: "aws", InstanceType: "p5", GPUCount: 16},
		{Provider: "aws", InstanceType: "p5", GPUCount: 0.5},
		{Provider: "aws", InstanceType: "p5", Zone: "a", GPUCount: 8},
		{Provider: "aws", InstanceType: "p5", PricingModel: Spot},
		{Provider: "gcp", InstanceType: "a3"},
	}
	for i := range quotes {
		for j := range quotes {
			a, b := &quotes[i], &quotes[j]
			if got, want := a.Key().Compare(b.Key()), CompareQuotes(a, b); got != want {
				t.Errorf("%s.Compare(%s) = %d, CompareQuotes %d", a.Key(), b.Key(), got, want)
			}
		}
	}
}

// TestMarketLabels checks that the labels of Market are MarketLabels and
// that Market.Labels carries them.
func TestMarketLabels(t *testing.T) {
	q := distinctLabels()
	var m Market
	mv := reflect.ValueOf(&m).Elem()
	qv := reflect.ValueOf(q)
	var fields []string
	for i := range mv.NumField() {
		name := jsonName(mv.Type().Field(i))
		if !slices.Contains(LabelNames(Labels), name) {
			continue
		}
		fields = append(fields, name)
		qf, _ := qv.Type().FieldByName(mv.Type().Field(i).Name)
		mv.Field(i).Set(qv.FieldByIndex(qf.Index))
	}
	if want := LabelNames(MarketLabels); !slices.Equal(fields, want) {
		t.Errorf("Market's labels are %q, MarketLabels %q", fields, want)
	}
	got := m.Labels()
	for i := range MarketLabels {
		if l := &MarketLabels[i]; l.Value(&got) != l.Value(&q) {
			t.Errorf("Market.Labels: %s = %q, want %q", l.Name, l.Value(&got), l.Value(&q))
		}
	}
}

func TestLabelSets(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels []Label
		want   string
	}{
		{"series", SeriesLabels, "provider instance_type region zone geo pricing_model gpu_model gpu_form gpu_memory_gb gpu_count"},
		{"market", MarketLabels, "provider region geo pricing_model gpu_model gpu_form gpu_memory_gb"},
		{"key", KeyLabels, "provider instance_type region zone pricing_model gpu_count"},
	} {
		if got := strings.Join(LabelNames(tc.labels), " "); got != tc.want {
			t.Errorf("%s labels: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestLabelValues(t *testing.T) {
	q := Quote{Provider: "azure", InstanceType: "Standard_NV6ads_A10_v5", Region: "westeurope", Geo: "eu",
		PricingModel: OnDemand, GPUModel: "A10", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: 1.0 / 6, GPURaw: "A10-4Q", Currency: "EUR"}
	want := []string{"azure", "Standard_NV6ads_A10_v5", "westeurope", "", "eu", "on_demand", "A10", "pcie", "24", "0.1667", "A10-4Q", "EUR"}
	for i := range Labels {
		l := &Labels[i]
		if got := l.Value(&q); got != want[i] {
			t.Errorf("%s: Value = %q, want %q", l.Name, got, want[i])
		}
		if got := string(l.AppendValue([]byte("x"), &q)); got != "x"+want[i] {
			t.Errorf("%s: AppendValue = %q, want %q", l.Name, got, "x"+want[i])
		}
		if !l.Is(&q, want[i]) || l.Is(&q, want[i]+"0") {
			t.Errorf("%s: Is disagrees with Value", l.Name)
		}
		var set Quote
		if l.SetValue(&set, want[i]); l.Value(&set) != want[i] {
			t.Errorf("%s: SetValue(%q) gives %q", l.Name, want[i], l.Value(&set))
		}
	}
	if got := q.LabelsOnly(); got != q {
		t.Errorf("LabelsOnly lost labels: %+v", got)
	}
	priced := q
	priced.USDPerHour, priced.Offers, priced.Stock = 3, 2, StockHigh
	if got := priced.LabelsOnly(); got != q {
		t.Errorf("LabelsOnly kept non-label fields: %+v", got)
	}
}

func TestCompareLabels(t *testing.T) {
	a := Quote{Provider: "aws", GPUMemoryGB: 141}
	b := Quote{Provider: "aws", GPUMemoryGB: 80}
	if CompareLabels(&a, &b) >= 0 {
		t.Error("CompareLabels compares numbers as label values: want 141 before 80")
	}
	if CompareQuotes(&Quote{GPUCount: 16}, &Quote{GPUCount: 8}) <= 0 {
		t.Error("CompareQuotes compares gpu_count as a number: want 8 before 16")
	}
	b.GPUMemoryGB, b.GPURaw = 141, "x"
	if CompareLabels(&a, &b) >= 0 {
		t.Error("CompareLabels: want gpu_raw as the last tie-break")
	}
}

func TestLabelNamed(t *testing.T) {
	for i := range Labels {
		l := &Labels[i]
		if LabelNamed(l.Name) != l {
			t.Errorf("LabelNamed(%q) is not Labels[%d]", l.Name, i)
		}
		if l.Head == "" || l.Head != strings.ToUpper(l.Head) {
			t.Errorf("%s: Head %q, want an upper-case heading", l.Name, l.Head)
		}
		if l.Title == "" {
			t.Errorf("%s: no Title", l.Name)
		}
	}
	if LabelNamed("usd_per_hour") != nil {
		t.Error("LabelNamed finds a price field")
	}
}

// TestMarketJSON: a Market's JSON has every field under its tag, and an
// unknown (NaN) statistic as null.
func TestMarketJSON(t *testing.T) {
	m := Market{Provider: "akash", Region: "global", GPUModel: "H100", P10: math.NaN(), P50: 1.58, P90: math.NaN(),
		Offers: 0, AvailableGPUs: math.NaN()}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeFor[Market]()
	for i := range typ.NumField() {
		tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if _, ok := got[tag]; !ok {
			t.Errorf("no %s in %s", tag, b)
		}
	}
	if len(got) != typ.NumField() {
		t.Errorf("%d keys in %s, Market has %d fields", len(got), b, typ.NumField())
	}
	if got["p10_gpu_usd_per_hour"] != nil || got["available_gpus"] != nil || got["p50_gpu_usd_per_hour"] != 1.58 {
		t.Errorf("statistics in %s: want null for NaN", b)
	}
}
