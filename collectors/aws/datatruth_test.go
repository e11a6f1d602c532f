package aws

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

// priceListItem is a PriceList item of p5.48xlarge in us-east-1 with the
// attributes of a plain Linux on-demand row changed by attrs, an
// OnDemand term priced od (none when od is ""), and an All Upfront
// Reserved term, whose hour costs $0.0000000000.
func priceListItem(attrs map[string]string, od, unit string) string {
	at := map[string]string{
		"instanceType": "p5.48xlarge", "regionCode": "us-east-1", "operatingSystem": "Linux", "tenancy": "Shared",
		"preInstalledSw": "NA", "capacitystatus": "Used", "licenseModel": "No License required",
		"marketoption": "OnDemand", "operation": "RunInstances", "usagetype": "BoxUsage:p5.48xlarge",
	}
	for k, v := range attrs {
		at[k] = v
	}
	terms := map[string]any{"Reserved": map[string]any{"SKU.6QCMYABX3D": map[string]any{"priceDimensions": map[string]any{
		"SKU.6QCMYABX3D.6YS6EN2CT7": map[string]any{"unit": "Hrs", "pricePerUnit": map[string]string{"USD": "0.0000000000"}},
		"SKU.6QCMYABX3D.2TG2D8R56U": map[string]any{"unit": "Quantity", "pricePerUnit": map[string]string{"USD": "289290"}},
	}}}}
	if od != "" {
		terms["OnDemand"] = map[string]any{"SKU.JRTCKXETXF": map[string]any{"priceDimensions": map[string]any{
			"SKU.JRTCKXETXF.6YS6EN2CT7": map[string]any{"unit": unit, "pricePerUnit": map[string]string{"USD": od}},
		}}}
	}
	b, _ := json.Marshal(map[string]any{"product": map[string]any{"attributes": at}, "terms": terms})
	return string(b)
}

// TestOnDemandPriceIgnoresOtherRows: of the rows the Price List holds for
// an instance type, only the plain Linux on-demand row gives a price,
// even when the API filtered less than asked.
func TestOnDemandPriceIgnoresOtherRows(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs map[string]string
		od    string
		unit  string
		want  float64 // 0: no on-demand price
	}{
		{name: "plain Linux on demand", want: 55.04},
		{name: "Capacity Block", attrs: map[string]string{"marketoption": "CapacityBlock", "usagetype": "CapacityBlock:p5.48xlarge"}, od: "31.4640000000"},
		{name: "another market option", attrs: map[string]string{"marketoption": "Spot"}, od: "20.0000000000"},
		{name: "dedicated tenancy", attrs: map[string]string{"tenancy": "Dedicated"}, od: "60.5440000000"},
		{name: "dedicated host, $0", attrs: map[string]string{"tenancy": "Host"}, od: "0.0000000000"},
		{name: "Windows", attrs: map[string]string{"operatingSystem": "Windows", "operation": "RunInstances:0002"}, od: "63.8720000000"},
		{name: "Windows BYOL", attrs: map[string]string{"operatingSystem": "Windows", "licenseModel": "Bring your own license"}, od: "55.0400000000"},
		{name: "BYOL on Linux", attrs: map[string]string{"licenseModel": "Bring your own license"}, od: "50.0000000000"},
		{name: "RHEL", attrs: map[string]string{"operatingSystem": "RHEL"}, od: "55.1700000000"},
		{name: "SUSE", attrs: map[string]string{"operatingSystem": "SUSE"}, od: "55.1650000000"},
		{name: "RHEL with HA", attrs: map[string]string{"operatingSystem": "Red Hat Enterprise Linux with HA"}, od: "55.2000000000"},
		{name: "SQL Web", attrs: map[string]string{"preInstalledSw": "SQL Web"}, od: "56.0000000000"},
		{name: "SQL Enterprise", attrs: map[string]string{"preInstalledSw": "SQL Ent"}, od: "130.0000000000"},
		{name: "Unused Reservation", attrs: map[string]string{"capacitystatus": "UnusedCapacityReservation"}, od: "55.0400000000"},
		{name: "allocated reservation, $0", attrs: map[string]string{"capacitystatus": "AllocatedCapacityReservation"}, od: "0.0000000000"},
		{name: "$0.0000000000 plain row", od: "0.0000000000"},
		{name: "Reserved terms only (All Upfront: $0 an hour)", od: "-"},
		{name: "not an hourly price", od: "55.0400000000", unit: "Quantity"},
		{name: "another instance type", attrs: map[string]string{"instanceType": "p5e.48xlarge"}, od: "58.0000000000"},
		{name: "no region", attrs: map[string]string{"regionCode": ""}, od: "55.0400000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			od, unit := tc.od, tc.unit
			switch od {
			case "":
				od = "55.0400000000"
			case "-":
				od = ""
			}
			if unit == "" {
				unit = "Hrs"
			}
			region, usd, ok, err := onDemandPrice(priceListItem(tc.attrs, od, unit), "p5.48xlarge")
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == 0 && ok {
				t.Errorf("priced %v in %s: this row is not the on-demand price", usd, region)
			}
			if tc.want != 0 && (!ok || usd != tc.want || region != "us-east-1") {
				t.Errorf("got %v in %q (ok %v), want %v in us-east-1", usd, region, ok, tc.want)
			}
		})
	}
}

