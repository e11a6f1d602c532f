package fakecloud

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// azureGet fetches path+query from the fake and decodes a JSON body.
func azureGet(t *testing.T, h http.Handler, query string) (int, map[string]any) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	return azureGetURL(t, srv.URL+AzurePath+"?"+query)
}

func azureGetURL(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(u)
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

// q builds a query with the preview api-version and the given $filter.
func q(filter string) string {
	return "api-version=" + AzurePreviewVersion + "&$filter=" + url.QueryEscape(filter)
}

func items(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	raw, ok := body["Items"].([]any)
	if !ok {
		t.Fatalf("Items is %T, not an array", body["Items"])
	}
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		out[i] = r.(map[string]any)
	}
	return out
}

func TestAzureRecording(t *testing.T) {
	recorded, err := loadAzureRecorded()
	if err != nil {
		t.Fatal(err)
	}
	a := NewAzure(AzureOptions{})
	wantRegions := []string{"australiaeast", "brazilsouth", "centralindia", "eastus", "eastus2", "japaneast",
		"northeurope", "southafricanorth", "southcentralus", "southeastasia", "swedencentral", "uaenorth",
		"uksouth", "westeurope", "westus3"}
	if got := a.Regions(); !reflect.DeepEqual(got, wantRegions) {
		t.Errorf("Regions() = %v", got)
	}

	// Every kind of row a collector must handle is in the recording.
	kinds := map[string]func(it *azureItem) bool{
		"linux on-demand":    func(it *azureItem) bool { return it.Type == "Consumption" && !strings.Contains(it.ProductName, "Win") },
		"spot":               func(it *azureItem) bool { return strings.HasSuffix(it.MeterName, " Spot") },
		"low priority":       func(it *azureItem) bool { return strings.HasSuffix(it.SkuName, " Low Priority") },
		"windows":            func(it *azureItem) bool { return strings.HasSuffix(it.ProductName, " Windows") },
		"short win":          func(it *azureItem) bool { return strings.HasSuffix(it.ProductName, " Win") },
		"zero price":         func(it *azureItem) bool { return it.RetailPrice == 0 },
		"reservation":        func(it *azureItem) bool { return it.Type == "Reservation" && it.ReservationTerm != "" },
		"dev/test":           func(it *azureItem) bool { return it.Type == "DevTestConsumption" },
		"cpu only":           func(it *azureItem) bool { return strings.HasPrefix(it.ArmSkuName, "Standard_D") },
		"fpga":               func(it *azureItem) bool { return strings.HasPrefix(it.ArmSkuName, "Standard_NP") },
		"cloud services":     func(it *azureItem) bool { return strings.Contains(it.ProductName, "Cloud Services") },
		"savings plan":       func(it *azureItem) bool { return len(it.SavingsPlan) > 0 },
		"not yet in catalog": func(it *azureItem) bool { return strings.HasSuffix(it.ArmSkuName, "_A10_v4") },
	}
	for _, size := range []string{"Standard_ND96isr_H100_v5", "Standard_ND96isr_H200_v5", "Standard_NC24ads_A100_v4",
		"Standard_ND96asr_v4", "Standard_ND96amsr_A100_v4", "Standard_NC40ads_H100_v5", "Standard_NC4as_T4_v3",
		"Standard_NC6s_v3", "Standard_NV6ads_A10_v5", "Standard_NV12ads_A10_v5", "Standard_NV18ads_A10_v5",
		"Standard_ND96isr_MI300X_v5", "Standard_NV12s_v3", "Standard_NV4as_v4", "Standard_NG8ads_V620_v1"} {
		kinds[size] = func(it *azureItem) bool { return it.ArmSkuName == size }
	}
	for name, match := range kinds {
		found := false
		for i := range recorded {
			if match(&recorded[i]) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("the recording has no %s row", name)
		}
	}

	cat := price.DefaultCatalog()
	ids := map[string]int{}
	for _, it := range recorded {
		if it.CurrencyCode != "USD" || it.UnitOfMeasure != "1 Hour" || it.ServiceName != "Virtual Machines" ||
			it.MeterID == "" || it.ProductID == "" || !strings.HasPrefix(it.SkuID, it.ProductID+"/") ||
			it.Location == "" || it.ArmSkuName == "" || it.RetailPrice != it.UnitPrice || it.RetailPrice < 0 {
			t.Errorf("malformed row %+v", it)
		}
		if _, err := time.Parse(time.RFC3339, it.EffectiveStartDate); err != nil {
			t.Errorf("%s: %v", it.MeterID, err)
		}
		if (it.Type == "Reservation") != (it.ReservationTerm != "") {
			t.Errorf("%s: reservationTerm %q on a %s row", it.MeterID, it.ReservationTerm, it.Type)
		}
		ids[it.MeterID]++
		// Every GPU size but the deliberately unknown ones is in the
		// catalog, so the demo shows names, not UNKNOWN.
		gpu := strings.HasPrefix(it.ArmSkuName, "Standard_N") && !strings.HasPrefix(it.ArmSkuName, "Standard_NP")
		if _, ok := cat.Lookup("azure", it.ArmSkuName); gpu && !ok && !kinds["not yet in catalog"](&it) {
			t.Errorf("%s is not in the catalog", it.ArmSkuName)
		}
	}
	dups := 0
	for _, n := range ids {
		dups += n - 1
	}
	if dups != 1 {
		t.Errorf("%d repeated meterIds, want the one deliberate duplicate", dups)
	}
}

