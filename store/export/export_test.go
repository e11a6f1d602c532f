package export

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// t0 is 2025-06-01T12:00:00Z, unix 1748779200: a multiple of every
// resolution the tests use.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const m = time.Minute

// sixth is a GPU count of 1/6, as float64 arithmetic has it; the store
// keeps it as its label value, 0.1667.
var sixth = 1.0 / 6

// a10GPU is the per-GPU price of the A10 as the store gives it back,
// divided at run time as the export divides it.
var a10Count = 0.1667
var a10GPU = strconv.FormatFloat(0.454/a10Count, 'f', -1, 64)

func awsH100() price.Quote {
	return price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: "us-east-1a", Geo: "na",
		PricingModel: price.Spot, GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8}
}

func azureA10() price.Quote {
	return price.Quote{Provider: "azure", InstanceType: "Standard_NV6ads_A10_v5", Region: "westeurope", Geo: "eu",
		PricingModel: price.OnDemand, GPUModel: "A10", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: sixth,
		GPURaw: `A10 "v5", 1/6`, USDPerHour: 0.454}
}

func priced(q price.Quote, usd float64) price.Quote {
	q.USDPerHour = usd
	return q
}

// fixtureStore holds, per GPU-hour:
//
//	aws H100 spot: 5 (backfilled) from -3m, 6 from 0, withdrawn at +2m,
//	  5.5 from +3m; aws is refreshed every minute from 0 to +3m, so its
//	  staleness is 3m and the price is unknown from +6m on.
//	azure A10 (1/6 GPU) at 0.454 per instance from 0; one refresh: its
//	  staleness is the default 3h.
func fixtureStore(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	bf := priced(awsH100(), 40)
	bf.EffectiveAt = t0.Add(-3 * m)
	if _, err := s.Backfill(t.Context(), []price.Quote{bf}); err != nil {
		t.Fatal(err)
	}
	record := func(provider string, d time.Duration, quotes ...price.Quote) {
		end := t0.Add(d)
		_, err := s.Record(t.Context(), store.Poll{Provider: provider, Start: end.Add(-time.Second), Duration: time.Second, OK: true, Quotes: len(quotes)},
			&price.Snapshot{Provider: provider, Time: end, Quotes: quotes})
		if err != nil {
			t.Fatal(err)
		}
	}
	record("aws", 0, priced(awsH100(), 48))
	record("azure", 0, azureA10())
	record("aws", m, priced(awsH100(), 48))
	record("aws", 2*m)
	record("aws", 3*m, priced(awsH100(), 44))
	return s
}

