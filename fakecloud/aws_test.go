package fakecloud

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

var awsT0 = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

func awsFake(opts AWSOptions) *AWS {
	if opts.Now == nil {
		opts.Now = func() time.Time { return awsT0 }
	}
	return NewAWS(opts)
}

// ec2Call sends an EC2 Query request signed (in form only) for region.
func ec2Call(t *testing.T, h http.Handler, region string, form url.Values) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if region != "" {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260615/"+region+
			"/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0123")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

type ec2ErrorXML struct {
	Code    string `xml:"Errors>Error>Code"`
	Message string `xml:"Errors>Error>Message"`
}

type spotPageXML struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeSpotPriceHistoryResponse"`
	Items   []struct {
		Zone      string `xml:"availabilityZone"`
		Type      string `xml:"instanceType"`
		Product   string `xml:"productDescription"`
		Price     string `xml:"spotPrice"`
		Timestamp string `xml:"timestamp"`
	} `xml:"spotPriceHistorySet>item"`
	NextToken string `xml:"nextToken"`
}

func TestAWSEC2Errors(t *testing.T) {
	base := url.Values{"Action": {"DescribeInstanceTypes"}, "Version": {"2016-11-15"}}
	for _, tc := range []struct {
		name, region string
		form         url.Values
		fault        FaultKind
		status       int
		code         string
	}{
		{name: "unsigned", form: base, status: 401, code: "AuthFailure"},
		{name: "region not opted in", region: "af-south-1", form: base, status: 401, code: "AuthFailure"},
		{name: "old API version", region: "us-east-1", form: url.Values{"Action": {"DescribeRegions"}, "Version": {"2014-10-01"}}, status: 400, code: "InvalidParameterValue"},
		{name: "unknown action", region: "us-east-1", form: url.Values{"Action": {"RunInstances"}, "Version": {"2016-11-15"}}, status: 400, code: "InvalidAction"},
		{name: "bad token", region: "us-east-1", form: url.Values{"Action": {"DescribeSpotPriceHistory"}, "Version": {"2016-11-15"}, "NextToken": {"nope"}}, status: 400, code: "InvalidNextToken"},
		{name: "throttled", region: "us-east-1", form: base, fault: AWSThrottle, status: 503, code: "RequestLimitExceeded"},
		{name: "5xx", region: "us-east-1", form: base, fault: Status5xx, status: 503, code: "Unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := awsFake(AWSOptions{})
			if tc.fault != "" {
				f.EC2Faults.Add(Fault{Kind: tc.fault, Times: 1})
			}
			status, body := ec2Call(t, f, tc.region, tc.form)
			var e ec2ErrorXML
			if err := xml.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("not the EC2 error envelope: %v: %s", err, body)
			}
			if status != tc.status || e.Code != tc.code || e.Message == "" || !strings.Contains(body, "<RequestID>") {
				t.Errorf("HTTP %d %s %q, want HTTP %d %s: %s", status, e.Code, e.Message, tc.status, tc.code, body)
			}
		})
	}
}

func TestAWSDescribeRegions(t *testing.T) {
	f := awsFake(AWSOptions{})
	for _, tc := range []struct {
		name string
		form url.Values
		want int
	}{
		{"enabled regions", url.Values{}, 20},
		{"all regions", url.Values{"AllRegions": {"true"}}, 23},
		{"by name", url.Values{"RegionName.1": {"eu-west-1"}, "RegionName.2": {"ap-east-1"}}, 2},
		{"opted in", url.Values{"Filter.1.Name": {"opt-in-status"}, "Filter.1.Value.1": {"opted-in"}}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("Action", "DescribeRegions")
			tc.form.Set("Version", "2016-11-15")
			status, body := ec2Call(t, f, "us-east-1", tc.form)
			var r struct {
				Regions []struct {
					Name, Endpoint, OptIn string
				} `xml:"regionInfo>item"`
			}
			if err := xml.Unmarshal([]byte(body), &r); err != nil || status != 200 {
				t.Fatalf("HTTP %d %v: %s", status, err, body)
			}
			if len(r.Regions) != tc.want {
				t.Errorf("%d regions, want %d", len(r.Regions), tc.want)
			}
		})
	}
}

func TestAWSDescribeInstanceTypesPages(t *testing.T) {
	f := awsFake(AWSOptions{InstanceTypePageSize: 25})
	form := url.Values{"Action": {"DescribeInstanceTypes"}, "Version": {"2016-11-15"},
		"Filter.1.Name": {"instance-type"}, "Filter.1.Value.1": {"p*"}, "Filter.1.Value.2": {"g*"}}
	seen := map[string]bool{}
	pages := 0
	for {
		status, body := ec2Call(t, f, "us-east-1", form)
		var p struct {
			Types []struct {
				Name string `xml:"instanceType"`
			} `xml:"instanceTypeSet>item"`
			NextToken string `xml:"nextToken"`
		}
		if err := xml.Unmarshal([]byte(body), &p); err != nil || status != 200 {
			t.Fatalf("HTTP %d %v: %.300s", status, err, body)
		}
		pages++
		for _, it := range p.Types {
			if seen[it.Name] {
				t.Errorf("%s listed twice", it.Name)
			}
			seen[it.Name] = true
		}
		if p.NextToken == "" {
			break
		}
		form.Set("NextToken", p.NextToken)
	}
	if len(seen) != AWSGPUTypeCount() || pages != 3 || seen["m7i.large"] {
		t.Errorf("%d types in %d pages, want the %d GPU types in 3 pages of 25", len(seen), pages, AWSGPUTypeCount())
	}
}