func TestAzureFilter(t *testing.T) {
	const region = "serviceName eq 'Virtual Machines' and armRegionName eq 'westus3'"
	a := NewAzure(AzureOptions{})
	count := func(query string) int {
		t.Helper()
		status, body := azureGet(t, a, query)
		if status != http.StatusOK {
			t.Fatalf("%s: HTTP %d: %v", query, status, body)
		}
		return len(items(t, body))
	}
	all := count(q(region))
	if all != 25 {
		t.Fatalf("westus3 has %d rows, want the 25 recorded", all)
	}
	for _, tc := range []struct {
		name  string
		query string
		want  int
	}{
		{"one size", q(region + " and armSkuName eq 'Standard_ND96isr_H100_v5'"), 4},
		{"price type", q(region + " and armSkuName eq 'Standard_ND96isr_H100_v5' and priceType eq 'Consumption'"), 2},
		{"contains true", q(region + " and contains(meterName, 'Spot') eq true"), 6},
		{"contains false", q(region + " and contains(meterName, 'Spot') eq false"), all - 6},
		{"N-series", q(region + " and contains(armSkuName, 'Standard_N') eq true"), all - 2},
		{"field names in any case", q("ServiceName eq 'Virtual Machines' and ARMREGIONNAME eq 'westus3'"), all},
		{"keywords in any case", q("serviceName EQ 'Virtual Machines' AND armRegionName Eq 'westus3'"), all},
		{"values case-sensitive in preview", q("armRegionName eq 'WestUS3'"), 0},
		{"values case-insensitive otherwise", "$filter=" + url.QueryEscape("armRegionName eq 'WestUS3'"), all},
		{"contains case-sensitive in preview", q(region + " and contains(meterName, 'spot') eq true"), 0},
		{"doubled quote", q("productName eq 'O''Brien'"), 0},
		{"spaces as %20", "api-version=" + AzurePreviewVersion + "&$filter=armRegionName%20eq%20%27westus3%27", all},
		{"escaped $filter key", "api-version=" + AzurePreviewVersion + "&%24filter=armRegionName%20eq%20%27westus3%27", all},
		{"primary meters only", q(region) + "&meterRegion='primary'", all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := count(tc.query); got != tc.want {
				t.Errorf("%d items, want %d", got, tc.want)
			}
		})
	}
}

