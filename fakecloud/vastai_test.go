package fakecloud

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// vastFixture has one offer per filter the tests exercise.
const vastFixture = `{"offers": [
  {"id": 1, "gpu_name": "H100 SXM", "num_gpus": 8, "gpu_ram": 81559, "dph_base": 16.0, "dph_total": 16.001, "min_bid": 9.6, "storage_cost": 0.144, "verified": true, "rentable": true, "rented": false, "geolocation": "Texas, US"},
  {"id": 2, "gpu_name": "H100 SXM", "num_gpus": 1, "gpu_ram": 81559, "dph_base": 2.5, "dph_total": 2.501, "min_bid": null, "storage_cost": 0.144, "verified": false, "rentable": true, "rented": false, "geolocation": null},
  {"id": 3, "gpu_name": "RTX 4090", "num_gpus": 2, "gpu_ram": 24564, "dph_base": 0.7, "dph_total": 0.701, "min_bid": 0.4, "storage_cost": 0.144, "verified": true, "rentable": true, "rented": true, "geolocation": "Quebec, CA"},
  {"id": 4, "gpu_name": "RTX 4090", "num_gpus": 1, "gpu_ram": 24564, "dph_base": 0.3, "dph_total": 0.301, "min_bid": 0.15, "storage_cost": 0.144, "verified": true, "rentable": false, "rented": false, "geolocation": "Texas, US"},
  {"id": 5, "gpu_name": "A100 PCIE", "num_gpus": 4, "gpu_ram": 81920, "dph_base": 4.0, "dph_total": 4.001, "min_bid": 2.0, "storage_cost": 0.144, "verified": true, "rentable": true, "rented": false, "geolocation": "Frankfurt, DE"}
]}`

// vastPost sends body to h and returns the status and the answer.
func vastPost(t *testing.T, h http.Handler, path, body string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

type vastAnswer struct {
	Offers []vastOffer `json:"offers"`
}

func vastIDs(t *testing.T, body []byte) []int64 {
	t.Helper()
	var a vastAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer is not an offer list: %v: %.200s", err, body)
	}
	ids := []int64{}
	for _, o := range a.Offers {
		ids = append(ids, o.ID)
	}
	return ids
}

func TestVastAISearch(t *testing.T) {
	tests := []struct {
		name, path, body string
		wantIDs          []int64
	}{
		{name: "no filter: on demand, every offer", body: `{}`, wantIDs: []int64{1, 2, 3, 4, 5}},
		{name: "collector query, on demand", body: `{"rentable":{"eq":true},"rented":{"eq":false},"type":"on-demand","limit":10}`, wantIDs: []int64{1, 2, 5}},
		{name: "bid lists only offers with a min_bid", body: `{"rentable":{"eq":true},"rented":{"eq":false},"type":"bid","limit":10}`, wantIDs: []int64{1, 5}},
		{name: "reserved is served like on demand", body: `{"type":"reserved","rented":{"eq":false}}`, wantIDs: []int64{1, 2, 4, 5}},
		{name: "verified", body: `{"verified":{"eq":true}}`, wantIDs: []int64{1, 3, 4, 5}},
		{name: "bare value means eq", body: `{"verified":false}`, wantIDs: []int64{2}},
		{name: "neq", body: `{"gpu_name":{"neq":"RTX 4090"}}`, wantIDs: []int64{1, 2, 5}},
		{name: "limit", body: `{"limit":2}`, wantIDs: []int64{1, 2}},
		{name: "limit zero", body: `{"limit":0}`, wantIDs: []int64{}},
		{name: "order then limit", body: `{"order":[["dph_total","asc"]],"limit":3}`, wantIDs: []int64{4, 3, 2}},
		{name: "order desc", body: `{"order":[["num_gpus","desc"],["id","asc"]]}`, wantIDs: []int64{1, 5, 3, 2, 4}},
		{name: "order by min_bid puts nulls last", body: `{"order":[["min_bid","asc"]]}`, wantIDs: []int64{4, 3, 5, 1, 2}},
		{name: "score keeps the recorded order", body: `{"order":[["score","desc"]]}`, wantIDs: []int64{1, 2, 3, 4, 5}},
		{name: "in", body: `{"gpu_name":{"in":["H100 SXM","A100 PCIE"]}}`, wantIDs: []int64{1, 2, 5}},
		{name: "notin", body: `{"gpu_name":{"notin":["H100 SXM"]}}`, wantIDs: []int64{3, 4, 5}},
		{name: "range", body: `{"num_gpus":{"gte":2,"lt":8}}`, wantIDs: []int64{3, 5}},
		{name: "lte and gt", body: `{"dph_total":{"lte":4.001,"gt":0.5}}`, wantIDs: []int64{2, 3, 5}},
		{name: "null geolocation", body: `{"geolocation":{"eq":null}}`, wantIDs: []int64{2}},
		{name: "null is not less than anything", body: `{"min_bid":{"lt":100}}`, wantIDs: []int64{1, 3, 4, 5}},
		{name: "no trailing slash", path: "/api/v0/bundles", body: `{"rented":{"eq":true}}`, wantIDs: []int64{3}},
	}
	fake := NewVastAI(VastAIOptions{Data: []byte(vastFixture)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := vastOr(tt.path, "/api/v0/bundles/")
			status, body := vastPost(t, fake, path, tt.body)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			if got := vastIDs(t, body); !reflect.DeepEqual(got, tt.wantIDs) {
				t.Errorf("ids %v, want %v", got, tt.wantIDs)
			}
		})
	}
}

func vastOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func TestVastAIStoragePricing(t *testing.T) {
	fake := NewVastAI(VastAIOptions{Data: []byte(vastFixture)})
	tests := []struct {
		name      string
		body      string
		wantTotal float64
	}{
		// storage_cost 0.144 $/GB/month: 0.001 $/h for 5 GB, 0.02 for 100.
		{"default 5 GB", `{"id":{"eq":1}}`, 16.001},
		{"100 GB", `{"id":{"eq":1},"allocated_storage":100}`, 16.02},
		{"no storage", `{"id":{"eq":1},"allocated_storage":0}`, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := vastPost(t, fake, "/api/v0/bundles/", tt.body)
			var a vastAnswer
			if err := json.Unmarshal(body, &a); status != http.StatusOK || err != nil || len(a.Offers) != 1 {
				t.Fatalf("status %d, err %v: %s", status, err, body)
			}
			o := a.Offers[0]
			if *o.DPHTotal != tt.wantTotal || o.Search.TotalHour != tt.wantTotal || *o.DPHBase != 16 {
				t.Errorf("dph_base %v, dph_total %v, search.totalHour %v; want 16, %v", *o.DPHBase, *o.DPHTotal, o.Search.TotalHour, tt.wantTotal)
			}
		})
	}
}

