package azure

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

// staticToken is a credential holding one bearer token: what tests use
// instead of azidentity, which would need a token endpoint.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// startTLS serves h over TLS for the test (the SDK sends bearer tokens
// over https only), without logging the handshakes that the test's end
// cuts short.
func startTLS(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// skuRig is the collector with a subscription, pointed at a TLS fake (the
// SDK sends bearer tokens over https only) through the daemon's client.
type skuRig struct {
	c        *Collector
	skuCalls atomic.Int64 // requests to Resource Manager
	now      time.Time
}

func newSKURig(t *testing.T, fake *fakecloud.Azure, regions []string, token string) *skuRig {
	t.Helper()
	r := &skuRig{now: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	srv := startTLS(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, "/subscriptions/") {
			r.skuCalls.Add(1)
		}
		fake.ServeHTTP(w, req)
	}))
	cfg := config.Default()
	s := cfg.Providers[Name].(*Config)
	s.Endpoint, s.Regions, s.Concurrency = srv.URL+fakecloud.AzurePath, regions, 3
	s.SubscriptionID, s.ARMEndpoint = fakecloud.AzureDemoSubscription, srv.URL
	client := collectortest.FastClient(collectors.HTTPOptions{Base: srv.Client().Transport, MaxRetries: 1})
	c, err := collectors.New(Name, cfg, collectors.Env{HTTPClient: client, Catalog: testCatalog(t)})
	if err != nil {
		t.Fatal(err)
	}
	r.c = c.(*Collector)
	r.c.skus.credential = func() (azcore.TokenCredential, error) { return staticToken(token), nil }
	r.c.skus.now = func() time.Time { return r.now }
	return r
}

// withSKUs is westus3 as the recorded Resource SKUs complete it.
func withSKUs() []price.Quote {
	type sku struct {
		stock       price.Stock
		zones       string
		vcpus, mem  float64
		gpus        float64 // 0: as the catalog says
		description string
	}
	z3 := "1,2,3"
	skus := map[string]sku{
		"Standard_NC24ads_A100_v4": {price.StockAvailable, z3, 24, 220, 0, ""},
		"Standard_NC40ads_H100_v5": {price.StockNone, z3, 40, 320, 0, "NotAvailableForSubscription in the region"},
		"Standard_NC48ads_A100_v4": {price.StockAvailable, z3, 48, 440, 0, ""},
		"Standard_NC80adis_H100_v5": {price.StockAvailable, "1,2", 80, 640, 0,
			"zone 3 restricted for the subscription"},
		// Unknown to the test catalog: one GPU, as the SKU says.
		"Standard_NC8ads_A10_v4":   {price.StockAvailable, z3, 8, 55, 1, ""},
		"Standard_ND96isr_H100_v5": {price.StockAvailable, "1,2", 96, 1900, 0, "two zones only"},
		// The SKUs report a whole GPU for the partitions: the catalog's
		// fraction stays.
		"Standard_NV12ads_A10_v5": {price.StockAvailable, z3, 12, 110, 0, ""},
		"Standard_NV18ads_A10_v5": {price.StockAvailable, z3, 18, 220, 0, ""},
		"Standard_NV36ads_A10_v5": {price.StockAvailable, z3, 36, 440, 0, ""},
		"Standard_NV6ads_A10_v5":  {price.StockAvailable, z3, 6, 55, 0, ""},
	}
	out := slices.Clone(westus3)
	for i := range out {
		q := &out[i]
		s, ok := skus[q.InstanceType]
		if !ok {
			panic("no SKU for " + q.InstanceType)
		}
		q.Stock, q.Zones, q.VCPUs, q.MemoryGB = s.stock, s.zones, s.vcpus, s.mem
		if s.gpus > 0 {
			q.GPUCount = s.gpus
		}
	}
	return out
}

