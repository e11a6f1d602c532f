package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// sixth is the Azure NV6ads_A10_v5's GPU count. It is a variable so that
// expected prices are computed in float64 as the API does, not exactly as
// constant expressions would be.
var sixth = 1.0 / 6

// t0 is when the fixture's snapshots were taken.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// fixtureStates are five providers as the Runner would publish them: aws,
// azure and vastai serving prices, lambda not yet refreshed, runpod stale.
// Per-GPU prices, cheapest first: V3 0.2, V4 0.25, V1 0.35, A3 1.006,
// A4 1.5, V2 2, Z1 2.724, Z2 3.5, A2 5, A1 12.29.
func fixtureStates() []*collectors.State {
	aws := &price.Snapshot{Provider: "aws", Time: t0, Quotes: []price.Quote{
		// A1
		{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Geo: "na", PricingModel: price.OnDemand,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 98.32, ObservedAt: t0},
		// A2
		{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: "us-east-1a", Geo: "na", PricingModel: price.Spot,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 40, ObservedAt: t0, EffectiveAt: t0.Add(-30 * time.Minute)},
		// A3
		{Provider: "aws", InstanceType: "g5.xlarge", Region: "eu-west-1", Geo: "eu", PricingModel: price.OnDemand,
			GPUModel: "A10G", GPUMemoryGB: 24, GPUCount: 1, USDPerHour: 1.006, ObservedAt: t0},
		// A4
		{Provider: "aws", InstanceType: "p4d.24xlarge", Region: "us-west-2", Zone: "us-west-2b", Geo: "na", PricingModel: price.Spot,
			GPUModel: "A100", GPUForm: "sxm", GPUMemoryGB: 40, GPUCount: 8, USDPerHour: 12, ObservedAt: t0},
	}}
	azure := &price.Snapshot{Provider: "azure", Time: t0, Quotes: []price.Quote{
		// Z1
		{Provider: "azure", InstanceType: "Standard_NV6ads_A10_v5", Region: "westeurope", Geo: "eu", PricingModel: price.OnDemand,
			GPUModel: "A10", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: sixth, VCPUs: 6, MemoryGB: 55, USDPerHour: 0.454, ObservedAt: t0},
		// Z2
		{Provider: "azure", InstanceType: "Standard_ND96isr_H100_v5", Region: "eastus", Geo: "na", PricingModel: price.Spot,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 28, ObservedAt: t0},
	}}
	vast := &price.Snapshot{Provider: "vastai", Time: t0, Quotes: []price.Quote{
		// V1
		{Provider: "vastai", InstanceType: "1x_RTX4090", Region: "us", Geo: "na", PricingModel: price.OnDemand,
			GPUModel: "RTX4090", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: 1, VCPUs: 8.5, MemoryGB: 31.3, USDPerHour: 0.35, ObservedAt: t0,
			Offers: 12, AvailableGPUs: 30, P10: 0.3, P50: 0.4, P90: 0.6},
		// V2
		{Provider: "vastai", InstanceType: "8x_H100", Region: "se", Geo: "eu", PricingModel: price.Spot,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 16, ObservedAt: t0,
			Offers: 3, AvailableGPUs: 24, P10: 2, P50: 2.2, P90: 2.5},
		// V3
		{Provider: "vastai", InstanceType: "1x_Tesla_Z9", Region: "us", Geo: "na", PricingModel: price.OnDemand,
			GPUModel: price.Unknown, GPURaw: "Tesla Z9", GPUCount: 1, USDPerHour: 0.2, ObservedAt: t0, Offers: 1, AvailableGPUs: 1},
		// V4
		{Provider: "vastai", InstanceType: "1x_Tesla_Z8", Region: "us", Geo: "na", PricingModel: price.OnDemand,
			GPUModel: price.Unknown, GPURaw: "Tesla Z8", GPUCount: 1, USDPerHour: 0.25, ObservedAt: t0, Offers: 1, AvailableGPUs: 1},
	}, Offers: []price.Offer{
		// Offers as the Runner publishes them: stamped like quotes.
		{ID: "1002", Location: "Oregon, US", Quote: price.Quote{Provider: "vastai", InstanceType: "1x_RTX4090", Region: "us", Geo: "na", ObservedAt: t0, PricingModel: price.OnDemand,
			GPUModel: "RTX4090", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: 1, USDPerHour: 0.41}},
		{ID: "1001", Location: "Texas, US", Quote: price.Quote{Provider: "vastai", InstanceType: "1x_RTX4090", Region: "us", Geo: "na", ObservedAt: t0, PricingModel: price.OnDemand,
			GPUModel: "RTX4090", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: 1, USDPerHour: 0.35}},
		{ID: "2001", Location: "Stockholm, SE", Quote: price.Quote{Provider: "vastai", InstanceType: "8x_H100", Region: "se", Geo: "eu", ObservedAt: t0, PricingModel: price.Spot,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 16}},
		// A broken offer (the Runner rejects these; the API must cope):
		// no GPU count, so no per-GPU price.
		{ID: "3001", Location: "Ohio, US", Quote: price.Quote{Provider: "vastai", InstanceType: "1x_RTX4090", Region: "us", Geo: "na", ObservedAt: t0, PricingModel: price.OnDemand,
			GPUModel: "RTX4090", GPUForm: "pcie", GPUMemoryGB: 24, USDPerHour: 0.5}},
	}}
	return []*collectors.State{
		{Provider: "aws", Interval: 10 * time.Minute, Snapshot: aws, Success: true,
			LastAttempt: t0.Add(-5 * time.Second), LastSuccess: t0, LastDuration: 5 * time.Second,
			Errors: map[string]uint64{"http_5xx": 1}, Attempts: 3},
		{Provider: "azure", Interval: time.Hour, Snapshot: azure, Success: true,
			LastAttempt: t0.Add(-2 * time.Second), LastSuccess: t0, LastDuration: 2 * time.Second,
			Errors: map[string]uint64{}, Attempts: 1},
		{Provider: "lambda", Interval: 5 * time.Minute, Errors: map[string]uint64{}},
		{Provider: "runpod", Interval: 5 * time.Minute, Stale: true,
			LastAttempt: t0.Add(-10 * time.Second), LastSuccess: t0.Add(-2 * time.Hour), LastDuration: 1500 * time.Millisecond,
			LastError: "runpod: 503 Service Unavailable", Errors: map[string]uint64{"http_5xx": 4, "timeout": 2}, Attempts: 30},
		{Provider: "vastai", Interval: 2 * time.Minute, Snapshot: vast, Success: true,
			LastAttempt: t0.Add(-time.Second), LastSuccess: t0, LastDuration: 800 * time.Millisecond,
			Errors: map[string]uint64{}, UnknownGPUs: 2, UnknownGPUNames: []string{"CMP 170HX", "RTX 9090"}, Attempts: 7,
			Degraded: "3 quotes, the last good refresh had 8 (below 50%): the last good quotes are kept (suspect refresh 1 of 3)"},
	}
}