// usEast1OnDemand are the fake's plain Linux on-demand list prices in
// us-east-1 of the small world the tests below use.
var usEast1OnDemand = map[string]float64{"p5.48xlarge": 55.04, "g5.xlarge": 1.006, "g6f.large": 0.2}

var smallWorld = []string{"p5.48xlarge", "g5.xlarge", "g6f.large"}

// TestNaiveRowsNeverReachOnDemand: the fake lists every instance type in
// the row families that trip naive parsers (Capacity Blocks cheaper than
// on demand, other tenancies, operating systems, software and licences,
// Unused Reservation, $0.0000000000 rows); from the Price List, from a
// Price List that filters nothing, and from the offer files alike, the
// on-demand price exported is the plain Linux one.
func TestNaiveRowsNeverReachOnDemand(t *testing.T) {
	for _, tc := range []struct {
		name   string
		source string
		loose  bool
	}{
		{"price list", OnDemandPriceList, false},
		{"price list that filters nothing", OnDemandPriceList, true},
		{"offer files", OnDemandBulk, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock(t0)
			_, url := startFake(t, fakecloud.AWSOptions{Now: clk.Now, InstanceTypes: smallWorld, PricingLoose: tc.loose})
			cfg := testConfig(url, "us-east-1")
			cfg.OnDemandSource = tc.source
			snap, err := newTestCollector(t, cfg, nil, clk, nil).Collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, q := range snap.Quotes {
				if q.PricingModel == price.OnDemand {
					if _, dup := got[q.InstanceType]; dup {
						t.Errorf("%s: two on-demand quotes", q.InstanceType)
					}
					got[q.InstanceType] = q.USDPerHour
				}
			}
			for it, want := range usEast1OnDemand {
				if got[it] != want {
					t.Errorf("%s on demand: %v, want the plain Linux price %v", it, got[it], want)
				}
			}
			if len(got) != len(usEast1OnDemand) || len(snap.Skipped) != 0 {
				t.Errorf("on-demand quotes %v, skipped %v; want exactly %v, nothing skipped", got, snap.Skipped, usEast1OnDemand)
			}
		})
	}
}