func TestResourceSKUs(t *testing.T) {
	for _, pageSize := range []int{0, 1, 100} {
		t.Run("pages of "+map[int]string{0: "8", 1: "1", 100: "100"}[pageSize], func(t *testing.T) {
			r := newSKURig(t, fakecloud.NewAzure(fakecloud.AzureOptions{SKUPageSize: pageSize}), []string{"westus3"}, fakecloud.AzureDemoToken)
			snap, err := r.c.Collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := withSKUs(); !reflect.DeepEqual(snap.Quotes, want) {
				t.Errorf("quotes:\n%s\nwant:\n%s", dump(snap.Quotes), dump(want))
			}
			// 13 recorded westus3 SKUs.
			if want := map[int]int64{0: 2, 1: 13, 100: 1}[pageSize]; r.skuCalls.Load() != want {
				t.Errorf("%d Resource SKUs requests, want %d", r.skuCalls.Load(), want)
			}
		})
	}
}

// TestResourceSKUsRegions: a region whose SKUs list no virtual machine
// says nothing, so its stock is unknown; a size its region's SKUs do not
// list is not offered there.
func TestResourceSKUsRegions(t *testing.T) {
	r := newSKURig(t, fakecloud.NewAzure(fakecloud.AzureOptions{}), []string{"westus3", "swedencentral", "japaneast"}, fakecloud.AzureDemoToken)
	snap, err := r.c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stocks := map[string]map[price.Stock]int{}
	for _, q := range snap.Quotes {
		if stocks[q.Region] == nil {
			stocks[q.Region] = map[price.Stock]int{}
		}
		stocks[q.Region][q.Stock]++
		if q.Region == "japaneast" && (q.Stock != price.StockUnknown || q.Zones != "" || q.VCPUs != 0) {
			t.Errorf("japaneast has no SKUs, yet %+v", q)
		}
	}
	if got := stocks["japaneast"]; got[price.StockUnknown] == 0 || len(got) != 1 {
		t.Errorf("japaneast stocks %v, want all unknown", got)
	}
	for _, q := range snap.Quotes {
		if q.Region != "swedencentral" {
			continue
		}
		want := price.StockAvailable
		if q.InstanceType == "Standard_ND96isr_H200_v5" {
			want = price.StockNone // restricted
		}
		if q.Stock != want {
			t.Errorf("%s %s: stock %q, want %q", q.InstanceType, q.PricingModel, q.Stock, want)
		}
		if q.InstanceType == "Standard_ND96isr_MI300X_v5" && (q.GPUCount != 8 || q.Zones != "1") {
			t.Errorf("MI300X (no GPUs capability): %v GPUs, zones %v; want the catalog's 8 and zone 1", q.GPUCount, q.Zones)
		}
	}
}

// TestResourceSKUsFailureKeepsPrices: whatever goes wrong with Resource
// SKUs, the prices are published as without them, stock unknown.
func TestResourceSKUsFailureKeepsPrices(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault fakecloud.FaultKind
		token string
	}{
		{"5xx", fakecloud.Status5xx, fakecloud.AzureDemoToken},
		{"429", fakecloud.TooManyRequests, fakecloud.AzureDemoToken},
		{"truncated", fakecloud.Truncate, fakecloud.AzureDemoToken},
		{"wrong types", fakecloud.WrongTypes, fakecloud.AzureDemoToken},
		{"endless pages", fakecloud.EndlessPages, fakecloud.AzureDemoToken},
		{"empty", fakecloud.Empty, fakecloud.AzureDemoToken},
		{"token refused", "", "expired-token"},
		// The error body repeats the request, bearer token included.
		{"request echoed", fakecloud.EchoRequest, fakecloud.AzureDemoToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakecloud.NewAzure(fakecloud.AzureOptions{})
			if tc.fault != "" {
				fake.SKUFaults.Add(fakecloud.Fault{Kind: tc.fault, RetryAfter: time.Millisecond})
			}
			r := newSKURig(t, fake, []string{"westus3"}, tc.token)
			r.c.skus.maxPages = 4
			var logs strings.Builder
			r.c.skus.logger = slog.New(slog.NewTextHandler(&logs, nil))
			snap, err := r.c.Collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(snap.Quotes, westus3) {
				t.Errorf("quotes:\n%s\nwant the prices alone:\n%s", dump(snap.Quotes), dump(westus3))
			}
			if failed := strings.Contains(logs.String(), "reading Azure Resource SKUs failed"); failed == (tc.fault == fakecloud.Empty) {
				t.Errorf("warning logged: %v; log:\n%s", failed, logs.String())
			}
			if strings.Contains(logs.String(), fakecloud.AzureDemoToken) {
				t.Errorf("the bearer token is in the log:\n%s", logs.String())
			}
		})
	}
}

