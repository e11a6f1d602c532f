package fakecloud

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// runpodFixture holds two types: one in both tiers, one secure only.
const runpodFixture = `{"gpuTypes": [
  {"id": "NVIDIA L4", "displayName": "L4", "manufacturer": "Nvidia", "memoryInGb": 24, "maxGpuCount": 4, "secureCloud": true, "communityCloud": true,
   "securePrice": 0.43, "communityPrice": 0.39, "secureSpotPrice": 0.24, "communitySpotPrice": null,
   "secure": {"stockStatus": "Low", "countryCode": "US", "minimumBidPrice": 0.24, "uninterruptablePrice": 0.43, "availableGpuCounts": [1, 2]},
   "community": {"stockStatus": "High", "countryCode": "NL", "minimumBidPrice": 0.2, "uninterruptablePrice": 0.39, "availableGpuCounts": [1]}},
  {"id": "NVIDIA B200", "displayName": "B200", "manufacturer": "Nvidia", "memoryInGb": 180, "maxGpuCount": 8, "secureCloud": true, "communityCloud": false,
   "securePrice": 5.99, "communityPrice": null, "secureSpotPrice": null, "communitySpotPrice": null,
   "secure": {"stockStatus": null, "countryCode": null}, "community": {"stockStatus": null, "countryCode": null}}
]}`

// runpodPost sends a GraphQL request to h and returns the status and body.
func runpodPost(t *testing.T, h http.Handler, target, query string, vars map[string]any) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(string(body)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestRunpodQueries(t *testing.T) {
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  string
	}{
		{
			name:  "only the selected fields, in order",
			query: `{ gpuTypes { id securePrice } }`,
			want:  `{"data":{"gpuTypes":[{"id":"NVIDIA L4","securePrice":0.43},{"id":"NVIDIA B200","securePrice":5.99}]}}`,
		},
		{
			name:  "aliases, typename, null prices",
			query: `query Q { types: gpuTypes { __typename name: displayName spot: communitySpotPrice } }`,
			want:  `{"data":{"types":[{"__typename":"GpuType","name":"L4","spot":null},{"__typename":"GpuType","name":"B200","spot":null}]}}`,
		},
		{
			name:  "id filter, secure tier from a variable",
			query: `query GpuTypes($in: GpuLowestPriceInput) { gpuTypes(input: {id: "NVIDIA L4"}) { id lowestPrice(input: $in) { stockStatus countryCode minimumBidPrice availableGpuCounts } } }`,
			vars:  map[string]any{"in": map[string]any{"gpuCount": 1, "secureCloud": true}},
			want:  `{"data":{"gpuTypes":[{"id":"NVIDIA L4","lowestPrice":{"stockStatus":"Low","countryCode":"US","minimumBidPrice":0.24,"availableGpuCounts":[1,2]}}]}}`,
		},
		{
			name:  "community tier, inline input",
			query: `{ gpuTypes(input: {id: "NVIDIA L4"}) { lowestPrice(input: {gpuCount: 1, secureCloud: false}) { stockStatus countryCode } } }`,
			want:  `{"data":{"gpuTypes":[{"lowestPrice":{"stockStatus":"High","countryCode":"NL"}}]}}`,
		},
		{
			name:  "no tier: the better stocked one",
			query: `{ gpuTypes(input: {id: "NVIDIA L4"}) { lowestPrice(input: {gpuCount: 1}) { stockStatus } } }`,
			want:  `{"data":{"gpuTypes":[{"lowestPrice":{"stockStatus":"High"}}]}}`,
		},
		{
			name:  "more GPUs than the type has: out of stock",
			query: `{ gpuTypes(input: {id: "NVIDIA L4"}) { lowestPrice(input: {gpuCount: 8, secureCloud: true}) { stockStatus availableGpuCounts } } }`,
			want:  `{"data":{"gpuTypes":[{"lowestPrice":{"stockStatus":null,"availableGpuCounts":[]}}]}}`,
		},
		{
			name:  "default value of a variable",
			query: `query ($in: GpuLowestPriceInput = {secureCloud: false}) { gpuTypes(input: {id: "NVIDIA L4"}) { lowestPrice(input: $in) { countryCode } } }`,
			want:  `{"data":{"gpuTypes":[{"lowestPrice":{"countryCode":"NL"}}]}}`,
		},
		{
			name:  "cluster offers: none",
			query: `{ gpuTypes(input: {cluster: true}) { id } }`,
			want:  `{"data":{"gpuTypes":[]}}`,
		},
		{
			name:  "comments and commas are ignored",
			query: "# types\n{ gpuTypes(input: {id: \"NVIDIA B200\"}) { id, communityCloud, # no community\n secureCloud } }",
			want:  `{"data":{"gpuTypes":[{"id":"NVIDIA B200","communityCloud":false,"secureCloud":true}]}}`,
		},
	}
	fake := NewRunpod(RunpodOptions{Data: []byte(runpodFixture)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := runpodPost(t, fake, "/graphql", tt.query, tt.vars)
			if code != http.StatusOK || body != tt.want {
				t.Errorf("got %d %s\nwant 200 %s", code, body, tt.want)
			}
		})
	}
}

