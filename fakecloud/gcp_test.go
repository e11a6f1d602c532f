package fakecloud

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	billing "cloud.google.com/go/billing/apiv1"
	"cloud.google.com/go/billing/apiv1/billingpb"
	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"golang.org/x/oauth2"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/gpuprice/gpuprice/price"
)

const gcpSKUsPath = "/v1/" + GCPComputeService + "/skus"

// gcpGet fetches u with the given headers and decodes the JSON body.
func gcpGet(t *testing.T, u string, header http.Header) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if header != nil {
		req.Header = header
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: %d, undecodable body: %v", u, resp.StatusCode, err)
	}
	return resp.StatusCode, body
}

func gcpStart(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestGCPPagination walks the catalog by hand: pages of the asked size,
// opaque tokens, no token on the last page, every SKU once.
func TestGCPPagination(t *testing.T) {
	g := NewGCP(GCPOptions{})
	base := gcpStart(t, g)
	seen := map[string]bool{}
	token, pages := "", 0
	for {
		status, body := gcpGet(t, base+gcpSKUsPath+"?key="+GCPDemoKey+"&pageSize=50&pageToken="+url.QueryEscape(token), nil)
		if status != http.StatusOK {
			t.Fatalf("page %d: %d %v", pages, status, body)
		}
		pages++
		skus := body["skus"].([]any)
		if next, ok := body["nextPageToken"].(string); ok {
			if len(skus) != 50 {
				t.Errorf("page %d: %d SKUs, want 50", pages, len(skus))
			}
			token = next
		} else {
			token = ""
		}
		for _, s := range skus {
			id := s.(map[string]any)["skuId"].(string)
			if seen[id] {
				t.Errorf("SKU %s served twice", id)
			}
			seen[id] = true
		}
		if token == "" {
			break
		}
	}
	if len(seen) != g.Len() || pages != (g.Len()+49)/50 {
		t.Errorf("%d SKUs in %d pages, want %d in %d", len(seen), pages, g.Len(), (g.Len()+49)/50)
	}
}

// TestGCPWireFormat checks the JSON of one SKU: int64 units as a string,
// nanos a number, the geo taxonomy enum by name or by number as asked.
func TestGCPWireFormat(t *testing.T) {
	base := gcpStart(t, NewGCP(GCPOptions{}))
	for _, tc := range []struct {
		alt  string
		want any
	}{
		{"", "MULTI_REGIONAL"},
		{"&%24alt=json%3Benum-encoding%3Dint", float64(3)},
	} {
		_, body := gcpGet(t, base+gcpSKUsPath+"?key="+GCPDemoKey+tc.alt, nil)
		var found bool
		for _, s := range body["skus"].([]any) {
			sku := s.(map[string]any)
			if sku["description"] != "Nvidia Tesla A100 GPU running in Americas" {
				continue
			}
			found = true
			pi := sku["pricingInfo"].([]any)[0].(map[string]any)
			expr := pi["pricingExpression"].(map[string]any)
			price := expr["tieredRates"].([]any)[0].(map[string]any)["unitPrice"].(map[string]any)
			if price["units"] != "2" || price["nanos"] != float64(933908000) || price["currencyCode"] != "USD" || expr["usageUnit"] != "h" {
				t.Errorf("A100 price %v, unit %v; want units \"2\", nanos 933908000 per h", price, expr["usageUnit"])
			}
			if got := sku["geoTaxonomy"].(map[string]any)["type"]; got != tc.want {
				t.Errorf("alt %q: geoTaxonomy.type %v, want %v", tc.alt, got, tc.want)
			}
			cat := sku["category"].(map[string]any)
			if cat["resourceGroup"] != "GPU" || cat["usageType"] != "OnDemand" || len(sku["serviceRegions"].([]any)) != 4 {
				t.Errorf("category %v, regions %v", cat, sku["serviceRegions"])
			}
		}
		if !found {
			t.Fatal("no A100 SKU on the first page")
		}
	}
}

func TestGCPErrors(t *testing.T) {
	base := gcpStart(t, NewGCP(GCPOptions{Keys: []string{"good"}, Tokens: []string{"tok"}, Projects: []string{"proj-1"}}))
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	compute := "/compute/v1/projects/proj-1/aggregated/acceleratorTypes"
	for _, tc := range []struct {
		name, path string
		header     http.Header
		status     int
		code       string // error.status; "" for success
		reason     string // details[0].reason
	}{
		{"key parameter", gcpSKUsPath + "?key=good", nil, 200, "", ""},
		{"key header", gcpSKUsPath, http.Header{"X-Goog-Api-Key": {"good"}}, 200, "", ""},
		{"bearer token", gcpSKUsPath, bearer("tok"), 200, "", ""},
		{"no credentials", gcpSKUsPath, nil, 403, "PERMISSION_DENIED", ""},
		{"bad key", gcpSKUsPath + "?key=bad", nil, 400, "INVALID_ARGUMENT", "API_KEY_INVALID"},
		{"bad token", gcpSKUsPath, bearer("nope"), 401, "UNAUTHENTICATED", "ACCESS_TOKEN_TYPE_UNSUPPORTED"},
		{"bad page token", gcpSKUsPath + "?key=good&pageToken=xyz", nil, 400, "INVALID_ARGUMENT", ""},
		{"negative page size", gcpSKUsPath + "?key=good&pageSize=-1", nil, 400, "INVALID_ARGUMENT", ""},
		{"another currency", gcpSKUsPath + "?key=good&currencyCode=EUR", nil, 400, "INVALID_ARGUMENT", ""},
		{"another service", "/v1/services/E000-3F24-B8AA/skus?key=good", nil, 404, "NOT_FOUND", ""},
		{"unknown path", "/v2/skus?key=good", nil, 404, "NOT_FOUND", ""},
		{"compute with a token", compute, bearer("tok"), 200, "", ""},
		{"compute with a key", compute + "?key=good", nil, 401, "UNAUTHENTICATED", "CREDENTIALS_MISSING"},
		{"compute, another project", "/compute/v1/projects/proj-2/aggregated/acceleratorTypes", bearer("tok"), 403, "PERMISSION_DENIED", ""},
		{"compute, bad maxResults", compute + "?maxResults=501", bearer("tok"), 400, "INVALID_ARGUMENT", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := gcpGet(t, base+tc.path, tc.header)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if tc.code == "" {
				return
			}
			e := body["error"].(map[string]any)
			if e["status"] != tc.code || e["code"] != float64(tc.status) || e["message"] == "" {
				t.Errorf("error %v, want status %s", e, tc.code)
			}
			reason := ""
			if d, ok := e["details"].([]any); ok {
				reason, _ = d[0].(map[string]any)["reason"].(string)
			}
			if reason != tc.reason {
				t.Errorf("reason %q, want %q", reason, tc.reason)
			}
		})
	}
}