func TestAzureBadRequests(t *testing.T) {
	a := NewAzure(AzureOptions{})
	many := strings.Repeat("armRegionName eq 'eastus' and ", 20) + "armRegionName eq 'eastus'"
	for _, tc := range []struct {
		name   string
		path   string
		query  string
		status int
	}{
		{"or", AzurePath, q("armRegionName eq 'eastus' or armRegionName eq 'westus3'"), 400},
		{"not", AzurePath, q("not(contains(productName,'Windows'))"), 400},
		{"ne", AzurePath, q("armRegionName ne 'eastus'"), 400},
		{"in", AzurePath, q("armSkuName in ('Standard_NC6s_v3')"), 400},
		{"startswith", AzurePath, q("startswith(armSkuName, 'Standard_N')"), 400},
		{"grouping", AzurePath, q("(armRegionName eq 'eastus')"), 400},
		{"unknown field", AzurePath, q("currency eq 'USD'"), 400},
		{"type is not a filter field", AzurePath, q("type eq 'Consumption'"), 400},
		{"unquoted value", AzurePath, q("armRegionName eq eastus"), 400},
		{"unterminated string", AzurePath, q("armRegionName eq 'eastus"), 400},
		{"contains without eq", AzurePath, q("contains(meterName, 'Spot')"), 400},
		{"contains eq a string", AzurePath, q("contains(meterName, 'Spot') eq 'yes'"), 400},
		{"trailing and", AzurePath, q("armRegionName eq 'eastus' and"), 400},
		{"more than 20 comparisons", AzurePath, q(many), 400},
		{"negative skip", AzurePath, q("armRegionName eq 'eastus'") + "&$skip=-1", 400},
		{"skip not a number", AzurePath, q("armRegionName eq 'eastus'") + "&$skip=ten", 400},
		{"wrong path", "/api/retail/price", q("armRegionName eq 'eastus'"), 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(a)
			defer srv.Close()
			status, body := azureGetURL(t, srv.URL+tc.path+"?"+tc.query)
			if status != tc.status {
				t.Fatalf("HTTP %d, want %d", status, tc.status)
			}
			e, _ := body["Error"].(map[string]any)
			if e["Code"] == "" || e["Message"] == "" {
				t.Errorf("not Azure's error envelope: %v", body)
			}
			if status == 400 && (e["Code"] != "BadRequest" || e["Message"] != "Invalid OData parameters supplied") {
				t.Errorf("error = %v", e)
			}
		})
	}
	srv := httptest.NewServer(a)
	defer srv.Close()
	resp, err := http.Post(srv.URL+AzurePath, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: HTTP %d", resp.StatusCode)
	}
}

func TestAzurePagination(t *testing.T) {
	a := NewAzure(AzureOptions{PageSize: 4})
	srv := httptest.NewServer(a)
	defer srv.Close()
	filter := "armRegionName eq 'westus3'"
	u := srv.URL + AzurePath + "?" + q(filter)
	var walked []any
	for pages := 1; ; pages++ {
		status, body := azureGetURL(t, u)
		if status != 200 {
			t.Fatalf("page %d: HTTP %d", pages, status)
		}
		its := body["Items"].([]any)
		walked = append(walked, its...)
		if int(body["Count"].(float64)) != len(its) {
			t.Errorf("page %d: Count %v for %d items", pages, body["Count"], len(its))
		}
		next, _ := body["NextPageLink"].(string)
		if body["NextPageLink"] == nil {
			if pages != 7 || len(its) != 1 {
				t.Errorf("last page is page %d with %d items, want page 7 with 1", pages, len(its))
			}
			break
		}
		nu, err := url.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		if "http://"+nu.Host != srv.URL || nu.Path != AzurePath {
			t.Errorf("NextPageLink %s is not on the request's host", next)
		}
		if nu.Query().Get("$filter") != filter || nu.Query().Get("$skip") != strconv.Itoa(4*pages) {
			t.Errorf("NextPageLink %s: want the same filter and $skip=%d", next, 4*pages)
		}
		if strings.Count(next, "skip") != 1 {
			t.Errorf("NextPageLink %s repeats $skip", next)
		}
		u = next
	}
	_, whole := azureGet(t, NewAzure(AzureOptions{}), q(filter))
	if !reflect.DeepEqual(walked, whole["Items"]) {
		t.Errorf("the walk's %d items differ from the one-page answer's", len(walked))
	}

	// A skip past the end is an empty last page.
	status, body := azureGetURL(t, srv.URL+AzurePath+"?"+q(filter)+"&$skip=1000")
	if status != 200 || len(items(t, body)) != 0 || body["NextPageLink"] != nil {
		t.Errorf("skip past the end: %d %v", status, body)
	}
}