func TestRunpodQueryErrors(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		wantMsg string
	}{
		{"unknown root field", `{ pods { id } }`, `Cannot query field \"pods\" on type \"Query\".`},
		{"unknown type field", `{ gpuTypes { id price } }`, `Cannot query field \"price\" on type \"GpuType\".`},
		{"unknown lowestPrice field", `{ gpuTypes { lowestPrice(input: {gpuCount: 1}) { cheapest } } }`, `Cannot query field \"cheapest\" on type \"LowestPrice\".`},
		{"object without selection", `{ gpuTypes { lowestPrice } }`, `Field \"lowestPrice\" of type \"GpuType\" must have a selection of subfields.`},
		{"selection on a leaf", `{ gpuTypes { id { x } } }`, `Field \"id\" must not have a selection since it has no subfields.`},
		{"unknown input field", `{ gpuTypes(input: {name: "x"}) { id } }`, `Field \"name\" is not defined by type \"GpuTypeFilter\".`},
		{"unknown argument", `{ gpuTypes(filter: {}) { id } }`, `Unknown argument \"filter\" on field \"gpuTypes\".`},
		{"undefined variable", `{ gpuTypes { lowestPrice(input: $x) { stockStatus } } }`, `Variable \"$x\" is not defined.`},
		{"syntax", `{ gpuTypes { id }`, `Syntax Error: Unexpected <EOF>.`},
		{"syntax, punctuator", `{ gpuTypes(input: {id "x"}) { id } }`, `Syntax Error: Expected \":\", found \"x\" (line 1).`},
		{"mutation", `mutation { podTerminate(input: {podId: "x"}) }`, `this fake serves queries only, not mutation`},
		{"fragment", `{ gpuTypes { ...F } } fragment F on GpuType { id }`, `this fake does not serve fragments`},
		{"two operations", `{ gpuTypes { id } } { gpuTypes { id } }`, `this fake serves one operation per document`},
	}
	fake := NewRunpod(RunpodOptions{Data: []byte(runpodFixture)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := runpodPost(t, fake, "/graphql", tt.query, nil)
			if code != http.StatusOK || !strings.HasPrefix(body, `{"errors":[{"message":"`) || !strings.Contains(body, tt.wantMsg) || strings.Contains(body, `"data"`) {
				t.Errorf("got %d %s\nwant 200 with the error %s and no data", code, body, tt.wantMsg)
			}
		})
	}
}