// TestGCPOfficialClients reads the fake with Google's own Go clients, on
// their own transports (API key; OAuth token), as a real user would.
func TestGCPOfficialClients(t *testing.T) {
	g := NewGCP(GCPOptions{MaxPageSize: 100})
	base := gcpStart(t, g)
	ctx := context.Background()

	bc, err := billing.NewCloudCatalogRESTClient(ctx, option.WithEndpoint(base), option.WithAPIKey(GCPDemoKey))
	if err != nil {
		t.Fatal(err)
	}
	it := bc.ListSkus(ctx, &billingpb.ListSkusRequest{Parent: GCPComputeService, CurrencyCode: "USD"})
	n, types := 0, map[billingpb.GeoTaxonomy_Type]int{}
	for {
		sku, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		types[sku.GetGeoTaxonomy().GetType()]++
		if sku.GetDescription() == "Nvidia H100 80GB GPU running in Americas" {
			p := sku.GetPricingInfo()[0].GetPricingExpression().GetTieredRates()[0].GetUnitPrice()
			if p.GetUnits() != 9 || p.GetNanos() != 796550569 {
				t.Errorf("H100: %d units %d nanos, want 9 and 796550569", p.GetUnits(), p.GetNanos())
			}
		}
	}
	if n != g.Len() || types[billingpb.GeoTaxonomy_REGIONAL] == 0 || types[billingpb.GeoTaxonomy_MULTI_REGIONAL] == 0 {
		t.Errorf("%d SKUs (want %d), geo types %v", n, g.Len(), types)
	}

	cc, err := compute.NewAcceleratorTypesRESTClient(ctx, option.WithEndpoint(base),
		option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: GCPDemoToken})))
	if err != nil {
		t.Fatal(err)
	}
	ai := cc.AggregatedList(ctx, &computepb.AggregatedListAcceleratorTypesRequest{Project: GCPDemoProject, MaxResults: ptr(uint32(7))})
	zones, l4, warnings := 0, 0, 0
	for {
		pair, err := ai.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		zones++
		if pair.Value.GetWarning().GetCode() == "NO_RESULTS_ON_PAGE" {
			warnings++
		}
		for _, at := range pair.Value.GetAcceleratorTypes() {
			if !strings.HasSuffix(at.GetZone(), "/projects/"+GCPDemoProject+"/zones/"+strings.TrimPrefix(pair.Key, "zones/")) {
				t.Errorf("%s: zone %s", pair.Key, at.GetZone())
			}
			if at.GetName() == "nvidia-l4" {
				l4++
			}
		}
	}
	// Three zones per region; L4 in zones -a and -b of each; -c empty.
	regions := len(g.Regions())
	if zones != 3*regions || l4 != 2*regions || warnings != regions {
		t.Errorf("%d zones, %d with L4, %d warnings; want %d, %d, %d", zones, l4, warnings, 3*regions, 2*regions, regions)
	}
}

func ptr[T any](v T) *T { return &v }