// TestCSVCurrency: a series priced in EUR has its currency among the label
// columns and each point's EUR amount in the last column.
func TestCSVCurrency(t *testing.T) {
	s, err := sqlite.Open(t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := price.Quote{Provider: "scaleway", InstanceType: "H100-1-80G", Region: "fr-par-2", Geo: "eu", PricingModel: price.OnDemand,
		GPUModel: "H100", GPUForm: "pcie", GPUMemoryGB: 80, GPUCount: 1, GPURaw: "H100-1-80G", USDPerHour: 3.18, Currency: "EUR", CurrencyPerHour: 2.73}
	_, err = s.Record(t.Context(), store.Poll{Provider: "scaleway", Start: t0.Add(-time.Second), Duration: time.Second, OK: true, Quotes: 1},
		&price.Snapshot{Provider: "scaleway", Time: t0, Quotes: []price.Quote{q}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := export(t, s, Request{})
	want := strings.Join(Header, ",") + "\n" +
		"scaleway,H100-1-80G,fr-par-2,,eu,on_demand,H100,pcie,80,1,H100-1-80G,EUR,2025-06-01T12:00:00Z,3.18,3.18,false,2.73\n"
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

func export(t *testing.T, s store.Reader, req Request) (string, Result) {
	t.Helper()
	var b bytes.Buffer
	res, err := Write(t.Context(), s, &b, req)
	if err != nil {
		t.Fatalf("Write(%+v): %v", req, err)
	}
	return b.String(), res
}

func TestCSV(t *testing.T) {
	s := fixtureStore(t)
	aws := "aws,p5.48xlarge,us-east-1,us-east-1a,na,spot,H100,sxm,80,8,,,"
	azure := `azure,Standard_NV6ads_A10_v5,westeurope,,eu,on_demand,A10,pcie,24,0.1667,"A10 ""v5"", 1/6",,`
	tests := []struct {
		name string
		req  Request
		want []string
		res  Result
	}{
		{"everything", Request{}, []string{
			aws + "2025-06-01T11:57:00Z,40,5,false,",
			aws + "2025-06-01T12:00:00Z,48,6,false,",
			aws + "2025-06-01T12:02:00Z,,,true,",
			aws + "2025-06-01T12:03:00Z,44,5.5,false,",
			azure + "2025-06-01T12:00:00Z,0.454," + a10GPU + ",false,",
		}, Result{Series: 2, Points: 5, Samples: 5}},
		{"a range starts with the point in effect", Request{Query: store.Query{Start: t0.Add(m), End: t0.Add(2 * m)}}, []string{
			aws + "2025-06-01T12:00:00Z,48,6,false,",
			aws + "2025-06-01T12:02:00Z,,,true,",
			azure + "2025-06-01T12:00:00Z,0.454," + a10GPU + ",false,",
		}, Result{Series: 2, Points: 3, Samples: 3}},
		{"filters", Request{Query: store.Query{Provider: "azure"}}, []string{
			azure + "2025-06-01T12:00:00Z,0.454," + a10GPU + ",false,",
		}, Result{Series: 1, Points: 1, Samples: 1}},
		{"match", Request{Match: func(q *price.Quote) bool { return q.GPUModel == "H100" }, Query: store.Query{End: t0}}, []string{
			aws + "2025-06-01T11:57:00Z,40,5,false,",
			aws + "2025-06-01T12:00:00Z,48,6,false,",
		}, Result{Series: 1, Points: 2, Samples: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, res := export(t, s, tt.req)
			want := strings.Join(Header, ",") + "\n" + strings.Join(tt.want, "\n") + "\n"
			if got != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
			if res != tt.res {
				t.Errorf("Result %+v, want %+v", res, tt.res)
			}
			// encoding/csv reads it back, every row as wide as the header.
			if _, err := csv.NewReader(strings.NewReader(got)).ReadAll(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestParquet(t *testing.T) {
	s := fixtureStore(t)
	out, res := export(t, s, Request{Format: Parquet})
	if res != (Result{Series: 2, Points: 5, Samples: 5}) {
		t.Errorf("Result %+v", res)
	}
	rows, err := parquet.Read[parquetRow](bytes.NewReader([]byte(out)), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	// Rendered as the CSV export renders them.
	var got []string
	for _, r := range rows {
		f := func(p *float64) string {
			if p == nil {
				return ""
			}
			return strconv.FormatFloat(*p, 'f', -1, 64)
		}
		got = append(got, fmt.Sprintf("%s,%s,%s,%s,%s,%s,%s,%s,%g,%g,%q,%s,%s,%s,%t", r.Provider, r.InstanceType, r.Region, r.Zone,
			r.Geo, r.PricingModel, r.GPUModel, r.GPUForm, r.GPUMemoryGB, r.GPUCount, r.GPURaw,
			time.UnixMilli(r.Time).UTC().Format(time.RFC3339), f(r.USDPerHour), f(r.GPUUSDPerHour), r.Withdrawn))
	}
	aws := `aws,p5.48xlarge,us-east-1,us-east-1a,na,spot,H100,sxm,80,8,"",`
	want := []string{
		aws + "2025-06-01T11:57:00Z,40,5,false",
		aws + "2025-06-01T12:00:00Z,48,6,false",
		aws + "2025-06-01T12:02:00Z,,,true",
		aws + "2025-06-01T12:03:00Z,44,5.5,false",
		`azure,Standard_NV6ads_A10_v5,westeurope,,eu,on_demand,A10,pcie,24,0.1667,"A10 \"v5\", 1/6",2025-06-01T12:00:00Z,0.454,` + a10GPU + ",false",
	}
	if !slices.Equal(got, want) {
		t.Errorf("\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}

	// The schema, as a Parquet reader sees it.
	f, err := parquet.OpenFile(bytes.NewReader([]byte(out)), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range f.Schema().Fields() {
		cols = append(cols, c.Name())
	}
	if !reflect.DeepEqual(cols, Header) {
		t.Errorf("columns %v, want %v", cols, Header)
	}
	if lt, ok := f.Schema().Lookup("time"); !ok || !strings.Contains(fmt.Sprint(lt.Node.Type().LogicalType()), "TIMESTAMP") {
		t.Errorf("time column type %v", lt.Node.Type().LogicalType())
	}
}

// openMetricsFixture is the OpenMetrics export of fixtureStore up to +10m
// at a 2-minute resolution.
func openMetricsFixture(t *testing.T) (string, Result) {
	s := fixtureStore(t)
	return export(t, s, Request{Format: OpenMetrics, Resolution: 2 * m, Query: store.Query{End: t0.Add(10 * m)}})
}

func TestOpenMetrics(t *testing.T) {
	got, res := openMetricsFixture(t)
	// Unix seconds: t0 is 1748779200. aws: 5 at -3m and at the grid
	// time -2m; 6 at 0 (withdrawn at +2m, before the next grid time);
	// 5.5 at +3m and +4m, unknown from +6m. azure: from 0 to the end
	// (+10m) every 2 minutes.
	aws := `{provider="aws",instance_type="p5.48xlarge",region="us-east-1",zone="us-east-1a",geo="na",pricing_model="spot",gpu_model="H100",gpu_form="sxm",gpu_memory_gb="80",gpu_count="8"} `
	azure := `{provider="azure",instance_type="Standard_NV6ads_A10_v5",region="westeurope",geo="eu",pricing_model="on_demand",gpu_model="A10",gpu_form="pcie",gpu_memory_gb="24",gpu_count="0.1667"} `
	var want strings.Builder
	want.WriteString("# HELP gpuprice_gpu_usd_per_hour " + families[0].help + "\n# TYPE gpuprice_gpu_usd_per_hour gauge\n")
	for _, l := range []string{"5 1748779020", "5 1748779080", "6 1748779200", "5.5 1748779380", "5.5 1748779440"} {
		want.WriteString("gpuprice_gpu_usd_per_hour" + aws + l + "\n")
	}
	for ts := 1748779200; ts <= 1748779800; ts += 120 {
		fmt.Fprintf(&want, "gpuprice_gpu_usd_per_hour%s%s %d\n", azure, a10GPU, ts)
	}
	want.WriteString("# HELP gpuprice_instance_usd_per_hour " + families[1].help + "\n# TYPE gpuprice_instance_usd_per_hour gauge\n")
	for _, l := range []string{"40 1748779020", "40 1748779080", "48 1748779200", "44 1748779380", "44 1748779440"} {
		want.WriteString("gpuprice_instance_usd_per_hour" + aws + l + "\n")
	}
	for ts := 1748779200; ts <= 1748779800; ts += 120 {
		fmt.Fprintf(&want, "gpuprice_instance_usd_per_hour%s0.454 %d\n", azure, ts)
	}
	want.WriteString("# EOF\n")
	if got != want.String() {
		t.Errorf("\n got %s\nwant %s", got, want.String())
	}
	if res != (Result{Series: 4, Points: 5, Samples: 22}) {
		t.Errorf("Result %+v", res)
	}
}

func TestOpenMetricsDetails(t *testing.T) {
	t.Run("fractional seconds and escaping", func(t *testing.T) {
		b := appendSeries(nil, "m", &price.Quote{Provider: `a"b\c` + "\nd", GPUCount: 2})
		b = appendSample(b, 1.25, 1748779200123)
		if want := `m{provider="a\"b\\c\nd",gpu_count="2"} 1.25 1748779200.123` + "\n"; string(b) != want {
			t.Errorf("got %s\nwant %s", b, want)
		}
	})
	t.Run("resolution bounds", func(t *testing.T) {
		s := fixtureStore(t)
		for _, r := range []time.Duration{500 * time.Millisecond, 5 * m, time.Hour} {
			_, err := Write(t.Context(), s, &bytes.Buffer{}, Request{Format: OpenMetrics, Resolution: r})
			if err == nil || !strings.Contains(err.Error(), "5m lookback") {
				t.Errorf("resolution %v: %v", r, err)
			}
		}
	})
	t.Run("no history", func(t *testing.T) {
		s := fixtureStore(t)
		got, _ := export(t, s, Request{Format: OpenMetrics, Query: store.Query{Provider: "gcp"}})
		want := "# HELP gpuprice_gpu_usd_per_hour " + families[0].help + "\n# TYPE gpuprice_gpu_usd_per_hour gauge\n" +
			"# HELP gpuprice_instance_usd_per_hour " + families[1].help + "\n# TYPE gpuprice_instance_usd_per_hour gauge\n# EOF\n"
		if got != want {
			t.Errorf("got %s", got)
		}
	})
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); got != f || err != nil {
			t.Errorf("ParseFormat(%s) = %s, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("json"); err == nil || err.Error() != `"json" is not one of csv, parquet, openmetrics` {
		t.Errorf("ParseFormat(json): %v", err)
	}
}

// TestPromtoolBackfill feeds the OpenMetrics export to Prometheus' own
// backfill, `promtool tsdb create-blocks-from openmetrics` (Debian package
// prometheus), and reads the samples back with `promtool tsdb dump`.
func TestPromtoolBackfill(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("GPUPRICE_REQUIRE_INTEGRATION") == "1" {
			t.Fatal("promtool not found (apt-get install prometheus)")
		}
		t.Skip("promtool not found (apt-get install prometheus); GPUPRICE_REQUIRE_INTEGRATION=1 makes this fatal")
	}
	text, res := openMetricsFixture(t)
	dir := t.TempDir()
	file, blocks := filepath.Join(dir, "export.om.txt"), filepath.Join(dir, "data")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", file, blocks).CombinedOutput()
	if err != nil {
		t.Fatalf("create-blocks-from openmetrics: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(blocks)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no blocks in %s (%v): %s", blocks, err, out)
	}
	// dump opens the directory as a TSDB, which needs a WAL directory.
	if err := os.Mkdir(filepath.Join(blocks, "wal"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(promtool, "tsdb", "dump", blocks).CombinedOutput()
	if err != nil {
		t.Fatalf("tsdb dump: %v\n%s", err, out)
	}
	// One dump line per sample: {labels} value timestamp_ms.
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(l, "{") {
			lines = append(lines, l)
		}
	}
	if len(lines) != res.Samples {
		t.Fatalf("dump has %d samples, the export %d:\n%s", len(lines), res.Samples, out)
	}
	for _, want := range []string{
		`__name__="gpuprice_gpu_usd_per_hour"`, `__name__="gpuprice_instance_usd_per_hour"`,
		`gpu_model="H100"`, `} 5.5 1748779380000`, `} 44 1748779440000`, `} 0.454 1748779800000`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dump lacks %s:\n%s", want, out)
		}
	}
	// Prometheus drops empty labels: the export leaves them out.
	if strings.Contains(string(out), `zone=""`) {
		t.Errorf("dump has an empty zone label:\n%s", out)
	}
}

// TestParquetLabels checks that labelRow fills the label columns, which
// are price.Labels in order, from their labels.
func TestParquetLabels(t *testing.T) {
	var q price.Quote
	for i := range price.Labels {
		switch p := price.Labels[i].Field(&q).(type) {
		case *string:
			*p = price.Labels[i].Name + " value"
		case *float64:
			*p = float64(i) + 0.25
		}
	}
	row := reflect.ValueOf(labelRow(&q))
	for i := range price.Labels {
		l, col := &price.Labels[i], row.Field(i)
		if col.Kind() == reflect.Float64 && col.Float() != l.Number(&q) || col.Kind() == reflect.String && col.String() != l.Value(&q) {
			t.Errorf("column %d (%s) = %v, want label %s", i, row.Type().Field(i).Name, col, l.Name)
		}
	}
}