// memStore is an in-memory store.Store serving History from fixed series;
// it records the queries it gets. Writes are not supported.
type memStore struct {
	series []store.Series
	err    error

	mu      sync.Mutex
	queries []store.Query
}

var errReadOnly = errors.New("memStore is read-only")

func (m *memStore) Record(context.Context, store.Poll, *price.Snapshot) (store.Result, error) {
	return store.Result{}, errReadOnly
}
func (m *memStore) Backfill(context.Context, []price.Quote) (store.Result, error) {
	return store.Result{}, errReadOnly
}
func (m *memStore) LastKnown(context.Context) ([]*price.Snapshot, error) { return nil, nil }
func (m *memStore) LastPoints(context.Context, string) (map[price.SeriesKey]time.Time, error) {
	return nil, nil
}
func (m *memStore) Polls(context.Context, string, time.Time, time.Time) ([]store.Poll, error) {
	return nil, nil
}
func (m *memStore) DeleteBefore(context.Context, time.Time) (int64, error) { return 0, errReadOnly }
func (m *memStore) Close() error                                           { return nil }

// History follows the store contract: series matching q by label
// equality, with the point in effect at q.Start and the points in
// (q.Start, q.End]; a zero bound is open.
func (m *memStore) History(_ context.Context, q store.Query) ([]store.Series, error) {
	m.mu.Lock()
	m.queries = append(m.queries, q)
	m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	var out []store.Series
	for _, s := range m.series {
		l := s.Labels
		if !eq(q.Provider, l.Provider) || !eq(q.InstanceType, l.InstanceType) || !eq(q.Region, l.Region) ||
			!eq(q.Zone, l.Zone) || !eq(q.Geo, l.Geo) || !eq(q.PricingModel, l.PricingModel) ||
			!eq(q.GPUModel, l.GPUModel) || !eq(q.GPUForm, l.GPUForm) ||
			!eq(q.GPUMemoryGB, l.GPUMemoryGB) || !eq(q.GPUCount, l.GPUCount) {
			continue
		}
		var pts []store.Point
		for _, p := range s.Points {
			switch {
			case !q.End.IsZero() && p.Time.After(q.End):
			case !q.Start.IsZero() && !p.Time.After(q.Start):
				pts = append(pts[:0], p) // the latest so far is in effect at start
			default:
				pts = append(pts, p)
			}
		}
		if len(pts) > 0 {
			out = append(out, store.Series{Labels: l, Points: pts})
		}
	}
	return out, nil
}