func TestAzureSavingsPlanOnlyInPreview(t *testing.T) {
	a := NewAzure(AzureOptions{})
	filter := url.QueryEscape("armSkuName eq 'Standard_ND96isr_H100_v5' and armRegionName eq 'westus3' and priceType eq 'Consumption'")
	_, preview := azureGet(t, a, "api-version="+AzurePreviewVersion+"&$filter="+filter)
	_, old := azureGet(t, a, "api-version=2021-10-01-preview&$filter="+filter)
	if _, ok := items(t, preview)[0]["savingsPlan"]; !ok {
		t.Error("no savingsPlan with the preview version")
	}
	if _, ok := items(t, old)[0]["savingsPlan"]; ok {
		t.Error("savingsPlan without the preview version")
	}
}

func TestAzureDrift(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	a := NewAzure(AzureOptions{Drift: Drift{Tick: time.Minute, Amplitude: 0.1, Now: func() time.Time { return now }}})
	base := NewAzure(AzureOptions{})
	query := q("armRegionName eq 'westus3' and priceType eq 'Consumption'")
	prices := func(h http.Handler) []float64 {
		_, body := azureGet(t, h, query)
		var out []float64
		for _, it := range items(t, body) {
			out = append(out, it["retailPrice"].(float64))
			if it["retailPrice"] != it["unitPrice"] {
				t.Errorf("retailPrice %v and unitPrice %v drifted apart", it["retailPrice"], it["unitPrice"])
			}
		}
		return out
	}
	orig, first, again := prices(base), prices(a), prices(a)
	if !reflect.DeepEqual(first, again) {
		t.Error("prices changed within one tick")
	}
	now = now.Add(7 * time.Minute)
	later := prices(a)
	moved := 0
	for i := range orig {
		for _, p := range []float64{first[i], later[i]} {
			if math.Abs(p-orig[i]) > orig[i]*0.1+1e-4 {
				t.Errorf("item %d: %v drifted more than 10%% from %v", i, p, orig[i])
			}
		}
		if orig[i] == 0 && (first[i] != 0 || later[i] != 0) {
			t.Errorf("item %d: a zero price drifted", i)
		}
		if later[i] != first[i] {
			moved++
		}
	}
	if moved == 0 {
		t.Error("no price moved across ticks")
	}
}