// TestResourceSKUsHang: a Resource Manager that never answers costs at
// most half of the refresh's timeout; the prices are published in time.
func TestResourceSKUsHang(t *testing.T) {
	fake := fakecloud.NewAzure(fakecloud.AzureOptions{})
	fake.SKUFaults.Add(fakecloud.Fault{Kind: fakecloud.Hang})
	r := newSKURig(t, fake, []string{"westus3"}, fakecloud.AzureDemoToken)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	snap, err := r.c.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap.Quotes, westus3) {
		t.Errorf("quotes:\n%s", dump(snap.Quotes))
	}
	if ctx.Err() != nil {
		t.Error("the refresh used up its whole timeout")
	}
}

// TestResourceSKUsCredentialError: without a credential the prices go on.
func TestResourceSKUsCredentialError(t *testing.T) {
	r := newSKURig(t, fakecloud.NewAzure(fakecloud.AzureOptions{}), []string{"westus3"}, "")
	r.c.skus.credential = func() (azcore.TokenCredential, error) { return nil, errors.New("no credential here") }
	snap, err := r.c.Collect(context.Background())
	if err != nil || !reflect.DeepEqual(snap.Quotes, westus3) || r.skuCalls.Load() != 0 {
		t.Errorf("err %v, %d SKU calls, quotes:\n%s", err, r.skuCalls.Load(), dump(snap.Quotes))
	}
}