// HistoryEach streams what History returns.
func (m *memStore) HistoryEach(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	series, err := m.History(ctx, q)
	if err != nil {
		return err
	}
	for _, s := range series {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) lastQuery() store.Query {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.queries[len(m.queries)-1]
}

// eq is label equality where the zero query value matches anything.
func eq[T comparable](query, label T) bool {
	var zero T
	return query == zero || query == label
}

func at(d time.Duration, usd float64) store.Point {
	return store.Point{Time: t0.Add(d), USDPerHour: usd}
}
func withdrawn(d time.Duration) store.Point { return store.Point{Time: t0.Add(d), Withdrawn: true} }

// fixtureSeries is the history the fake store holds. Queries in the tests
// mostly run from t0 to t0+6h.
func fixtureSeries() []store.Series {
	h := time.Hour
	return []store.Series{
		{ // S1: H100 spot, changes, is withdrawn at +3h and back at +5h.
			Labels: price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: "us-east-1a", Geo: "na",
				PricingModel: price.Spot, GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8},
			Points: []store.Point{at(-5*h, 39), at(-2*h, 40), at(1*h, 48), withdrawn(3 * h), at(5*h, 44), at(7*h, 50)},
		},
		{ // S2: H100 spot, constant since before t0.
			Labels: price.Quote{Provider: "azure", InstanceType: "Standard_ND96isr_H100_v5", Region: "eastus", Geo: "na",
				PricingModel: price.Spot, GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8},
			Points: []store.Point{at(-1*h, 48)},
		},
		{ // S3: A10G, constant from exactly t0.
			Labels: price.Quote{Provider: "aws", InstanceType: "g5.xlarge", Region: "eu-west-1", Geo: "eu",
				PricingModel: price.OnDemand, GPUModel: "A10G", GPUMemoryGB: 24, GPUCount: 1},
			Points: []store.Point{at(0, 1)},
		},
		{ // S4: H100 spot, appears at +2h.
			Labels: price.Quote{Provider: "vastai", InstanceType: "8x_H100", Region: "se", Geo: "eu",
				PricingModel: price.Spot, GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8},
			Points: []store.Point{at(2*h, 16)},
		},
		{ // S5: A10 at 1/6 GPU, withdrawn at +4h for good.
			Labels: price.Quote{Provider: "azure", InstanceType: "Standard_NV6ads_A10_v5", Region: "westeurope", Geo: "eu",
				PricingModel: price.OnDemand, GPUModel: "A10", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: sixth},
			Points: []store.Point{at(-72*h, 0.454), withdrawn(4 * h)},
		},
		{ // S6: A100 spot, withdrawn long before t0.
			Labels: price.Quote{Provider: "aws", InstanceType: "p4d.24xlarge", Region: "us-west-2", Zone: "us-west-2b", Geo: "na",
				PricingModel: price.Spot, GPUModel: "A100", GPUForm: "sxm", GPUMemoryGB: 40, GPUCount: 8},
			Points: []store.Point{at(-240*h, 12), withdrawn(-216 * h)},
		},
	}
}

