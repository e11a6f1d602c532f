package fakecloud

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// skusGet fetches u with token (none if empty) and decodes the body.
func skusGet(t *testing.T, client *http.Client, u, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
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

func skusURL(base, subscription, query string) string {
	return base + "/subscriptions/" + subscription + "/providers/Microsoft.Compute/skus?" + query
}

// TestAzureSKUsRecording checks the recorded SKUs: every virtual machine
// size names its location in locations and locationInfo, and every GPU
// size but the MI300X one states its GPUs.
func TestAzureSKUsRecording(t *testing.T) {
	skus, err := loadAzureSKUs()
	if err != nil {
		t.Fatal(err)
	}
	regions := map[string]int{}
	for _, s := range skus {
		if len(s.Locations) != 1 || len(s.LocationInfo) != 1 {
			t.Errorf("%s: %d locations, %d locationInfo", s.Name, len(s.Locations), len(s.LocationInfo))
		}
		regions[strings.ToLower(s.Locations[0])]++
		if s.ResourceType != "virtualMachines" || !strings.HasPrefix(s.Name, "Standard_N") {
			continue
		}
		gpus := false
		for _, c := range s.Capabilities {
			gpus = gpus || c.Name == "GPUs"
		}
		if gpus == strings.Contains(s.Name, "MI300X") {
			t.Errorf("%s: GPUs capability %v", s.Name, gpus)
		}
	}
	if regions["westus3"] == 0 || regions["swedencentral"] == 0 {
		t.Errorf("regions %v", regions)
	}
}

// TestAzureSKUsWire walks the Resource SKUs of a location the way the SDK
// does: over TLS, with a bearer token, following absolute nextLinks.
func TestAzureSKUsWire(t *testing.T) {
	srv := httptest.NewTLSServer(NewAzure(AzureOptions{}))
	defer srv.Close()
	client := srv.Client()
	u := skusURL(srv.URL, AzureDemoSubscription, "api-version="+AzureSKUsAPIVersion+"&$filter="+url.QueryEscape("location eq 'westus3'"))
	var names []string
	pages := 0
	for u != "" {
		pages++
		status, body := skusGet(t, client, u, AzureDemoToken)
		if status != http.StatusOK {
			t.Fatalf("status %d: %v", status, body)
		}
		for _, v := range body["value"].([]any) {
			names = append(names, v.(map[string]any)["name"].(string))
		}
		u, _ = body["nextLink"].(string)
		if u != "" && !strings.HasPrefix(u, srv.URL+"/subscriptions/") {
			t.Fatalf("nextLink %q is not absolute on the server", u)
		}
	}
	if pages != 2 || len(names) != 13 {
		t.Errorf("%d pages, %d SKUs (%v); want 2 pages, 13 SKUs", pages, len(names), names)
	}
	for _, tc := range []struct {
		name, sub, query, token string
		status                  int
		code                    string
	}{
		{"no token", AzureDemoSubscription, "api-version=" + AzureSKUsAPIVersion, "", 401, "AuthenticationFailed"},
		{"wrong token", AzureDemoSubscription, "api-version=" + AzureSKUsAPIVersion, "nope", 401, "AuthenticationFailed"},
		{"other subscription", "00000000-0000-0000-0000-000000000001", "api-version=" + AzureSKUsAPIVersion, AzureDemoToken, 404, "SubscriptionNotFound"},
		{"no api-version", AzureDemoSubscription, "", AzureDemoToken, 400, "MissingApiVersionParameter"},
		{"unsupported filter", AzureDemoSubscription, "api-version=" + AzureSKUsAPIVersion + "&$filter=" + url.QueryEscape("name eq 'x'"), AzureDemoToken, 400, "InvalidFilter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := skusGet(t, client, skusURL(srv.URL, tc.sub, tc.query), tc.token)
			code, _ := body["error"].(map[string]any)["code"].(string)
			if status != tc.status || code != tc.code {
				t.Errorf("%d %q, want %d %q", status, code, tc.status, tc.code)
			}
		})
	}
	// A location with no SKUs is an empty list, not an error.
	status, body := skusGet(t, client, skusURL(srv.URL, AzureDemoSubscription, "api-version="+AzureSKUsAPIVersion+"&$filter="+url.QueryEscape("location eq 'japaneast'")), AzureDemoToken)
	if v, ok := body["value"].([]any); status != 200 || !ok || len(v) != 0 || body["nextLink"] != nil {
		t.Errorf("japaneast: %d %v", status, body)
	}
}