func TestRunpodHTTPErrors(t *testing.T) {
	fake := NewRunpod(RunpodOptions{Data: []byte(runpodFixture), APIKey: "k"})
	tests := []struct {
		name, method, target, body string
		wantCode                   int
		wantIn                     string
	}{
		{"no key", http.MethodPost, "/graphql", `{"query":"{ gpuTypes { id } }"}`, http.StatusUnauthorized, "Unauthorized"},
		{"wrong key", http.MethodPost, "/graphql?api_key=x", `{"query":"{ gpuTypes { id } }"}`, http.StatusUnauthorized, "Unauthorized"},
		{"right key", http.MethodPost, "/graphql?api_key=k", `{"query":"{ gpuTypes { id } }"}`, http.StatusOK, `"NVIDIA B200"`},
		{"not JSON", http.MethodPost, "/graphql?api_key=k", `query { gpuTypes { id } }`, http.StatusBadRequest, "JSON GraphQL request"},
		{"no query", http.MethodPost, "/graphql?api_key=k", `{"variables":{}}`, http.StatusBadRequest, "no query"},
		{"GET", http.MethodGet, "/graphql?api_key=k", ``, http.StatusMethodNotAllowed, "use POST"},
		{"other path", http.MethodPost, "/v1/pods", `{}`, http.StatusNotFound, "no such endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			rec := httptest.NewRecorder()
			fake.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantIn) {
				t.Errorf("got %d %s, want %d with %q", rec.Code, rec.Body, tt.wantCode, tt.wantIn)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func TestRunpodFaults(t *testing.T) {
	const q = `{ gpuTypes(input: {id: "NVIDIA L4"}) { id securePrice lowestPrice(input: {secureCloud: true}) { minimumBidPrice } } }`
	tests := []struct {
		kind     FaultKind
		wantCode int
		want     string
	}{
		{RunpodGraphQLError, 200, `{"errors":[{"message":"Something went wrong. Please try again later or contact support.","path":["gpuTypes"],"extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`},
		{Empty, 200, `{"data":{"gpuTypes":[]}}`},
		{WrongTypes, 200, `{"data":{"gpuTypes":[{"id":"NVIDIA L4","securePrice":"0.43","lowestPrice":{"minimumBidPrice":"0.24"}}]}}`},
		{EndlessPages, 200, `{"data":{"gpuTypes":[{"id":"NVIDIA L4","securePrice":0.43,"lowestPrice":{"minimumBidPrice":0.24}}]}}`},
		{Status5xx, 503, `{"errors":[{"message":"service unavailable (injected fault)"}]}`},
		{TooManyRequests, 429, `{"errors":[{"message":"too many requests (injected fault)"}]}`},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			fake := NewRunpod(RunpodOptions{Data: []byte(runpodFixture)})
			fake.Faults.Add(Fault{Kind: tt.kind, Times: 1})
			code, body := runpodPost(t, fake, "/graphql", q, nil)
			if code != tt.wantCode || body != tt.want {
				t.Errorf("got %d %s\nwant %d %s", code, body, tt.wantCode, tt.want)
			}
			// The fault is spent: the next answer is normal.
			if _, body := runpodPost(t, fake, "/graphql", q, nil); !strings.Contains(body, `"securePrice":0.43`) {
				t.Errorf("after the fault: %s", body)
			}
		})
	}
}

func TestRunpodHuge(t *testing.T) {
	fake := NewRunpod(RunpodOptions{Data: []byte(runpodFixture), HugeBytes: 10_000})
	fake.Faults.Add(Fault{Kind: Huge, Times: 1})
	code, body := runpodPost(t, fake, "/graphql", `{ gpuTypes { id memoryInGb } }`, nil)
	var doc struct {
		Data struct {
			GPUTypes []map[string]any `json:"gpuTypes"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &doc); code != 200 || err != nil || len(body) < 10_000 || len(doc.Data.GPUTypes) < 100 {
		t.Errorf("code %d, %d bytes, %d types, err %v", code, len(body), len(doc.Data.GPUTypes), err)
	}
}

func TestRunpodSetStockAndDrift(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	fake := NewRunpod(RunpodOptions{Data: []byte(runpodFixture), Drift: Drift{Tick: time.Minute, Now: func() time.Time { return now }}})
	const q = `{ gpuTypes(input: {id: "NVIDIA L4"}) { securePrice lowestPrice(input: {secureCloud: true}) { stockStatus countryCode } } }`
	_, before := runpodPost(t, fake, "/graphql", q, nil)
	fake.SetStock("NVIDIA L4", true, "")
	_, after := runpodPost(t, fake, "/graphql", q, nil)
	if !strings.Contains(before, `"stockStatus":"Low","countryCode":"US"`) || !strings.Contains(after, `"stockStatus":null,"countryCode":null`) {
		t.Errorf("before %s\nafter %s", before, after)
	}
	var doc struct {
		Data struct {
			GPUTypes []struct {
				SecurePrice float64 `json:"securePrice"`
			} `json:"gpuTypes"`
		} `json:"data"`
	}
	json.Unmarshal([]byte(after), &doc)
	if p := doc.Data.GPUTypes[0].SecurePrice; p == 0.43 || p < 0.43*0.95-1e-9 || p > 0.43*1.05+1e-9 {
		t.Errorf("drifted price %g, want within 5%% of 0.43 and moved", p)
	}
	fake.SetStock("NVIDIA L4", true, "Medium")
	if _, body := runpodPost(t, fake, "/graphql", q, nil); !strings.Contains(body, `"stockStatus":"Medium"`) {
		t.Errorf("after SetStock Medium: %s", body)
	}
}

// TestRunpodRecorded checks the embedded data: 20+ types, some out of
// stock, some without spot prices.
func TestRunpodRecorded(t *testing.T) {
	fake := NewRunpod(RunpodOptions{})
	_, body := runpodPost(t, fake, "/graphql", `{ gpuTypes { id secureSpotPrice communitySpotPrice lowestPrice(input: {secureCloud: false}) { stockStatus } } }`, nil)
	var doc struct {
		Data struct {
			GPUTypes []struct {
				ID                 string   `json:"id"`
				SecureSpotPrice    *float64 `json:"secureSpotPrice"`
				CommunitySpotPrice *float64 `json:"communitySpotPrice"`
				LowestPrice        struct {
					StockStatus *string `json:"stockStatus"`
				} `json:"lowestPrice"`
			} `json:"gpuTypes"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	var noStock, noSpot int
	for _, g := range doc.Data.GPUTypes {
		if g.LowestPrice.StockStatus == nil {
			noStock++
		}
		if g.SecureSpotPrice == nil || g.CommunitySpotPrice == nil {
			noSpot++
		}
	}
	if len(doc.Data.GPUTypes) < 20 || noStock == 0 || noSpot == 0 {
		t.Errorf("%d types, %d out of community stock, %d without a spot price", len(doc.Data.GPUTypes), noStock, noSpot)
	}
}