func TestAzureFaults(t *testing.T) {
	const filter = "armRegionName eq 'westus3'"
	t.Run("generic faults use the error envelope", func(t *testing.T) {
		a := NewAzure(AzureOptions{})
		a.Faults.Add(Fault{Kind: Status5xx, Times: 1}, Fault{Kind: TooManyRequests, Times: 1, RetryAfter: 3 * time.Second})
		srv := httptest.NewServer(a)
		defer srv.Close()
		for _, want := range []struct {
			status     int
			code       string
			retryAfter string
		}{{503, "ServiceUnavailable", ""}, {429, "TooManyRequests", "3"}, {200, "", ""}} {
			resp, err := http.Get(srv.URL + AzurePath + "?" + q(filter))
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != want.status || resp.Header.Get("Retry-After") != want.retryAfter {
				t.Errorf("HTTP %d Retry-After %q, want %d %q", resp.StatusCode, resp.Header.Get("Retry-After"), want.status, want.retryAfter)
			}
			if e, _ := body["Error"].(map[string]any); want.code != "" && (e == nil || e["Code"] != want.code) {
				t.Errorf("body %v, want Error.Code %s", body, want.code)
			}
		}
	})
	t.Run("wrong types alternate", func(t *testing.T) {
		a := NewAzure(AzureOptions{})
		a.Faults.Add(Fault{Kind: WrongTypes, Times: 3})
		_, body := azureGet(t, a, q(filter))
		if _, ok := items(t, body)[0]["retailPrice"].(string); !ok {
			t.Errorf("first: retailPrice is %T, want a string", items(t, body)[0]["retailPrice"])
		}
		_, body = azureGet(t, a, q(filter))
		if obj, ok := body["Items"].(map[string]any); !ok || len(obj) != 25 {
			t.Errorf("second: Items is %T, want an object of 25", body["Items"])
		}
		_, body = azureGet(t, a, q("armRegionName eq 'nowhere'"))
		if _, ok := items(t, body)[0]["retailPrice"].(string); !ok {
			t.Error("third, on an empty page: want a mistyped item all the same")
		}
	})
	t.Run("empty", func(t *testing.T) {
		a := NewAzure(AzureOptions{PageSize: 2})
		a.Faults.Add(Fault{Kind: Empty, Times: 1})
		status, body := azureGet(t, a, q(filter))
		if status != 200 || len(items(t, body)) != 0 || body["NextPageLink"] != nil || body["Count"] != 0.0 {
			t.Errorf("HTTP %d %v", status, body)
		}
	})
	t.Run("endless", func(t *testing.T) {
		a := NewAzure(AzureOptions{PageSize: 10})
		a.Faults.Add(Fault{Kind: EndlessPages})
		srv := httptest.NewServer(a)
		defer srv.Close()
		u := srv.URL + AzurePath + "?" + q(filter)
		var first []map[string]any
		for i := range 50 {
			_, body := azureGetURL(t, u)
			its := items(t, body)
			if i == 0 {
				first = its
			} else if !reflect.DeepEqual(its, first) {
				t.Fatalf("page %d differs from the first", i)
			}
			next, ok := body["NextPageLink"].(string)
			if !ok {
				t.Fatalf("page %d has no NextPageLink", i)
			}
			u = next
		}
		if !strings.HasSuffix(u, "$skip=500") {
			t.Errorf("link after 50 pages: %s", u)
		}
	})
	t.Run("huge", func(t *testing.T) {
		a := NewAzure(AzureOptions{HugeBytes: 3 << 20})
		a.Faults.Add(Fault{Kind: Huge, Times: 2})
		srv := httptest.NewServer(a)
		defer srv.Close()
		// Read it all: a well-formed page larger than HugeBytes.
		resp, err := http.Get(srv.URL + AzurePath + "?" + q(filter))
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(data) < 3<<20 {
			t.Fatalf("read %d bytes: %v", len(data), err)
		}
		var page azurePage
		if err := json.Unmarshal(data, &page); err != nil || page.Count != len(page.Items) || page.Count < 1000 {
			t.Fatalf("huge page: %d items, Count %d: %v", len(page.Items), page.Count, err)
		}
		// Hang up early: the fake stops writing.
		resp, err = http.Get(srv.URL + AzurePath + "?" + q(filter))
		if err != nil {
			t.Fatal(err)
		}
		io.CopyN(io.Discard, resp.Body, 64<<10)
		resp.Body.Close()
	})
}

func TestParseAzureFilter(t *testing.T) {
	got, err := parseAzureFilter("serviceName eq 'Virtual Machines' and contains(productName, 'Win''s') eq false and  CONTAINS ( armSkuName ,'Standard_N' ) EQ TRUE")
	if err != nil {
		t.Fatal(err)
	}
	want := []azureTerm{
		{field: "servicename", value: "Virtual Machines"},
		{field: "productname", value: "Win's", contains: true, want: false},
		{field: "armskuname", value: "Standard_N", contains: true, want: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if terms, err := parseAzureFilter("  "); err != nil || terms != nil {
		t.Errorf("blank filter: %v %v", terms, err)
	}
}