func TestVastAIErrors(t *testing.T) {
	tests := []struct {
		name, method, path, body, auth string
		opts                           VastAIOptions
		wantStatus                     int
		wantMsg                        string
	}{
		{name: "unknown field", body: `{"colour":{"eq":"red"}}`, wantStatus: 400, wantMsg: `unknown search field \"colour\"`},
		{name: "unknown operator", body: `{"num_gpus":{"approx":8}}`, wantStatus: 400, wantMsg: "unknown operator"},
		{name: "wrong value type", body: `{"verified":{"eq":"yes"}}`, wantStatus: 400, wantMsg: "not a boolean"},
		{name: "list without in", body: `{"num_gpus":{"eq":[1,2]}}`, wantStatus: 400, wantMsg: "a list goes with in and notin"},
		{name: "range on a string", body: `{"gpu_name":{"gt":"A"}}`, wantStatus: 400, wantMsg: "not a number"},
		{name: "bad type", body: `{"type":"spot"}`, wantStatus: 400, wantMsg: "is not on-demand, bid or reserved"},
		{name: "bad limit", body: `{"limit":-1}`, wantStatus: 400, wantMsg: "limit"},
		{name: "bad order", body: `{"order":[["dph_total","up"]]}`, wantStatus: 400, wantMsg: "order"},
		{name: "not JSON", body: `verified=true`, wantStatus: 400, wantMsg: "invalid JSON"},
		{name: "empty body", body: ``, wantStatus: 400, wantMsg: "empty body"},
		{name: "GET", method: http.MethodGet, wantStatus: 405, wantMsg: "use POST"},
		{name: "wrong path", path: "/api/v0/asks/", body: `{}`, wantStatus: 404, wantMsg: "no such endpoint"},
		{name: "key required", opts: VastAIOptions{APIKey: "k"}, body: `{}`, wantStatus: 401, wantMsg: "API key"},
		{name: "wrong key", opts: VastAIOptions{APIKey: "k"}, auth: "Bearer j", body: `{}`, wantStatus: 401, wantMsg: "API key"},
		{name: "right key", opts: VastAIOptions{APIKey: "k"}, auth: "Bearer k", body: `{}`, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Data = []byte(vastFixture)
			fake := NewVastAI(tt.opts)
			req := httptest.NewRequest(vastOr(tt.method, http.MethodPost), vastOr(tt.path, "/api/v0/bundles/"), strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			fake.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus == 200 {
				return
			}
			var env struct {
				Success *bool  `json:"success"`
				Error   string `json:"error"`
				Msg     string `json:"msg"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Success == nil || *env.Success || env.Error == "" {
				t.Errorf("not Vast's error envelope: %s", rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.wantMsg) {
				t.Errorf("body %s does not mention %q", rec.Body, tt.wantMsg)
			}
		})
	}
}

func TestVastAIFaults(t *testing.T) {
	const query = `{"rentable":{"eq":true},"rented":{"eq":false},"type":"on-demand","limit":100}`
	tests := []struct {
		name        string
		opts        VastAIOptions
		fault       Fault
		wantStatus  int
		wantType    string // Content-Type prefix
		wantBody    string // exact, when not empty
		wantOffers  int    // -1: the body must not decode as an offer list
		wantRetryIn string
	}{
		{name: "429 plain text", fault: Fault{Kind: TooManyRequests, RetryAfter: 2 * time.Second}, wantStatus: 429,
			wantType: "text/plain", wantBody: "API requests too frequent", wantOffers: -1, wantRetryIn: "2"},
		{name: "429 JSON", opts: VastAIOptions{JSONErrors: true}, fault: Fault{Kind: TooManyRequests}, wantStatus: 429,
			wantType: "application/json", wantBody: `{"error":"too_many_requests","msg":"API requests too frequent","success":false}`, wantOffers: -1, wantRetryIn: "1"},
		{name: "5xx", opts: VastAIOptions{JSONErrors: true}, fault: Fault{Kind: Status5xx}, wantStatus: 503, wantType: "application/json", wantOffers: -1},
		{name: "truncated", fault: Fault{Kind: Truncate}, wantStatus: 200, wantType: "application/json", wantOffers: -1},
		{name: "empty", fault: Fault{Kind: Empty}, wantStatus: 200, wantType: "application/json", wantBody: `{"offers": []}`, wantOffers: 0},
		{name: "endless pages is answered normally", fault: Fault{Kind: EndlessPages}, wantStatus: 200, wantType: "application/json", wantOffers: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Data = []byte(vastFixture)
			fake := NewVastAI(tt.opts)
			tt.fault.Times = 1
			fake.Faults.Add(tt.fault)
			req := httptest.NewRequest(http.MethodPost, "/api/v0/bundles/", strings.NewReader(query))
			rec := httptest.NewRecorder()
			fake.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus || !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.wantType) {
				t.Fatalf("status %d, Content-Type %q; want %d, %s", rec.Code, rec.Header().Get("Content-Type"), tt.wantStatus, tt.wantType)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body %q, want %q", rec.Body, tt.wantBody)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.wantRetryIn {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetryIn)
			}
			var a vastAnswer
			err := json.Unmarshal(rec.Body.Bytes(), &a)
			switch {
			case tt.wantOffers < 0 && err == nil && a.Offers != nil:
				t.Errorf("body decodes as an offer list: %s", rec.Body)
			case tt.wantOffers >= 0 && (err != nil || len(a.Offers) != tt.wantOffers):
				t.Errorf("got %d offers (err %v), want %d", len(a.Offers), err, tt.wantOffers)
			}
			// The fault is spent: the next answer is normal.
			if status, body := vastPost(t, fake, "/api/v0/bundles/", query); status != 200 || len(vastIDs(t, body)) != 3 {
				t.Errorf("after the fault: status %d, %s", status, body)
			}
		})
	}
}

// TestVastAIWrongTypes checks both broken shapes, served alternately.
func TestVastAIWrongTypes(t *testing.T) {
	fake := NewVastAI(VastAIOptions{Data: []byte(vastFixture)})
	fake.Faults.Add(Fault{Kind: WrongTypes, Times: 2})
	_, first := vastPost(t, fake, "/api/v0/bundles/", `{"id":{"eq":1}}`)
	var strs struct {
		Offers []struct {
			DPHTotal string `json:"dph_total"`
		} `json:"offers"`
	}
	if err := json.Unmarshal(first, &strs); err != nil || len(strs.Offers) != 1 || strs.Offers[0].DPHTotal != "16.001" {
		t.Errorf("first answer should carry dph_total as a string: %v: %s", err, first)
	}
	_, second := vastPost(t, fake, "/api/v0/bundles/", `{"id":{"eq":1}}`)
	var byID struct {
		Offers map[string]vastOffer `json:"offers"`
	}
	if err := json.Unmarshal(second, &byID); err != nil || byID.Offers["1"].ID != 1 {
		t.Errorf("second answer should carry offers as an object: %v: %s", err, second)
	}
}

// TestVastAIHuge reads a few MiB of a Huge answer over a real connection,
// checks it is still a well-formed offer list in progress, and hangs up.
func TestVastAIHuge(t *testing.T) {
	fake := NewVastAI(VastAIOptions{})
	fake.Faults.Add(Fault{Kind: Huge, Times: 1})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/api/v0/bundles/", "application/json", strings.NewReader(`{"limit":10}`))
	if err != nil {
		t.Fatal(err)
	}
	const want = 8 << 20
	dec := json.NewDecoder(io.LimitReader(resp.Body, want))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("first token %v, %v", tok, err)
	}
	if tok, err := dec.Token(); err != nil || tok != "offers" {
		t.Fatalf("second token %v, %v", tok, err)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		t.Fatalf("third token %v, %v", tok, err)
	}
	n := 0
	for dec.More() {
		var o vastOffer
		if err := dec.Decode(&o); err != nil {
			break // the limit cut an offer
		}
		n++
	}
	if dec.InputOffset() < want-4096 || n < 1000 {
		t.Errorf("read %d bytes, %d offers: the answer ended early", dec.InputOffset(), n)
	}
	resp.Body.Close() // hanging up must end the handler, or srv.Close blocks
}

// TestVastAIRecorded checks the recorded offers have the variety the
// collector tests rely on.
func TestVastAIRecorded(t *testing.T) {
	fake := NewVastAI(VastAIOptions{})
	if n := fake.Len(); n < 60 || n > 100 {
		t.Errorf("%d recorded offers, want 60–100", n)
	}
	catalog := price.DefaultCatalog()
	names, unknown, countries := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var nullGeo, nullCores, rented, unrentable, unverified, noBid int
	for _, o := range fake.offers {
		names[o.GPUName] = true
		if _, ok := catalog.Lookup("vastai", o.GPUName); !ok {
			unknown[o.GPUName] = true
		}
		if o.Geolocation == nil {
			nullGeo++
		} else {
			_, cc, _ := strings.Cut(*o.Geolocation, ", ")
			countries[cc] = true
		}
		if o.CPUCores == nil {
			nullCores++
		}
		if o.Rented {
			rented++
		}
		if !o.Rentable {
			unrentable++
		}
		if !o.Verified {
			unverified++
		}
		if o.MinBid == nil {
			noBid++
		}
		if o.GPUTotalRAM != o.GPURAM*float64(o.NumGPUs) {
			t.Errorf("offer %d: gpu_total_ram %v != %d × %v", o.ID, o.GPUTotalRAM, o.NumGPUs, o.GPURAM)
		}
		if want := math.Round((*o.DPHBase+o.StorageCost*5/720)*1e4) / 1e4; *o.DPHTotal != want || o.Search.TotalHour != want {
			t.Errorf("offer %d: dph_total %v, search.totalHour %v; want %v for 5 GB", o.ID, *o.DPHTotal, o.Search.TotalHour, want)
		}
		if o.MinBid != nil && *o.MinBid >= *o.DPHBase {
			t.Errorf("offer %d: min_bid %v not below dph_base %v", o.ID, *o.MinBid, *o.DPHBase)
		}
	}
	for _, n := range []string{"H100 SXM", "H100 PCIE", "H100 NVL", "H200", "A100 SXM4", "A100 PCIE", "RTX 4090",
		"RTX 5090", "RTX 3090", "RTX A6000", "L40S", "Tesla V100", "RTX 6000Ada"} {
		if !names[n] {
			t.Errorf("no %s offer", n)
		}
	}
	if len(unknown) != 0 {
		t.Errorf("GPU names unknown to the catalog %v: the demo's market must map every GPU", unknown)
	}
	if len(countries) < 15 || nullGeo == 0 || nullCores == 0 || rented == 0 || unrentable == 0 || unverified == 0 || noBid == 0 {
		t.Errorf("%d countries, %d null geolocations, %d null cpu_cores, %d rented, %d not rentable, %d unverified, %d without min_bid: want some of each",
			len(countries), nullGeo, nullCores, rented, unrentable, unverified, noBid)
	}
}

func TestVastAISynthesize(t *testing.T) {
	const n = 5000
	a, b := NewVastAI(VastAIOptions{Synthesize: n}), NewVastAI(VastAIOptions{Synthesize: n})
	recorded := NewVastAI(VastAIOptions{})
	if a.Len() != n {
		t.Fatalf("Len() = %d, want %d", a.Len(), n)
	}
	const all = `{"limit": 100000}`
	_, bodyA := vastPost(t, a, "/api/v0/bundles/", all)
	_, bodyB := vastPost(t, b, "/api/v0/bundles/", all)
	if !bytes.Equal(bodyA, bodyB) {
		t.Error("two fakes synthesized different offers")
	}
	ids := vastIDs(t, bodyA)
	if len(ids) != n {
		t.Errorf("%d offers served, want %d", len(ids), n)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != n {
		t.Error("synthesized ids are not unique")
	}
	if !reflect.DeepEqual(a.offers[:recorded.Len()], recorded.offers) {
		t.Error("the recorded offers do not come first")
	}
	places := map[string]bool{}
	for i, o := range a.offers[recorded.Len():] {
		base := recorded.offers[(recorded.Len()+i)%recorded.Len()]
		if r := *o.DPHBase / *base.DPHBase; r < 0.849 || r > 1.151 {
			t.Errorf("offer %d: dph_base %v is %.3f× its model's", o.ID, *o.DPHBase, r)
		}
		if o.Geolocation != nil {
			places[*o.Geolocation] = true
		}
	}
	if len(places) < 20 {
		t.Errorf("synthesized offers use %d places", len(places))
	}
	if small := NewVastAI(VastAIOptions{Synthesize: 10}); small.Len() != 10 {
		t.Errorf("Synthesize 10: Len() = %d", small.Len())
	}
}

func TestVastAIDrift(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fake := NewVastAI(VastAIOptions{Data: []byte(vastFixture), Drift: Drift{Tick: time.Minute, Now: func() time.Time { return now }}})
	prices := func() (base, bid, total float64) {
		_, body := vastPost(t, fake, "/api/v0/bundles/", `{"id":{"eq":1}}`)
		var a vastAnswer
		if err := json.Unmarshal(body, &a); err != nil || len(a.Offers) != 1 {
			t.Fatalf("%v: %s", err, body)
		}
		o := a.Offers[0]
		return *o.DPHBase, *o.MinBid, *o.DPHTotal
	}
	b1, m1, t1 := prices()
	now = now.Add(30 * time.Second)
	if b, m, tot := prices(); b != b1 || m != m1 || tot != t1 {
		t.Errorf("prices moved within a tick: %v %v %v then %v %v %v", b1, m1, t1, b, m, tot)
	}
	now = now.Add(5 * time.Minute)
	b2, m2, t2 := prices()
	if b2 == b1 || m2 == m1 {
		t.Errorf("prices did not move across ticks: dph_base %v → %v, min_bid %v → %v", b1, b2, m1, m2)
	}
	if math.Abs(b2/16-1) > 0.05+1e-9 || math.Abs(m2/9.6-1) > 0.05+1e-9 {
		t.Errorf("drift beyond ±5%%: dph_base %v, min_bid %v", b2, m2)
	}
	if want := math.Round((b2+0.001)*1e4) / 1e4; t2 != want {
		t.Errorf("dph_total %v does not follow dph_base %v (want %v)", t2, b2, want)
	}
}