// testServer is an API over the fixture, its mux and its fake store.
type testServer struct {
	api     *API
	mux     *http.ServeMux
	store   *memStore
	reloads int
}

// newTestServer returns an API over the fixture states and store; edit
// adjusts the options first.
func newTestServer(t testing.TB, edit func(*Options)) *testServer {
	t.Helper()
	ts := &testServer{store: &memStore{series: fixtureSeries()}}
	opts := Options{
		States:  fixtureStates,
		Store:   ts.store,
		Version: "1.2.3-test",
		Reload:  func() error { ts.reloads++; return nil },
	}
	if edit != nil {
		edit(&opts)
	}
	ts.api = New(opts)
	ts.api.now = func() time.Time { return t0.Add(6 * time.Hour) }
	ts.mux = http.NewServeMux()
	ts.api.Register(ts.mux)
	return ts
}

// do serves one request; header is "Name: value" pairs.
func (ts *testServer) do(method, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for _, h := range header {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	ts.mux.ServeHTTP(rec, req)
	return rec
}

// getJSON serves a GET that must answer 200 JSON and decodes its data.
func (ts *testServer) getJSON(t *testing.T, target string, data any) {
	t.Helper()
	rec := ts.do(http.MethodGet, target)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", target, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("GET %s: Content-Type %q", target, ct)
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("GET %s: %v in %s", target, err, rec.Body)
	}
	if err := json.Unmarshal(env.Data, data); err != nil {
		t.Fatalf("GET %s: data: %v in %s", target, err, env.Data)
	}
}

// getList serves a GET answering a JSON list of objects.
func (ts *testServer) getList(t *testing.T, target string) []map[string]any {
	t.Helper()
	var out []map[string]any
	ts.getJSON(t, target, &out)
	if out == nil {
		t.Fatalf("GET %s: data is null, want a list", target)
	}
	return out
}

// getCSV serves a GET that must answer 200 CSV and parses it; every row
// must have as many fields as the header.
func (ts *testServer) getCSV(t *testing.T, target string, header ...string) [][]string {
	t.Helper()
	rec := ts.do(http.MethodGet, target, header...)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", target, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("GET %s: Content-Type %q", target, ct)
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	if len(rows) == 0 {
		t.Fatalf("GET %s: no header row", target)
	}
	return rows
}

// column returns the values of the named column, header excluded.
func column(t *testing.T, rows [][]string, name string) []string {
	t.Helper()
	i := slices.Index(rows[0], name)
	if i < 0 {
		t.Fatalf("no column %q in %v", name, rows[0])
	}
	out := []string{}
	for _, r := range rows[1:] {
		out = append(out, r[i])
	}
	return out
}

// ids names quotes "provider/instance_type/pricing_model".
func ids(list []map[string]any) []string {
	out := []string{}
	for _, m := range list {
		out = append(out, m["provider"].(string)+"/"+m["instance_type"].(string)+"/"+m["pricing_model"].(string))
	}
	return out
}

// csvIDs names the quotes of a CSV answer like ids.
func csvIDs(t *testing.T, rows [][]string) []string {
	t.Helper()
	p, it, pm := column(t, rows, "provider"), column(t, rows, "instance_type"), column(t, rows, "pricing_model")
	out := []string{}
	for i := range p {
		out = append(out, p[i]+"/"+it[i]+"/"+pm[i])
	}
	return out
}

// The fixture's quotes by name.
const (
	A1 = "aws/p5.48xlarge/on_demand"
	A2 = "aws/p5.48xlarge/spot"
	A3 = "aws/g5.xlarge/on_demand"
	A4 = "aws/p4d.24xlarge/spot"
	Z1 = "azure/Standard_NV6ads_A10_v5/on_demand"
	Z2 = "azure/Standard_ND96isr_H100_v5/spot"
	V1 = "vastai/1x_RTX4090/on_demand"
	V2 = "vastai/8x_H100/spot"
	V3 = "vastai/1x_Tesla_Z9/on_demand"
	V4 = "vastai/1x_Tesla_Z8/on_demand"
)