// TestAWSSpotPaging walks one zone's history in small pages and checks it
// against SpotHistory: every change once, the one in effect at StartTime
// included, in the 2016-11-15 namespace.
func TestAWSSpotPaging(t *testing.T) {
	f := awsFake(AWSOptions{SpotPageSize: 7})
	start := awsT0.Add(-3 * 24 * time.Hour)
	form := url.Values{"Action": {"DescribeSpotPriceHistory"}, "Version": {"2016-11-15"},
		"InstanceType.1": {"g5.xlarge"}, "InstanceType.2": {"p5.48xlarge"}, "ProductDescription.1": {"Linux/UNIX"},
		"AvailabilityZone": {"us-east-1a"}, "StartTime": {start.Format(time.RFC3339)}}
	got := map[string][]SpotChange{}
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		status, body := ec2Call(t, f, "us-east-1", form)
		var p spotPageXML
		if err := xml.Unmarshal([]byte(body), &p); err != nil || status != 200 {
			t.Fatalf("HTTP %d %v: %.300s", status, err, body)
		}
		if len(p.Items) > 7 {
			t.Fatalf("%d items in a page of 7", len(p.Items))
		}
		for _, it := range p.Items {
			ts, err := time.Parse(time.RFC3339, it.Timestamp)
			// Prices are decimal strings with 6 decimals, as EC2 sends.
			if err != nil || it.Zone != "us-east-1a" || it.Product != "Linux/UNIX" || strings.Index(it.Price, ".") != len(it.Price)-7 {
				t.Fatalf("bad item %+v", it)
			}
			var usd float64
			json.Unmarshal([]byte(it.Price), &usd)
			got[it.Type] = append(got[it.Type], SpotChange{ts, usd})
		}
		if p.NextToken == "" {
			break
		}
		form.Set("NextToken", p.NextToken)
	}
	for _, typ := range []string{"g5.xlarge", "p5.48xlarge"} {
		want := f.SpotHistory("us-east-1a", typ, start, awsT0)
		g := got[typ]
		if len(g) != len(want) || len(want) < 5 {
			t.Fatalf("%s: %d items, want %d (3 days of changes and the one in effect at StartTime)", typ, len(g), len(want))
		}
		for i := range want { // the fake answers newest first
			w := want[len(want)-1-i]
			if !g[i].Time.Equal(w.Time) || g[i].USD != w.USD {
				t.Errorf("%s item %d = %+v, want %+v", typ, i, g[i], w)
			}
		}
		if !want[0].Time.Before(start) && !want[0].Time.Equal(start) {
			t.Errorf("%s: first change %s is not the one in effect at %s", typ, want[0].Time, start)
		}
	}
}

func TestAWSSpotHistoryGrowsWithTheClock(t *testing.T) {
	now := awsT0
	f := awsFake(AWSOptions{Now: func() time.Time { return now }})
	before := f.SpotHistory("eu-west-1a", "g5.xlarge", awsT0.Add(-48*time.Hour), awsT0)
	now = awsT0.Add(24 * time.Hour)
	after := f.SpotHistory("eu-west-1a", "g5.xlarge", awsT0.Add(-48*time.Hour), now)
	if len(after) <= len(before) {
		t.Fatalf("a day later: %d changes, before %d", len(after), len(before))
	}
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("history changed: %+v became %+v", before[i], after[i])
		}
	}
	repeats := 0
	for i := 1; i < len(after); i++ {
		if after[i].USD == after[i-1].USD {
			repeats++
		}
		if !after[i].Time.After(after[i-1].Time) {
			t.Fatalf("changes out of order at %d", i)
		}
	}
	full := f.SpotHistory("us-east-1a", "g5.xlarge", awsT0.Add(-90*24*time.Hour), awsT0)
	for i := 1; i < len(full); i++ {
		if full[i].USD == full[i-1].USD {
			repeats++
		}
	}
	if repeats == 0 {
		t.Error("no repeated price in 90 days: real history has some")
	}
}

func pricingCall(t *testing.T, h http.Handler, target, body string) (int, http.Header, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260615/us-east-1/pricing/aws4_request, SignedHeaders=host, Signature=0")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.String()
}