// TestFakeListsNaiveBreakers reads the fake's offer file the naive way,
// every OnDemand hourly price of p5.48xlarge: it holds the Capacity Block
// price, cheaper than on demand, and $0.0000000000 rows, so a parser that
// took the lowest would be wrong.
func TestFakeListsNaiveBreakers(t *testing.T) {
	f := fakecloud.NewAWS(fakecloud.AWSOptions{Now: newClock(t0).Now, InstanceTypes: smallWorld})
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, fakecloud.AWSOfferPath+"/us-east-1/index.csv", nil))
	sc := bufio.NewScanner(rec.Body)
	var prices []float64
	markets, tenancies, systems := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var cols []string
	col := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		fields := splitCSV(sc.Bytes(), nil)
		if n == 6 {
			for i, f := range fields {
				col[string(f)] = i
				cols = append(cols, string(f))
			}
			continue
		}
		if n < 6 || string(fields[col["Instance Type"]]) != "p5.48xlarge" || string(fields[col["TermType"]]) != "OnDemand" {
			continue
		}
		v, _ := strconv.ParseFloat(string(fields[col["PricePerUnit"]]), 64)
		prices = append(prices, v)
		markets[string(fields[col["MarketOption"]])] = true
		tenancies[string(fields[col["Tenancy"]])] = true
		systems[string(fields[col["Operating System"]])] = true
	}
	slices.Sort(prices)
	if len(prices) < 10 || prices[0] != 0 || !slices.Contains(prices, 31.3728) || !markets["CapacityBlock"] ||
		!tenancies["Host"] || !tenancies["Dedicated"] || !systems["RHEL"] || !systems["SUSE"] || !systems["Windows"] {
		t.Errorf("on-demand rows of p5.48xlarge: prices %v, market options %v, tenancies %v, systems %v", prices, markets, tenancies, systems)
	}
}

// corrupting serves fake, replacing the first old in each answer of the
// given kind ("pricing", "offers", "ec2") with new.
type corrupting struct {
	fake     http.Handler
	kind     string
	old, new string
}

func (c corrupting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := "ec2"
	switch {
	case strings.HasPrefix(r.URL.Path, fakecloud.AWSOfferPath):
		kind = "offers"
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AWSPriceListService."):
		kind = "pricing"
	}
	if kind != c.kind {
		c.fake.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	c.fake.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	io.WriteString(w, strings.Replace(rec.Body.String(), c.old, c.new, 1))
}

// TestBadRowsAreSkippedAndCounted: one unreadable price in a Price List
// page, an offer file or a spot history page costs that row only: it is
// counted, and the other rows are priced.
func TestBadRowsAreSkippedAndCounted(t *testing.T) {
	for _, tc := range []struct {
		name, kind, old, new string
		source               string
	}{
		// The first item of p5.48xlarge's walk: its price as a word.
		{"price list", "pricing", `{\"USD\":\"`, `{\"USD\":\"n/a`, OnDemandPriceList},
		{"offer file", "offers", `"Hrs","`, `"Hrs","n/a`, OnDemandBulk},
		{"spot history", "ec2", "<spotPrice>", "<spotPrice>n/a", OnDemandPriceList},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock(t0)
			fake := fakecloud.NewAWS(fakecloud.AWSOptions{Now: clk.Now, InstanceTypes: smallWorld})
			srv := httptest.NewServer(corrupting{fake, tc.kind, tc.old, tc.new})
			t.Cleanup(srv.Close)
			cfg := testConfig(srv.URL, "us-east-1", "us-west-2")
			cfg.OnDemandSource = tc.source
			snap, err := newTestCollector(t, cfg, nil, clk, nil).Collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n := snap.Skipped[price.SkippedInvalid]; n < 1 {
				t.Errorf("skipped %v, want the corrupted row counted", snap.Skipped)
			}
			od, spot := 0, 0
			for _, q := range snap.Quotes {
				if q.PricingModel == price.OnDemand {
					od++
				} else {
					spot++
				}
				if !(q.USDPerHour > 0) {
					t.Errorf("%s %s exported at %v", q.InstanceType, q.PricingModel, q.USDPerHour)
				}
			}
			if od < 3 || spot == 0 {
				t.Errorf("%d on-demand and %d spot quotes: the other rows must still be priced", od, spot)
			}
		})
	}
}