// TestResourceSKUsCache: SKUs are read every sku_refresh, not at every
// price refresh; a failed read keeps the last good SKUs for a day, then
// leaves stock unknown, and is tried again at the next refresh.
func TestResourceSKUsCache(t *testing.T) {
	fake := fakecloud.NewAzure(fakecloud.AzureOptions{})
	r := newSKURig(t, fake, []string{"westus3"}, fakecloud.AzureDemoToken)
	collect := func(step string, wantCalls int64, want []price.Quote) {
		t.Helper()
		before := r.skuCalls.Load()
		snap, err := r.c.Collect(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got := r.skuCalls.Load() - before; got != wantCalls {
			t.Errorf("%s: %d Resource SKUs requests, want %d", step, got, wantCalls)
		}
		if !reflect.DeepEqual(snap.Quotes, want) {
			t.Errorf("%s: quotes:\n%s", step, dump(snap.Quotes))
		}
	}
	collect("first refresh", 2, withSKUs())
	r.now = r.now.Add(time.Hour)
	collect("an hour later", 0, withSKUs())
	r.now = r.now.Add(5 * time.Hour)
	collect("six hours later", 2, withSKUs())

	fake.SKUFaults.Add(fakecloud.Fault{Kind: fakecloud.Status5xx}) // every request
	r.now = r.now.Add(6 * time.Hour)
	collect("failing, 6h after the last read", 2, withSKUs()) // one try and one retry of page 1
	r.now = r.now.Add(time.Hour)
	collect("failing, tried again", 2, withSKUs())
	r.now = r.now.Add(17 * time.Hour)
	collect("failing, a day after the last read", 2, westus3)

	fake.SKUFaults.Clear()
	r.now = r.now.Add(time.Hour)
	collect("answering again", 2, withSKUs())
}

// TestSKUInfoOf reads what one SKU says of a region.
func TestSKUInfoOf(t *testing.T) {
	restriction := func(typ armcompute.ResourceSKURestrictionsType, reason armcompute.ResourceSKURestrictionsReasonCode, values []string, zones ...string) *armcompute.ResourceSKURestrictions {
		r := &armcompute.ResourceSKURestrictions{Type: &typ, ReasonCode: &reason, Values: to.SliceOfPtrs(values...)}
		if typ == armcompute.ResourceSKURestrictionsTypeZone {
			r.RestrictionInfo = &armcompute.ResourceSKURestrictionInfo{Locations: to.SliceOfPtrs(values...), Zones: to.SliceOfPtrs(zones...)}
		}
		return r
	}
	sku := func(location string, zones []string, caps map[string]string, rs ...*armcompute.ResourceSKURestrictions) *armcompute.ResourceSKU {
		s := &armcompute.ResourceSKU{
			Name: to.Ptr("Standard_ND96isr_H100_v5"), ResourceType: to.Ptr("virtualMachines"),
			Locations:    []*string{&location},
			LocationInfo: []*armcompute.ResourceSKULocationInfo{{Location: &location, Zones: to.SliceOfPtrs(zones...)}},
			Restrictions: rs,
		}
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range caps {
				if !yield(k) {
					return
				}
			}
		}) {
			s.Capabilities = append(s.Capabilities, &armcompute.ResourceSKUCapabilities{Name: to.Ptr(k), Value: to.Ptr(caps[k])})
		}
		return s
	}
	loc, zone := armcompute.ResourceSKURestrictionsTypeLocation, armcompute.ResourceSKURestrictionsTypeZone
	notAvail, quota := armcompute.ResourceSKURestrictionsReasonCodeNotAvailableForSubscription, armcompute.ResourceSKURestrictionsReasonCodeQuotaID
	full := map[string]string{"GPUs": "8", "vCPUs": "96", "MemoryGB": "1900", "MaxNetworkInterfaces": "8"}
	for _, tc := range []struct {
		name string
		sku  *armcompute.ResourceSKU
		want *skuInfo
	}{
		{"offered", sku("WestUS3", []string{"2", "1"}, full), &skuInfo{gpus: 8, vcpus: 96, memoryGB: 1900, zones: []string{"1", "2"}}},
		{"another region", sku("eastus", []string{"1"}, full), nil},
		{"no zones", sku("westus3", nil, full), &skuInfo{gpus: 8, vcpus: 96, memoryGB: 1900}},
		{"no GPUs capability", sku("westus3", nil, map[string]string{"vCPUs": "96"}), &skuInfo{vcpus: 96}},
		{"unreadable capabilities", sku("westus3", nil, map[string]string{"GPUs": "eight", "vCPUs": "-4", "MemoryGB": ""}), &skuInfo{}},
		{"restricted here", sku("westus3", []string{"1"}, full, restriction(loc, notAvail, []string{"westus3"})),
			&skuInfo{gpus: 8, vcpus: 96, memoryGB: 1900, zones: []string{"1"}, restricted: true}},
		{"restricted by offer type", sku("westus3", nil, full, restriction(loc, quota, []string{"WestUS3"})),
			&skuInfo{gpus: 8, vcpus: 96, memoryGB: 1900, restricted: true}},
		{"restricted elsewhere", sku("westus3", nil, full, restriction(loc, notAvail, []string{"eastus"})),
			&skuInfo{gpus: 8, vcpus: 96, memoryGB: 1900}},
		{"zones restricted", sku("westus3", []string{"1", "2", "3"}, full, restriction(zone, notAvail, []string{"westus3"}, "1", "3")),
			&skuInfo{gpus: 8, vcpus: 96, memoryGB: 1900, zones: []string{"2"}}},
		{"every zone restricted: still deployable without a zone", sku("westus3", []string{"1"}, full, restriction(zone, notAvail, []string{"westus3"}, "1")),
			&skuInfo{gpus: 8, vcpus: 96, memoryGB: 1900}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := skuInfoOf(tc.sku, "westus3"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestApply: stock is available, none or unknown, never none for want of
// an answer.
func TestApply(t *testing.T) {
	base := quote("Standard_ND96isr_H100_v5", price.OnDemand, 98.32, "H100", "sxm", 80, 8)
	frac := quote("Standard_NV6ads_A10_v5", price.OnDemand, 0.454, "A10", "pcie", 24, 0.1667)
	unknown := quote("Standard_NC8ads_A10_v4", price.OnDemand, 0.88, price.Unknown, "", 0, 1)
	at := time.Now()
	for _, tc := range []struct {
		name      string
		q         price.Quote
		skus      map[string]*regionSKUs
		stock     price.Stock
		gpus      float64
		vcpus     float64
		wantZones string
	}{
		{"no SKUs for the region", base, map[string]*regionSKUs{}, price.StockUnknown, 8, 0, ""},
		{"region answered without VMs", base, map[string]*regionSKUs{"westus3": {at: at}}, price.StockUnknown, 8, 0, ""},
		{"size not listed in the region", base, map[string]*regionSKUs{"westus3": {sizes: map[string]*skuInfo{}, at: at}}, price.StockNone, 8, 0, ""},
		{"offered", base, map[string]*regionSKUs{"westus3": {sizes: map[string]*skuInfo{
			"standard_nd96isr_h100_v5": {gpus: 8, vcpus: 96, zones: []string{"1"}}}, at: at}}, price.StockAvailable, 8, 96, "1"},
		{"restricted", base, map[string]*regionSKUs{"westus3": {sizes: map[string]*skuInfo{
			"standard_nd96isr_h100_v5": {gpus: 8, restricted: true}}, at: at}}, price.StockNone, 8, 0, ""},
		{"a count the catalog knows stays (the series key)", base, map[string]*regionSKUs{"westus3": {sizes: map[string]*skuInfo{
			"standard_nd96isr_h100_v5": {gpus: 4}}, at: at}}, price.StockAvailable, 8, 0, ""},
		{"partition keeps its fraction", frac, map[string]*regionSKUs{"westus3": {sizes: map[string]*skuInfo{
			"standard_nv6ads_a10_v5": {gpus: 1}}, at: at}}, price.StockAvailable, 0.1667, 0, ""},
		{"unknown size gets the SKU's count", unknown, map[string]*regionSKUs{"westus3": {sizes: map[string]*skuInfo{
			"standard_nc8ads_a10_v4": {gpus: 2}}, at: at}}, price.StockAvailable, 2, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			qs := []price.Quote{tc.q}
			apply(qs, tc.skus, slog.New(slog.DiscardHandler))
			q := qs[0]
			if q.Stock != tc.stock || q.GPUCount != tc.gpus || q.VCPUs != tc.vcpus || q.Zones != tc.wantZones {
				t.Errorf("stock %q, %v GPUs, %v vCPUs, zones %v; want %q, %v, %v, %v", q.Stock, q.GPUCount, q.VCPUs, q.Zones,
					tc.stock, tc.gpus, tc.vcpus, tc.wantZones)
			}
		})
	}
}

// TestServicePrincipal takes the daemon's own path: a service principal
// from the configuration, azidentity's ClientSecretCredential asking the
// fake's Microsoft Entra ID for a token, then Resource SKUs with it. A
// wrong secret leaves stock unknown, and the secret is in no log line.
func TestServicePrincipal(t *testing.T) {
	for _, tc := range []struct {
		name, secret string
		want         []price.Quote
	}{
		{"accepted", fakecloud.AzureDemoClientSecret, withSKUs()},
		{"refused", "wrong~secret.value-1234", westus3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakecloud.NewAzure(fakecloud.AzureOptions{})
			srv := startTLS(t, fake)
			cfg := config.Default()
			s := cfg.Providers[Name].(*Config)
			s.Endpoint, s.Regions = srv.URL+fakecloud.AzurePath, []string{"westus3"}
			s.SubscriptionID, s.ARMEndpoint, s.AuthorityHost = fakecloud.AzureDemoSubscription, srv.URL, srv.URL
			s.TenantID, s.ClientID, s.ClientSecret = fakecloud.AzureDemoTenant, fakecloud.AzureDemoClientID, config.Secret(tc.secret)
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			var logs strings.Builder
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			client := collectortest.FastClient(collectors.HTTPOptions{Base: srv.Client().Transport, MaxRetries: 1})
			c, err := collectors.New(Name, cfg, collectors.Env{HTTPClient: client, Catalog: testCatalog(t), Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			snap, err := c.Collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(snap.Quotes, tc.want) {
				t.Errorf("quotes:\n%s\nlog:\n%s", dump(snap.Quotes), logs.String())
			}
			if strings.Contains(logs.String(), tc.secret) {
				t.Errorf("the client secret is in the log:\n%s", logs.String())
			}
			if tc.name == "refused" && !strings.Contains(logs.String(), "reading Azure Resource SKUs failed") {
				t.Errorf("no warning logged:\n%s", logs.String())
			}
		})
	}
}