func TestGCPFaults(t *testing.T) {
	g := NewGCP(GCPOptions{MaxPageSize: 10, HugeBytes: 1 << 20})
	base := gcpStart(t, g)
	first := base + gcpSKUsPath + "?key=" + GCPDemoKey

	g.Faults.Add(Fault{Kind: Empty, Times: 1})
	if status, body := gcpGet(t, first, nil); status != 200 || len(body) != 0 {
		t.Errorf("Empty: %d %v, want {}", status, body)
	}

	g.Faults.Add(Fault{Kind: EndlessPages, Times: 1})
	last := first + "&pageToken=" + gcpPageToken(g.Len()-g.Len()%10)
	if _, body := gcpGet(t, last, nil); body["nextPageToken"] == nil {
		t.Error("EndlessPages: the last page announces no next page")
	}
	if _, body := gcpGet(t, last, nil); body["nextPageToken"] != nil {
		t.Error("without the fault, the last page announces a next page")
	}

	g.Faults.Add(Fault{Kind: TooManyRequests, Times: 1, RetryAfter: 3 * time.Second})
	resp, err := http.Get(first)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" || !strings.Contains(string(body), `"status":"RESOURCE_EXHAUSTED"`) {
		t.Errorf("429: %d, Retry-After %q, %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}

	g.Faults.Add(Fault{Kind: WrongTypes, Times: 2})
	for _, want := range []string{`"units":1.5`, `"serviceRegions":"`} {
		resp, err := http.Get(first)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), want) {
			t.Errorf("WrongTypes: no %s in the page", want)
		}
	}

	g.Faults.Add(Fault{Kind: Huge, Times: 1})
	resp, err = http.Get(first)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n < 1<<20 {
		t.Errorf("Huge: %d bytes, want at least HugeBytes", n)
	}

	g.ComputeFaults.Add(Fault{Kind: Status5xx, Times: 1})
	status, eb := gcpGet(t, base+"/compute/v1/projects/"+GCPDemoProject+"/aggregated/acceleratorTypes",
		http.Header{"Authorization": {"Bearer " + GCPDemoToken}})
	if status != 503 || eb["error"].(map[string]any)["status"] != "UNAVAILABLE" {
		t.Errorf("compute 5xx: %d %v", status, eb)
	}
	if g.Faults.Requests() != 7 || g.ComputeFaults.Requests() != 1 {
		t.Errorf("requests: billing %d, compute %d; want 7 and 1", g.Faults.Requests(), g.ComputeFaults.Requests())
	}
}

// TestGCPDrift: prices move from tick to tick and stay within one.
func TestGCPDrift(t *testing.T) {
	now := time.Unix(0, 0)
	g := NewGCP(GCPOptions{Drift: Drift{Tick: time.Hour, Now: func() time.Time { return now }}})
	base := gcpStart(t, g)
	get := func() []any {
		_, body := gcpGet(t, base+gcpSKUsPath+"?key="+GCPDemoKey, nil)
		var out []any
		for _, s := range body["skus"].([]any) {
			out = append(out, s.(map[string]any)["pricingInfo"])
		}
		return out
	}
	a, b := get(), get()
	now = now.Add(time.Hour)
	c := get()
	if !slices.EqualFunc(a, b, func(x, y any) bool { return jsonEqual(x, y) }) {
		t.Error("prices moved within a tick")
	}
	if slices.EqualFunc(a, c, func(x, y any) bool { return jsonEqual(x, y) }) {
		t.Error("prices did not move from one tick to the next")
	}
}

func jsonEqual(x, y any) bool {
	a, _ := json.Marshal(x)
	b, _ := json.Marshal(y)
	return string(a) == string(b)
}

// TestGCPData checks the table: SKU IDs unique, every GPU of the catalog's
// gcp aliases priced (the SKU-derived spellings aside), every location
// used.
func TestGCPData(t *testing.T) {
	skus := gcpCatalog(100, false)
	ids := map[string]bool{}
	for _, s := range skus {
		if ids[s.SkuID] {
			t.Errorf("SKU ID %s twice (%s)", s.SkuID, s.Description)
		}
		ids[s.SkuID] = true
		if s.usd <= 0 || len(s.ServiceRegions) == 0 {
			t.Errorf("%s: price %v, regions %v", s.Description, s.usd, s.ServiceRegions)
		}
	}
	priced := map[string]bool{}
	for _, g := range gcpGPURows {
		priced[g.accel] = true
	}
	for _, s := range gcpSliceRows {
		priced[s.accel] = true
	}
	skuSpellings := map[string]bool{"nvidia-tesla-a100-80gb": true, "nvidia-h100-80gb-mega": true, "nvidia-h100-80gb-plus": true}
	for _, a := range price.DefaultCatalog().Aliases("gcp") {
		if !priced[a.Raw] && !skuSpellings[a.Raw] {
			t.Errorf("catalog accelerator %s has no SKU in the fake", a.Raw)
		}
	}
	if len(skus) != len(gcpCatalog(0, false))+100 {
		t.Errorf("filler: %d SKUs, want %d", len(skus), len(gcpCatalog(0, false))+100)
	}
}