func TestAWSGetProducts(t *testing.T) {
	f := awsFake(AWSOptions{PricingPageSize: 10})
	body := `{"ServiceCode":"AmazonEC2","FormatVersion":"aws_v1","MaxResults":100,"Filters":[` +
		`{"Type":"TERM_MATCH","Field":"instanceType","Value":"p5.48xlarge"},` +
		`{"Type":"TERM_MATCH","Field":"operatingSystem","Value":"Linux"},` +
		`{"Type":"TERM_MATCH","Field":"tenancy","Value":"Shared"},` +
		`{"Type":"TERM_MATCH","Field":"preInstalledSw","Value":"NA"},` +
		`{"Type":"TERM_MATCH","Field":"capacitystatus","Value":"Used"}]`
	regions := map[string]string{}
	token := ""
	for pages := 0; ; pages++ {
		b := body
		if token != "" {
			b += `,"NextToken":"` + token + `"`
		}
		status, _, out := pricingCall(t, f, "AWSPriceListService.GetProducts", b+"}")
		var page struct {
			PriceList []string
			NextToken string
		}
		if err := json.Unmarshal([]byte(out), &page); err != nil || status != 200 {
			t.Fatalf("HTTP %d %v: %.300s", status, err, out)
		}
		for _, item := range page.PriceList {
			var p awsProduct
			if err := json.Unmarshal([]byte(item), &p); err != nil {
				t.Fatalf("PriceList item is not a JSON document in a string: %v", err)
			}
			if p.Product.Attributes["marketoption"] != "OnDemand" {
				continue // a Capacity Block: Linux, shared, Used, and no on-demand price
			}
			for _, term := range p.Terms["OnDemand"] {
				for _, d := range term.PriceDimensions {
					regions[p.Product.Attributes["regionCode"]] = d.PricePerUnit["USD"]
				}
			}
		}
		if page.NextToken == "" {
			break
		}
		token = page.NextToken
	}
	if regions["us-east-1"] != "55.0400000000" || len(regions) < 5 {
		t.Errorf("p5.48xlarge on-demand: %v; want 55.04 in us-east-1 and a few other regions", regions)
	}

	for _, tc := range []struct {
		name, target, body string
		fault              FaultKind
		status             int
		typ                string
	}{
		{"throttled", "AWSPriceListService.GetProducts", `{"ServiceCode":"AmazonEC2"}`, AWSThrottle, 400, "ThrottlingException"},
		{"unknown operation", "AWSPriceListService.Nope", `{}`, "", 400, "UnknownOperationException"},
		{"no service code", "AWSPriceListService.GetProducts", `{}`, "", 400, "ValidationException"},
		{"page too large", "AWSPriceListService.GetProducts", `{"ServiceCode":"AmazonEC2","MaxResults":500}`, "", 400, "InvalidParameterException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault != "" {
				f.PricingFaults.Add(Fault{Kind: tc.fault, Times: 1})
			}
			status, hdr, out := pricingCall(t, f, tc.target, tc.body)
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			json.Unmarshal([]byte(out), &e)
			if status != tc.status || e.Type != tc.typ || hdr.Get("X-Amzn-ErrorType") != tc.typ {
				t.Errorf("HTTP %d %q (header %q), want HTTP %d %s: %s", status, e.Type, hdr.Get("X-Amzn-ErrorType"), tc.status, tc.typ, out)
			}
		})
	}
}

func TestAWSOfferFile(t *testing.T) {
	f := awsFake(AWSOptions{OfferPadding: 100})
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, AWSOfferPath+"/us-east-1/index.csv", nil))
	if rec.Code != 200 {
		t.Fatalf("HTTP %d", rec.Code)
	}
	sc := bufio.NewScanner(rec.Body)
	lines := 0
	var header string
	ondemand := 0
	for sc.Scan() {
		lines++
		switch {
		case lines == 1 && sc.Text() != `"FormatVersion","v1.0"`:
			t.Fatalf("first line %q", sc.Text())
		case lines == 6:
			header = sc.Text()
		case lines > 6 && strings.Split(sc.Text(), `","`)[3] == "OnDemand" && strings.Contains(sc.Text(), `"p5.48xlarge"`) &&
			strings.Contains(sc.Text(), `"Linux"`) && strings.Contains(sc.Text(), `"Shared"`) && strings.Contains(sc.Text(), `"Used"`) &&
			strings.Contains(sc.Text(), `"OnDemand","NA","us-east-1"`):
			ondemand++
		}
	}
	if !strings.HasPrefix(header, `"SKU","OfferTermCode","RateCode","TermType"`) || ondemand != 1 || lines < 100+6 {
		t.Errorf("header %q, %d plain on-demand p5.48xlarge rows, %d lines", header, ondemand, lines)
	}
	rec = httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, AWSOfferPath+"/xx-nowhere-1/index.csv", nil))
	if rec.Code != http.StatusForbidden {
		t.Errorf("unknown region: HTTP %d, want S3's 403", rec.Code)
	}
}
