package fakecloud

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const lambdaFixture = `{"data": {
  "gpu_1x_a10": {"instance_type": {"name": "gpu_1x_a10", "description": "1x A10 (24 GB PCIe)", "gpu_description": "A10 (24 GB PCIe)", "price_cents_per_hour": 75, "specs": {"vcpus": 30, "memory_gib": 200, "storage_gib": 1400, "gpus": 1}}, "regions_with_capacity_available": [{"name": "us-east-1", "description": "Virginia, USA"}]}
}}`

func lambdaGet(t *testing.T, h http.Handler, target, auth string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestLambdaAuth(t *testing.T) {
	basic := func(user string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":")) }
	tests := []struct {
		name     string
		opts     LambdaOptions
		auth     string
		wantCode int
		wantIn   string
	}{
		{"no key", LambdaOptions{}, "", 401, `{"error":{"code":"global/invalid-api-key","message":"API key was invalid, expired, or deleted.","suggestion":"Check your API key or create a new one, then try again."}}`},
		{"any key without APIKey", LambdaOptions{}, "Bearer anything", 200, `"gpu_1x_a10"`},
		{"wrong key", LambdaOptions{APIKey: "k"}, "Bearer x", 401, "global/invalid-api-key"},
		{"right key", LambdaOptions{APIKey: "k"}, "Bearer k", 200, `"price_cents_per_hour":75`},
		{"basic auth", LambdaOptions{APIKey: "k"}, basic("k"), 200, `"gpu_1x_a10"`},
		{"inactive account", LambdaOptions{InactiveKey: "old"}, "Bearer old", 403, "global/account-inactive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Data = []byte(lambdaFixture)
			code, body := lambdaGet(t, NewLambda(tt.opts), LambdaInstanceTypesPath, tt.auth)
			if code != tt.wantCode || !strings.Contains(body, tt.wantIn) {
				t.Errorf("got %d %s, want %d with %s", code, body, tt.wantCode, tt.wantIn)
			}
		})
	}
}

func TestLambdaRoutes(t *testing.T) {
	fake := NewLambda(LambdaOptions{Data: []byte(lambdaFixture)})
	if code, body := lambdaGet(t, fake, "/api/v1/images", "Bearer k"); code != 404 || !strings.Contains(body, "global/not-found") {
		t.Errorf("other path: %d %s", code, body)
	}
	req := httptest.NewRequest(http.MethodPost, LambdaInstanceTypesPath, nil)
	req.Header.Set("Authorization", "Bearer k")
	rec := httptest.NewRecorder()
	fake.ServeHTTP(rec, req)
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET" {
		t.Errorf("POST: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestLambdaFaults(t *testing.T) {
	tests := []struct {
		kind     FaultKind
		wantCode int
		want     string
	}{
		{Empty, 200, `{"data":{}}`},
		{WrongTypes, 200, `"price_cents_per_hour":"75"`},
		{EndlessPages, 200, `"price_cents_per_hour":75`},
		{Status5xx, 503, `{"error":{"code":"global/internal-error","message":"service unavailable (injected fault)"}}`},
		{TooManyRequests, 429, `{"error":{"code":"global/too-many-requests","message":"too many requests (injected fault)"}}`},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			fake := NewLambda(LambdaOptions{Data: []byte(lambdaFixture)})
			fake.Faults.Add(Fault{Kind: tt.kind, Times: 1, RetryAfter: 2 * time.Second})
			req := httptest.NewRequest(http.MethodGet, LambdaInstanceTypesPath, nil)
			req.Header.Set("Authorization", "Bearer k")
			rec := httptest.NewRecorder()
			fake.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("got %d %s\nwant %d with %s", rec.Code, rec.Body, tt.wantCode, tt.want)
			}
			if tt.kind == TooManyRequests && rec.Header().Get("Retry-After") != "2" {
				t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
			}
		})
	}
}

func TestLambdaHuge(t *testing.T) {
	fake := NewLambda(LambdaOptions{Data: []byte(lambdaFixture), HugeBytes: 20_000})
	fake.Faults.Add(Fault{Kind: Huge, Times: 1})
	code, body := lambdaGet(t, fake, LambdaInstanceTypesPath, "Bearer k")
	var doc struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &doc); code != 200 || err != nil || len(body) < 20_000 || len(doc.Data) < 20 {
		t.Errorf("code %d, %d bytes, %d types, err %v", code, len(body), len(doc.Data), err)
	}
}

func TestLambdaCapacityAndDrift(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	fake := NewLambda(LambdaOptions{Data: []byte(lambdaFixture), Drift: Drift{Tick: time.Minute, Amplitude: 0.2, Now: func() time.Time { return now }}})
	fake.SetCapacity("gpu_1x_a10")
	_, body := lambdaGet(t, fake, LambdaInstanceTypesPath, "Bearer k")
	var doc struct {
		Data map[string]struct {
			InstanceType struct {
				Price int `json:"price_cents_per_hour"`
			} `json:"instance_type"`
			Regions []json.RawMessage `json:"regions_with_capacity_available"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	a10 := doc.Data["gpu_1x_a10"]
	if a10.Regions == nil || len(a10.Regions) != 0 {
		t.Errorf("capacity %v, want an empty list", a10.Regions)
	}
	if p := a10.InstanceType.Price; p == 75 || p < 60 || p > 90 {
		t.Errorf("drifted price %d, want within 20%% of 75 and moved", p)
	}
}

// TestLambdaRecorded checks the embedded data: types with and without
// capacity.
func TestLambdaRecorded(t *testing.T) {
	_, body := lambdaGet(t, NewLambda(LambdaOptions{}), LambdaInstanceTypesPath, "Bearer k")
	var doc struct {
		Data map[string]struct {
			Regions []json.RawMessage `json:"regions_with_capacity_available"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	with := 0
	for _, e := range doc.Data {
		if len(e.Regions) > 0 {
			with++
		}
	}
	if len(doc.Data) < 15 || with == 0 || with == len(doc.Data) {
		t.Errorf("%d types, %d with capacity: want 15+, some with and some without", len(doc.Data), with)
	}
}
