package fakecloud

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// AWSOfferPath is where the fake serves the public EC2 offer files, as on
// pricing.us-east-1.amazonaws.com: <AWSOfferPath>/<region>/index.csv.
const AWSOfferPath = "/offers/v1.0/aws/AmazonEC2/current"

// AWSThrottle is the AWS fake's throttling fault: EC2 answers HTTP 503
// RequestLimitExceeded, the Price List HTTP 400 ThrottlingException, both
// in their protocol's error envelope.
const AWSThrottle FaultKind = "aws_throttle"

// ec2Namespace is the XML namespace of every EC2 answer.
const ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// awsSpotHistory is how far back DescribeSpotPriceHistory reaches.
const awsSpotHistory = 90 * 24 * time.Hour

// AWSOptions configures NewAWS. The zero value serves every region with
// three spot price changes per day and the real APIs' page sizes.
type AWSOptions struct {
	// Now is the fake's clock (default time.Now): spot history is
	// generated up to it, so a later Now has newer price changes.
	Now func() time.Time
	// ChangesPerDay is the mean number of spot price changes per instance
	// type and zone per day (default 3).
	ChangesPerDay float64
	// SpotPageSize caps spot history items per page (default and
	// maximum 1000, as MaxResults); InstanceTypePageSize caps
	// DescribeInstanceTypes (default and maximum 100); PricingPageSize
	// caps GetProducts (default and maximum 100).
	SpotPageSize, InstanceTypePageSize, PricingPageSize int
	// Regions, when set, restricts the account to these regions: the
	// others are unknown to it, like regions that do not exist.
	Regions []string
	// InstanceTypes, when set, restricts every region to the instance
	// types matching these patterns (* and ? as wildcards): small worlds
	// for fast tests.
	InstanceTypes []string
	// DeadRegions have endpoints that cut every connection, like a dead
	// regional endpoint.
	DeadRegions []string
	// Drift moves the on-demand prices over time (for the demo).
	Drift
	// OfferPadding adds this many CPU-only rows to every regional offer
	// file, to make it as large as the real ones.
	OfferPadding int
	// HugeBytes is the size of the body served for the Huge fault
	// (default 1 GiB).
	HugeBytes int64
	// PricingLoose makes GetProducts honour only its ServiceCode,
	// instanceType and regionCode filters, as if the API filtered less
	// than asked: every row of a type reaches the client, which must drop
	// the wrong ones itself.
	PricingLoose bool
}

// AWS is a fake of the three AWS price sources, on one server:
//
//   - EC2 (Query protocol: form-encoded POST, XML answers in the
//     2016-11-15 namespace, nextToken pagination, the EC2 error envelope):
//     DescribeRegions, DescribeInstanceTypes and DescribeSpotPriceHistory.
//     The region is the one of the request's SigV4 credential scope.
//     Not-opted-in regions answer AuthFailure.
//   - the Price List Query API (AWS JSON 1.1, X-Amz-Target
//     AWSPriceListService.GetProducts): PriceList items as JSON strings,
//     TERM_MATCH/EQUALS/CONTAINS filters, NextToken.
//   - the public offer files: GET <AWSOfferPath>/<region>/index.csv with
//     the 5 preamble rows, no credentials needed.
//
// Spot history is generated, not recorded: per instance type, zone and
// product description, a few changes a day at fixed pseudo-random times,
// with prices drifting around 22-72% of on-demand (about one change in
// ten repeats the previous price, as real history does). Each series is a
// pure function of its name and the clock, so pages are consistent and a
// later clock only adds changes.
//
// Every instance type is listed, in the Price List and the offer files, in
// the row families that make naive parsers pick a wrong price (see
// awsVariants): Linux, Windows, RHEL and SUSE; shared, dedicated and host
// tenancy; capacity status Used, UnusedCapacityReservation ("Unused
// Reservation") and AllocatedCapacityReservation; pre-installed SQL Server;
// Windows BYOL; Capacity Blocks (market option CapacityBlock, cheaper
// than on demand, on the p families); $0.0000000000 rows (host tenancy,
// allocated reservations, the hourly part of an All Upfront reservation).
// Only the Linux, shared, no-software, Used, OnDemand row is the price a
// user pays on demand.
//
// Faults: EC2Faults, PricingFaults and OfferFaults schedule the generic
// faults and AWSThrottle per API. WrongTypes sends unparseable timestamps
// and prices (EC2) or PriceList items that are objects or hold numbers
// (Price List); Empty, EndlessPages and Huge work as for the other fakes.
type AWS struct {
	EC2Faults     Faults
	PricingFaults Faults
	OfferFaults   Faults

	opts     AWSOptions
	slot     int64 // spot slot length in seconds
	ec2      http.Handler
	pricing  http.Handler
	offers   http.Handler
	regions  []*awsRegion
	types    []*awsType // the instance types of this fake's world
	deadMu   sync.RWMutex
	dead     map[string]bool
	callsMu  sync.Mutex
	calls    map[string]int
	wrongs   atomic.Uint64
	requests atomic.Uint64
	ids      atomic.Uint64 // request ids
}

// FaultQueue implements Faulty: the APIs are "ec2", "pricing" (the Price
// List) and "offers" (the bulk offer files).
func (a *AWS) FaultQueue(api string) *Faults {
	return map[string]*Faults{"ec2": &a.EC2Faults, "pricing": &a.PricingFaults, "offers": &a.OfferFaults}[api]
}

// NewAWS returns a fake AWS.
func NewAWS(opts AWSOptions) *AWS {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ChangesPerDay <= 0 {
		opts.ChangesPerDay = 3
	}
	if opts.SpotPageSize <= 0 || opts.SpotPageSize > 1000 {
		opts.SpotPageSize = 1000
	}
	if opts.InstanceTypePageSize <= 0 || opts.InstanceTypePageSize > 100 {
		opts.InstanceTypePageSize = 100
	}
	if opts.PricingPageSize <= 0 || opts.PricingPageSize > 100 {
		opts.PricingPageSize = 100
	}
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 1 << 30
	}
	a := &AWS{opts: opts, calls: map[string]int{}, dead: map[string]bool{}}
	a.slot = max(int64(86400/opts.ChangesPerDay), 60)
	for i := range awsRegions {
		r := &awsRegions[i]
		if len(opts.Regions) == 0 || awsContains(opts.Regions, r.name) {
			a.regions = append(a.regions, r)
		}
	}
	for i := range awsTypes {
		if awsMatch(opts.InstanceTypes, awsTypes[i].name) {
			a.types = append(a.types, &awsTypes[i])
		}
	}
	for _, r := range opts.DeadRegions {
		a.dead[r] = true
	}
	a.ec2 = a.EC2Faults.Wrap(http.HandlerFunc(a.serveEC2), a.ec2ErrorBody)
	a.pricing = a.PricingFaults.Wrap(http.HandlerFunc(a.servePricing), pricingErrorBody)
	a.offers = a.OfferFaults.Wrap(http.HandlerFunc(a.serveOffer), nil)
	return a
}

func awsContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ServeHTTP routes a request to the API it is for.
func (a *AWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.requests.Add(1)
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		a.pricing.ServeHTTP(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/offers/"):
		a.offers.ServeHTTP(w, r)
	default:
		region, _ := sigV4Scope(r)
		a.deadMu.RLock()
		dead := a.dead[region]
		a.deadMu.RUnlock()
		if dead {
			awsCut(w)
			return
		}
		a.ec2.ServeHTTP(w, r)
	}
}

// SetDead makes region's endpoint cut every connection (dead true) or
// answer again (false).
func (a *AWS) SetDead(region string, dead bool) {
	a.deadMu.Lock()
	defer a.deadMu.Unlock()
	a.dead[region] = dead
}

// Calls returns how many requests each action received ("ec2
// DescribeSpotPriceHistory us-east-1", "pricing GetProducts", "offers
// us-east-1"), failed ones included.
func (a *AWS) Calls() map[string]int {
	a.callsMu.Lock()
	defer a.callsMu.Unlock()
	out := make(map[string]int, len(a.calls))
	for k, v := range a.calls {
		out[k] = v
	}
	return out
}

// Requests returns how many requests the fake received.
func (a *AWS) Requests() int { return int(a.requests.Load()) }

func (a *AWS) count(call string) {
	a.callsMu.Lock()
	a.calls[call]++
	a.callsMu.Unlock()
}

// awsCut closes the connection without an answer.
func awsCut(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// sigV4Scope returns the region and service of the request's SigV4
// credential scope (Credential=AKID/date/region/service/aws4_request).
func sigV4Scope(r *http.Request) (region, service string) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return "", ""
	}
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return "", ""
	}
	return parts[2], parts[3]
}

func (a *AWS) region(name string) *awsRegion {
	for _, r := range a.regions {
		if r.name == name {
			return r
		}
	}
	return nil
}

// --- EC2 ---

// ec2ErrorBody renders the EC2 error envelope for an injected fault.
func (a *AWS) ec2ErrorBody(status int, msg string) (string, []byte) {
	code := "Unavailable"
	if status == http.StatusTooManyRequests {
		code = "RequestLimitExceeded"
	}
	return "text/xml;charset=UTF-8", a.ec2Error(code, msg)
}

func (a *AWS) ec2Error(code, msg string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response><Errors><Error><Code>")
	awsXMLText(&b, code)
	b.WriteString("</Code><Message>")
	awsXMLText(&b, msg)
	b.WriteString("</Message></Error></Errors><RequestID>")
	b.WriteString(a.requestID())
	b.WriteString("</RequestID></Response>")
	return b.Bytes()
}

func (a *AWS) writeEC2Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(a.ec2Error(code, msg))
}

// requestID is a fresh request id in the UUID layout AWS uses.
func (a *AWS) requestID() string {
	x := awsMix(a.ids.Add(1))
	y := awsMix(x)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", uint32(x), uint16(x>>32), uint16(x>>48), uint16(y), y>>16&0xffffffffffff)
}

func awsXMLText(b *bytes.Buffer, s string) { xml.EscapeText(b, []byte(s)) }

func (a *AWS) serveEC2(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		a.writeEC2Error(w, http.StatusNotFound, "InvalidAction", "The action is not valid for this web service.")
		return
	}
	if err := r.ParseForm(); err != nil {
		a.writeEC2Error(w, http.StatusBadRequest, "MalformedQueryString", err.Error())
		return
	}
	action := r.Form.Get("Action")
	region, service := sigV4Scope(r)
	a.count("ec2 " + action + " " + region)
	switch {
	case region == "" || service != "ec2":
		a.writeEC2Error(w, http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials")
		return
	case r.Form.Get("Version") != "2016-11-15":
		a.writeEC2Error(w, http.StatusBadRequest, "InvalidParameterValue", "Invalid API version "+r.Form.Get("Version"))
		return
	}
	reg := a.region(region)
	switch {
	case reg == nil:
		// No such region for this account: there is no endpoint.
		awsCut(w)
		return
	case reg.optIn == "not-opted-in":
		a.writeEC2Error(w, http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials")
		return
	}
	ft, faulty := FaultOf(r)
	if faulty && ft.Kind == AWSThrottle {
		a.writeEC2Error(w, http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
		return
	}
	switch action {
	case "DescribeRegions":
		a.describeRegions(w, r)
	case "DescribeInstanceTypes":
		a.describeInstanceTypes(w, r, reg)
	case "DescribeSpotPriceHistory":
		a.describeSpotPriceHistory(w, r, reg)
	default:
		a.writeEC2Error(w, http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", action))
	}
}

// ec2List returns the values of a flattened list parameter:
// prefix.1, prefix.2, ...
func ec2List(r *http.Request, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := r.Form[prefix+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v...)
	}
}

// ec2Filters returns Filter.N.Name → Filter.N.Value.M.
func ec2Filters(r *http.Request) map[string][]string {
	out := map[string][]string{}
	for i := 1; ; i++ {
		p := "Filter." + strconv.Itoa(i)
		name := r.Form.Get(p + ".Name")
		if name == "" {
			return out
		}
		out[name] = append(out[name], ec2List(r, p+".Value")...)
	}
}

// awsMatch reports whether s matches one of the patterns (* and ? as
// wildcards, as EC2 filters allow); an empty list matches everything.
func awsMatch(patterns []string, s string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

func writeEC2(w http.ResponseWriter, b *bytes.Buffer) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Write(b.Bytes())
}

func (a *AWS) ec2Head(b *bytes.Buffer, action string) {
	fmt.Fprintf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse xmlns=%q>\n    <requestId>%s</requestId>\n", action, ec2Namespace, a.requestID())
}

// awsPageToken and parseToken encode a position in a listing, tied to the
// listing's parameters so that a token is not reused across queries.
func awsPageToken(kind string, pos ...int64) string {
	s := kind
	for _, p := range pos {
		s += ":" + strconv.FormatInt(p, 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func awsParseToken(tok, kind string, n int) ([]int64, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, false
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != n+1 || parts[0] != kind {
		return nil, false
	}
	out := make([]int64, n)
	for i := range out {
		if out[i], err = strconv.ParseInt(parts[i+1], 10, 64); err != nil {
			return nil, false
		}
	}
	return out, true
}

func (a *AWS) describeRegions(w http.ResponseWriter, r *http.Request) {
	all := r.Form.Get("AllRegions") == "true"
	names := ec2List(r, "RegionName")
	filters := ec2Filters(r)
	var b bytes.Buffer
	a.ec2Head(&b, "DescribeRegions")
	b.WriteString("    <regionInfo>\n")
	for _, reg := range a.regions {
		if (!all && reg.optIn == "not-opted-in") || (len(names) > 0 && !awsContains(names, reg.name)) ||
			!awsMatch(filters["region-name"], reg.name) || !awsMatch(filters["opt-in-status"], reg.optIn) {
			continue
		}
		fmt.Fprintf(&b, "        <item>\n            <regionName>%s</regionName>\n            <regionEndpoint>ec2.%s.amazonaws.com</regionEndpoint>\n            <optInStatus>%s</optInStatus>\n        </item>\n",
			reg.name, reg.name, reg.optIn)
	}
	b.WriteString("    </regionInfo>\n</DescribeRegionsResponse>")
	writeEC2(w, &b)
}

func (a *AWS) describeInstanceTypes(w http.ResponseWriter, r *http.Request, reg *awsRegion) {
	names := ec2List(r, "InstanceType")
	filters := ec2Filters(r)
	size := a.opts.InstanceTypePageSize
	if s := r.Form.Get("MaxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 5 || n > 100 {
			a.writeEC2Error(w, http.StatusBadRequest, "InvalidParameterValue", "MaxResults must be between 5 and 100")
			return
		}
		size = min(size, n)
	}
	offset := int64(0)
	if tok := r.Form.Get("NextToken"); tok != "" {
		pos, ok := awsParseToken(tok, "it", 1)
		if !ok {
			a.writeEC2Error(w, http.StatusBadRequest, "InvalidNextToken", "The specified token is invalid.")
			return
		}
		offset = pos[0]
	}
	var matched []*awsType
	for _, t := range a.types {
		if _, ok := awsOffered(reg, t); !ok {
			continue
		}
		if (len(names) > 0 && !awsContains(names, t.name)) || !awsMatch(filters["instance-type"], t.name) {
			continue
		}
		matched = append(matched, t)
	}
	ft, faulty := FaultOf(r)
	var page []*awsType
	next := int64(-1)
	switch {
	case faulty && ft.Kind == Empty:
	case faulty && ft.Kind == EndlessPages:
		page, next = matched[:min(size, len(matched))], offset
	case faulty && ft.Kind == Huge:
		a.serveHugeEC2(w, "DescribeInstanceTypes", "instanceTypeSet", func(b *bytes.Buffer) { instanceTypeXML(b, &awsTypes[0], false) })
		return
	default:
		if offset < int64(len(matched)) {
			page = matched[offset:min(offset+int64(size), int64(len(matched)))]
		}
		if offset+int64(size) < int64(len(matched)) {
			next = offset + int64(size)
		}
	}
	var b bytes.Buffer
	a.ec2Head(&b, "DescribeInstanceTypes")
	b.WriteString("    <instanceTypeSet>\n")
	for _, t := range page {
		instanceTypeXML(&b, t, faulty && ft.Kind == WrongTypes)
	}
	b.WriteString("    </instanceTypeSet>\n")
	if next >= 0 {
		fmt.Fprintf(&b, "    <nextToken>%s</nextToken>\n", awsPageToken("it", next))
	}
	b.WriteString("</DescribeInstanceTypesResponse>")
	writeEC2(w, &b)
}

// instanceTypeXML writes one instanceTypeSet item: a few of the real
// fields and, for GPU types, gpuInfo.
func instanceTypeXML(b *bytes.Buffer, t *awsType, wrong bool) {
	fmt.Fprintf(b, "        <item>\n            <instanceType>%s</instanceType>\n            <currentGeneration>%t</currentGeneration>\n",
		t.name, !strings.HasPrefix(t.name, "p3"))
	fmt.Fprintf(b, "            <vCpuInfo><defaultVCpus>%d</defaultVCpus></vCpuInfo>\n            <memoryInfo><sizeInMiB>%d</sizeInMiB></memoryInfo>\n", t.vcpus, t.memMiB)
	if g := t.gpu; g.name != "" {
		count := strconv.Itoa(int(g.count))
		if wrong {
			count = "eight"
		}
		b.WriteString("            <gpuInfo>\n                <gpus>\n                    <item>\n")
		fmt.Fprintf(b, "                        <name>%s</name>\n                        <manufacturer>%s</manufacturer>\n                        <count>%s</count>\n",
			g.name, g.manufacturer, count)
		if g.partition > 0 {
			fmt.Fprintf(b, "                        <gpuPartitionSize>%g</gpuPartitionSize>\n", g.partition)
		}
		fmt.Fprintf(b, "                        <memoryInfo><sizeInMiB>%d</sizeInMiB></memoryInfo>\n", g.mib)
		fmt.Fprintf(b, "                    </item>\n                </gpus>\n                <totalGpuMemoryInMiB>%d</totalGpuMemoryInMiB>\n            </gpuInfo>\n",
			int64(g.count)*int64(g.mib))
	}
	b.WriteString("        </item>\n")
}

// serveHugeEC2 streams an answer whose item list never seems to end.
func (a *AWS) serveHugeEC2(w http.ResponseWriter, action, set string, item func(*bytes.Buffer)) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	var head, one bytes.Buffer
	a.ec2Head(&head, action)
	fmt.Fprintf(&head, "    <%s>\n", set)
	item(&one)
	if _, err := w.Write(head.Bytes()); err != nil {
		return
	}
	for written := int64(head.Len()); written < a.opts.HugeBytes; written += int64(one.Len()) {
		if _, err := w.Write(one.Bytes()); err != nil {
			return // the client gave up, as it should
		}
	}
	fmt.Fprintf(w, "    </%s>\n</%sResponse>", set, action)
}

// awsProducts are the spot product descriptions the fake prices.
var awsProducts = []string{"Linux/UNIX", "Windows"}

// spotSeries is one spot price series: an instance type in a zone for a
// product description.
type spotSeries struct {
	t       *awsType
	zone    string
	product string
	seed    uint64
	base    float64 // on-demand price in the region for the product
}

func (a *AWS) spotSeriesOf(reg *awsRegion, types, zones, products []string, filters map[string][]string) []spotSeries {
	var out []spotSeries
	for _, t := range a.types {
		mask, ok := awsOffered(reg, t)
		if !ok || t.onDemand == 0 || (len(types) > 0 && !awsContains(types, t.name)) || !awsMatch(filters["instance-type"], t.name) {
			continue
		}
		for zi := range reg.zones {
			zone := reg.name + string(reg.zones[zi])
			if mask&(1<<zi) == 0 || (len(zones) > 0 && !awsContains(zones, zone)) || !awsMatch(filters["availability-zone"], zone) {
				continue
			}
			for _, p := range awsProducts {
				if (len(products) > 0 && !awsContains(products, p)) || !awsMatch(filters["product-description"], p) {
					continue
				}
				out = append(out, spotSeries{t: t, zone: zone, product: p, seed: awsHash(zone, t.name, p),
					base: awsOnDemand(reg, t, p == "Windows")})
			}
		}
	}
	return out
}

// awsOnDemand is t's on-demand price in reg.
func awsOnDemand(reg *awsRegion, t *awsType, windows bool) float64 {
	p := t.onDemand * reg.factor
	if windows {
		p += 0.046 * float64(t.vcpus)
	}
	return math.Round(p*1e4) / 1e4
}

// Spot history of a series, in slots of a.slot seconds: slot k may hold
// one change, at a fixed time within it.
const (
	spotChangeChance = 78 // percent of slots with a change
	spotStickyChance = 10 // percent of changes repeating the previous price
	spotMaxLookback  = 200
)

func (s *spotSeries) hash(k int64, salt uint64) uint64 {
	return awsMix(s.seed ^ awsMix(uint64(k)*0x9e3779b97f4a7c15+salt))
}

// change returns the time (unix seconds) of slot k's change, if any.
func (a *AWS) change(s *spotSeries, k int64) (int64, bool) {
	if s.hash(k, 1)%100 >= spotChangeChance {
		return 0, false
	}
	return k*a.slot + int64(s.hash(k, 2)%uint64(a.slot)), true
}

// price returns the price set by slot k's change: a moving average of
// pseudo-random levels, so prices drift rather than jump; a sticky change
// repeats the last non-sticky change's price.
func (a *AWS) price(s *spotSeries, k int64) float64 {
	if s.hash(k, 3)%100 < spotStickyChance {
		for j := k - 1; j > k-spotMaxLookback; j-- {
			if _, ok := a.change(s, j); ok && s.hash(j, 3)%100 >= spotStickyChance {
				k = j
				break
			}
		}
	}
	level := 0.0
	for j := int64(0); j < 6; j++ {
		level += float64(s.hash(k-j, 4)%10000) / 10000
	}
	frac := 0.22 + 0.5*level/6
	return math.Round(s.base*frac*1e4) / 1e4
}

func awsFloorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (a *AWS) describeSpotPriceHistory(w http.ResponseWriter, r *http.Request, reg *awsRegion) {
	now := a.opts.Now().UTC()
	end := now
	start := now.Add(-awsSpotHistory)
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"StartTime", &start}, {"EndTime", &end}} {
		if v := r.Form.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				a.writeEC2Error(w, http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("Invalid value '%s' for %s", v, p.name))
				return
			}
			*p.t = t
		}
	}
	if end.After(now) {
		end = now
	}
	if start.Before(now.Add(-awsSpotHistory)) {
		start = now.Add(-awsSpotHistory)
	}
	size := a.opts.SpotPageSize
	if s := r.Form.Get("MaxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			a.writeEC2Error(w, http.StatusBadRequest, "InvalidParameterValue", "MaxResults must be between 1 and 1000")
			return
		}
		size = min(size, n)
	}
	var zones []string
	if z := r.Form.Get("AvailabilityZone"); z != "" {
		zones = []string{z}
	}
	series := a.spotSeriesOf(reg, ec2List(r, "InstanceType"), zones, ec2List(r, "ProductDescription"), ec2Filters(r))

	// The cursor is (series index, next slot to look at, scanning down),
	// with the window of the first page, so that a walk stays consistent
	// while the clock moves, and a hash of the query, so that a token is
	// not reused for another one.
	startS, endS := start.Unix(), end.Unix()
	si, slot := int64(0), awsFloorDiv(endS, a.slot)
	query := ec2QueryHash(r)
	if tok := r.Form.Get("NextToken"); tok != "" {
		pos, ok := awsParseToken(tok, "sp", 5)
		if !ok || pos[4] != query {
			a.writeEC2Error(w, http.StatusBadRequest, "InvalidNextToken", "The specified token is invalid.")
			return
		}
		si, slot, startS, endS = pos[0], pos[1], pos[2], pos[3]
	}
	ft, faulty := FaultOf(r)
	if faulty && ft.Kind == Huge {
		s := a.spotSeriesOf(reg, nil, nil, nil, nil)
		a.serveHugeEC2(w, "DescribeSpotPriceHistory", "spotPriceHistorySet", func(b *bytes.Buffer) {
			spotItemXML(b, &s[0], "0.100000", end.Format("2006-01-02T15:04:05.000Z"))
		})
		return
	}
	wrong := faulty && ft.Kind == WrongTypes
	var b bytes.Buffer
	a.ec2Head(&b, "DescribeSpotPriceHistory")
	b.WriteString("    <spotPriceHistorySet>\n")
	n := 0
	firstSI, firstSlot := si, slot
	minSlot := awsFloorDiv(startS, a.slot) - spotMaxLookback
	for !(faulty && ft.Kind == Empty) && si < int64(len(series)) && n < size {
		s := &series[si]
		done := false
		for ; slot >= minSlot && n < size; slot-- {
			ts, ok := a.change(s, slot)
			if !ok || ts > endS {
				continue
			}
			p := strconv.FormatFloat(a.price(s, slot), 'f', 6, 64)
			stamp := time.Unix(ts, 0).UTC().Format("2006-01-02T15:04:05.000Z")
			if wrong {
				p, stamp = "n/a", "yesterday"
			}
			spotItemXML(&b, s, p, stamp)
			n++
			if ts <= startS {
				// The price in effect at StartTime ends the series.
				done = true
				slot--
				break
			}
		}
		if done || slot < minSlot {
			si++
			slot = awsFloorDiv(endS, a.slot)
		}
	}
	b.WriteString("    </spotPriceHistorySet>\n")
	switch {
	case faulty && ft.Kind == Empty:
	case faulty && ft.Kind == EndlessPages:
		fmt.Fprintf(&b, "    <nextToken>%s</nextToken>\n", awsPageToken("sp", firstSI, firstSlot, startS, endS, query))
	case si < int64(len(series)):
		fmt.Fprintf(&b, "    <nextToken>%s</nextToken>\n", awsPageToken("sp", si, slot, startS, endS, query))
	default:
		b.WriteString("    <nextToken/>\n")
	}
	b.WriteString("</DescribeSpotPriceHistoryResponse>")
	writeEC2(w, &b)
}

// ec2QueryHash identifies a query by its parameters, paging ones aside.
func ec2QueryHash(r *http.Request) int64 {
	keys := make([]string, 0, len(r.Form))
	for k := range r.Form {
		if k != "NextToken" && k != "MaxResults" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		parts = append(parts, k, strings.Join(r.Form[k], ","))
	}
	return int64(awsHash(parts...) >> 1)
}

func spotItemXML(b *bytes.Buffer, s *spotSeries, price, stamp string) {
	b.WriteString("        <item>\n            <availabilityZone>")
	b.WriteString(s.zone)
	b.WriteString("</availabilityZone>\n            <instanceType>")
	b.WriteString(s.t.name)
	b.WriteString("</instanceType>\n            <productDescription>")
	awsXMLText(b, s.product)
	b.WriteString("</productDescription>\n            <spotPrice>")
	b.WriteString(price)
	b.WriteString("</spotPrice>\n            <timestamp>")
	b.WriteString(stamp)
	b.WriteString("</timestamp>\n        </item>\n")
}

// SpotChange is one change of a spot price series.
type SpotChange struct {
	Time time.Time
	USD  float64
}

// SpotHistory returns the Linux/UNIX spot price changes of an instance
// type in a zone from the one in effect at start through end, oldest
// first: what a client paging through DescribeSpotPriceHistory should
// have seen, computed without the paging, for tests to compare against.
func (a *AWS) SpotHistory(zone, instanceType string, start, end time.Time) []SpotChange {
	var s *spotSeries
	for _, reg := range a.regions {
		if strings.HasPrefix(zone, reg.name) && len(zone) == len(reg.name)+1 {
			if ss := a.spotSeriesOf(reg, []string{instanceType}, []string{zone}, []string{"Linux/UNIX"}, nil); len(ss) > 0 {
				s = &ss[0]
			}
		}
	}
	if s == nil {
		return nil
	}
	var out []SpotChange
	for k := awsFloorDiv(end.Unix(), a.slot); k > awsFloorDiv(start.Unix(), a.slot)-spotMaxLookback; k-- {
		ts, ok := a.change(s, k)
		if !ok || ts > end.Unix() {
			continue
		}
		out = append(out, SpotChange{time.Unix(ts, 0).UTC(), a.price(s, k)})
		if ts <= start.Unix() {
			break
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// --- Price List ---

// pricingErrorBody renders the AWS JSON error of an injected fault.
func pricingErrorBody(status int, msg string) (string, []byte) {
	typ := "InternalErrorException"
	if status == http.StatusTooManyRequests {
		typ = "ThrottlingException"
	}
	body, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	return "application/x-amz-json-1.1", body
}

func writePricingError(w http.ResponseWriter, status int, typ, msg string) {
	body, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	w.Write(body)
}

type pricingFilter struct {
	Type  string `json:"Type"`
	Field string `json:"Field"`
	Value string `json:"Value"`
}

type getProductsInput struct {
	ServiceCode   string          `json:"ServiceCode"`
	Filters       []pricingFilter `json:"Filters"`
	FormatVersion string          `json:"FormatVersion"`
	NextToken     string          `json:"NextToken"`
	MaxResults    *int            `json:"MaxResults"`
}

// awsProduct is one Price List product with its terms.
type awsProduct struct {
	Product struct {
		ProductFamily string            `json:"productFamily"`
		Attributes    map[string]string `json:"attributes"`
		SKU           string            `json:"sku"`
	} `json:"product"`
	ServiceCode     string                        `json:"serviceCode"`
	Terms           map[string]map[string]awsTerm `json:"terms"`
	Version         string                        `json:"version"`
	PublicationDate string                        `json:"publicationDate"`
}

type awsTerm struct {
	PriceDimensions map[string]awsDimension `json:"priceDimensions"`
	SKU             string                  `json:"sku"`
	EffectiveDate   string                  `json:"effectiveDate"`
	OfferTermCode   string                  `json:"offerTermCode"`
	TermAttributes  map[string]string       `json:"termAttributes"`
}

type awsDimension struct {
	Unit         string            `json:"unit"`
	EndRange     string            `json:"endRange,omitempty"`
	Description  string            `json:"description"`
	AppliesTo    []string          `json:"appliesTo"`
	RateCode     string            `json:"rateCode"`
	BeginRange   string            `json:"beginRange,omitempty"`
	PricePerUnit map[string]string `json:"pricePerUnit"`
}

// awsVariant is one row family of an instance type in a region: the
// Price List lists each instance type under many operating systems,
// tenancies, capacity statuses, software bundles, licence models and
// market options. Only the first is the on-demand price.
type awsVariant struct {
	os, tenancy, sw, capacity, license string
	market                             string // marketoption; "" is OnDemand
	price                              func(od float64, t *awsType) float64
	// only, when set, limits the variant to some instance types.
	only func(t *awsType) bool
}

var awsVariants = []awsVariant{
	{"Linux", "Shared", "NA", "Used", "No License required", "", func(od float64, _ *awsType) float64 { return od }, nil},
	{"Linux", "Shared", "NA", "UnusedCapacityReservation", "No License required", "", func(od float64, _ *awsType) float64 { return od }, nil},
	{"Linux", "Shared", "NA", "AllocatedCapacityReservation", "No License required", "", func(float64, *awsType) float64 { return 0 }, nil},
	{"Linux", "Dedicated", "NA", "Used", "No License required", "", func(od float64, _ *awsType) float64 { return round4(od * 1.1) }, nil},
	// Dedicated hosts are paid for as hosts: the instance row is $0.
	{"Linux", "Host", "NA", "Used", "No License required", "", func(float64, *awsType) float64 { return 0 }, nil},
	{"Windows", "Shared", "NA", "Used", "No License required", "", func(od float64, t *awsType) float64 {
		return round4(od + 0.046*float64(t.vcpus))
	}, nil},
	{"Windows", "Shared", "NA", "Used", "Bring your own license", "", func(od float64, _ *awsType) float64 { return od }, nil},
	{"RHEL", "Shared", "NA", "Used", "No License required", "", func(od float64, _ *awsType) float64 { return round4(od + 0.13) }, nil},
	{"SUSE", "Shared", "NA", "Used", "No License required", "", func(od float64, _ *awsType) float64 { return round4(od + 0.125) }, nil},
	{"Linux", "Shared", "SQL Web", "Used", "No License required", "", func(od float64, t *awsType) float64 {
		return round4(od + 0.005*float64(t.vcpus))
	}, nil},
	{"Linux", "Shared", "SQL Std", "Used", "No License required", "", func(od float64, t *awsType) float64 {
		return round4(od + 0.12*float64(t.vcpus))
	}, nil},
	// Capacity Blocks for ML: a Linux, shared, Used row like the
	// on-demand one, cheaper, but sold only as reserved blocks of time.
	{"Linux", "Shared", "NA", "Used", "No License required", "CapacityBlock", func(od float64, _ *awsType) float64 { return round4(od * 0.57) },
		func(t *awsType) bool { return strings.HasPrefix(t.name, "p") }},
}

// awsSKU is a stable 16-character SKU.
func awsSKU(parts ...string) string {
	const alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	h := awsHash(parts...)
	var b [16]byte
	for i := range b {
		b[i] = alphabet[h%uint64(len(alphabet))]
		h = awsMix(h + uint64(i))
	}
	return string(b[:])
}

// productOf builds the Price List product of t in reg for variant v.
func (a *AWS) productOf(reg *awsRegion, t *awsType, v *awsVariant) *awsProduct {
	od := a.opts.Drift.Apply(reg.name+"|"+t.name, awsOnDemand(reg, t, false))
	price := v.price(od, t)
	market := cmp.Or(v.market, "OnDemand")
	sku := awsSKU(reg.name, t.name, v.os, v.tenancy, v.sw, v.capacity, v.license, market)
	p := &awsProduct{ServiceCode: "AmazonEC2", Version: "20260601000000", PublicationDate: "2026-06-01T00:00:00Z"}
	p.Product.ProductFamily = "Compute Instance"
	p.Product.SKU = sku
	usage := "BoxUsage:" + t.name
	switch {
	case market == "CapacityBlock":
		usage = "CapacityBlock:" + t.name
	case v.tenancy == "Dedicated":
		usage = "DedicatedUsage:" + t.name
	case v.tenancy == "Host":
		usage = "HostBoxUsage:" + t.name
	}
	operation := "RunInstances"
	switch {
	case v.os == "Windows" && v.license == "Bring your own license":
		operation = "RunInstances:0800"
	case v.os == "Windows":
		operation = "RunInstances:0002"
	case v.os == "RHEL":
		operation = "RunInstances:0010"
	case v.os == "SUSE":
		operation = "RunInstances:000g"
	case v.sw == "SQL Std":
		operation = "RunInstances:0004"
	case v.sw != "NA":
		operation = "RunInstances:0200"
	}
	what := "On Demand " + v.os
	switch {
	case v.capacity == "UnusedCapacityReservation":
		what = "Unused Reservation " + v.os
	case v.capacity == "AllocatedCapacityReservation":
		what = v.os + " " + t.name + " Allocated Reservation"
	case market == "CapacityBlock":
		what = "Capacity Block " + v.os
	case v.tenancy == "Host":
		what = v.os + " " + t.name + " Dedicated Host"
	}
	gpu, gpuMem := "NA", "NA"
	if t.gpuCount != "" {
		gpu = t.gpuCount
		if t.gpu.name != "" {
			gpuMem = strconv.FormatInt(int64(t.gpu.count)*int64(t.gpu.mib)/1024, 10) + " GB"
		}
	}
	p.Product.Attributes = map[string]string{
		"servicecode": "AmazonEC2", "servicename": "Amazon Elastic Compute Cloud",
		"instanceType": t.name, "instanceFamily": map[bool]string{true: "GPU instance", false: "General purpose"}[t.gpuCount != ""],
		"regionCode": reg.name, "location": reg.location, "locationType": "AWS Region",
		"vcpu": strconv.Itoa(int(t.vcpus)), "memory": strconv.FormatInt(t.memMiB/1024, 10) + " GiB",
		"gpu": gpu, "gpuMemory": gpuMem, "currentGeneration": "Yes",
		"operatingSystem": v.os, "tenancy": v.tenancy, "preInstalledSw": v.sw, "capacitystatus": v.capacity,
		"licenseModel": v.license, "operation": operation, "usagetype": usage, "marketoption": market,
		"networkPerformance": "Up to 25 Gigabit", "storage": "EBS only", "processorArchitecture": "64-bit",
	}
	term := func(code string, unit string, price float64, desc string, attrs map[string]string) awsTerm {
		rate := sku + "." + code + ".6YS6EN2CT7"
		return awsTerm{SKU: sku, OfferTermCode: code, EffectiveDate: "2026-06-01T00:00:00Z", TermAttributes: attrs,
			PriceDimensions: map[string]awsDimension{rate: {Unit: unit, BeginRange: "0", EndRange: "Inf", RateCode: rate,
				Description: desc, AppliesTo: []string{}, PricePerUnit: map[string]string{"USD": strconv.FormatFloat(price, 'f', 10, 64)}}}}
	}
	p.Terms = map[string]map[string]awsTerm{
		"OnDemand": {sku + ".JRTCKXETXF": term("JRTCKXETXF", "Hrs", price,
			fmt.Sprintf("$%.4f per %s %s Instance Hour", price, what, t.name), map[string]string{})},
	}
	if v.capacity == "Used" && v.tenancy == "Shared" && market == "OnDemand" {
		allUpfront := term("6QCMYABX3D", "Hrs", 0, "USD 0.0 per "+v.os+" "+t.name+" instance hour",
			map[string]string{"LeaseContractLength": "1yr", "OfferingClass": "standard", "PurchaseOption": "All Upfront"})
		// All Upfront: the hour costs $0.0000000000, the year is paid
		// up front.
		fee := sku + ".6QCMYABX3D.2TG2D8R56U"
		allUpfront.PriceDimensions[fee] = awsDimension{Unit: "Quantity", RateCode: fee, Description: "Upfront Fee",
			AppliesTo: []string{}, PricePerUnit: map[string]string{"USD": strconv.FormatFloat(round4(price*0.6*8760), 'f', 0, 64)}}
		p.Terms["Reserved"] = map[string]awsTerm{
			sku + ".4NA7Y494T4": term("4NA7Y494T4", "Hrs", round4(price*0.62),
				fmt.Sprintf("%s %s reserved instance applied", v.os, t.name),
				map[string]string{"LeaseContractLength": "1yr", "OfferingClass": "standard", "PurchaseOption": "No Upfront"}),
			sku + ".6QCMYABX3D": allUpfront,
		}
	}
	return p
}

// pricingMatches reports whether attribute value got passes filter f.
func pricingMatches(f pricingFilter, got string, has bool) bool {
	if !has {
		return false
	}
	switch strings.ToUpper(f.Type) {
	case "TERM_MATCH", "EQUALS":
		return strings.EqualFold(got, f.Value)
	case "CONTAINS":
		return strings.Contains(strings.ToLower(got), strings.ToLower(f.Value))
	}
	return false
}

func (a *AWS) servePricing(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op := strings.TrimPrefix(target, "AWSPriceListService.")
	a.count("pricing " + op)
	if _, service := sigV4Scope(r); service != "pricing" {
		writePricingError(w, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	}
	if op != "GetProducts" || op == target {
		writePricingError(w, http.StatusBadRequest, "UnknownOperationException", "Unknown operation "+target)
		return
	}
	ft, faulty := FaultOf(r)
	if faulty && ft.Kind == AWSThrottle {
		writePricingError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		return
	}
	var in getProductsInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writePricingError(w, http.StatusBadRequest, "SerializationException", "Start of structure or map found where not expected.")
		return
	}
	if in.ServiceCode == "" {
		writePricingError(w, http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'serviceCode' failed to satisfy constraint: Member must not be null")
		return
	}
	size := a.opts.PricingPageSize
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			writePricingError(w, http.StatusBadRequest, "InvalidParameterException", "MaxResults must be between 1 and 100")
			return
		}
		size = min(size, *in.MaxResults)
	}
	for _, f := range in.Filters {
		switch strings.ToUpper(f.Type) {
		case "TERM_MATCH", "EQUALS", "CONTAINS":
		default:
			writePricingError(w, http.StatusBadRequest, "InvalidParameterException", "Unsupported filter type "+f.Type)
			return
		}
	}
	offset := int64(0)
	if in.NextToken != "" {
		pos, ok := awsParseToken(in.NextToken, "pl", 1)
		if !ok {
			writePricingError(w, http.StatusBadRequest, "InvalidNextTokenException", "The pagination token is invalid. Try again without a pagination token.")
			return
		}
		offset = pos[0]
	}
	// Cheap pre-selection on the two attributes clients always filter on.
	want := func(field, value string) bool {
		for _, f := range in.Filters {
			if f.Field == field && !pricingMatches(f, value, true) {
				return false
			}
		}
		return true
	}
	var matched []*awsProduct
	if strings.EqualFold(in.ServiceCode, "AmazonEC2") {
		for _, reg := range awsRegions {
			if !want("regionCode", reg.name) {
				continue
			}
			for _, t := range a.types {
				if _, ok := awsOffered(&reg, t); !ok || !want("instanceType", t.name) {
					continue
				}
				for vi := range awsVariants {
					if only := awsVariants[vi].only; only != nil && !only(t) {
						continue
					}
					p := a.productOf(&reg, t, &awsVariants[vi])
					ok := true
					for _, f := range in.Filters {
						if a.opts.PricingLoose && f.Field != "ServiceCode" && f.Field != "instanceType" && f.Field != "regionCode" {
							continue
						}
						got, has := p.Product.Attributes[f.Field]
						if f.Field == "ServiceCode" {
							got, has = p.ServiceCode, true
						}
						if !pricingMatches(f, got, has) {
							ok = false
							break
						}
					}
					if ok {
						matched = append(matched, p)
					}
				}
			}
		}
	}
	var page []*awsProduct
	next := int64(-1)
	switch {
	case faulty && ft.Kind == Empty:
	case faulty && ft.Kind == EndlessPages:
		page, next = matched[:min(size, len(matched))], offset
	case faulty && ft.Kind == Huge:
		a.serveHugePricing(w, matched)
		return
	default:
		if offset < int64(len(matched)) {
			page = matched[offset:min(offset+int64(size), int64(len(matched)))]
		}
		if offset+int64(size) < int64(len(matched)) {
			next = offset + int64(size)
		}
	}
	out := map[string]any{"FormatVersion": "aws_v1"}
	list := make([]any, len(page))
	wrong := faulty && ft.Kind == WrongTypes
	flip := wrong && a.wrongs.Add(1)%2 == 1
	for i, p := range page {
		item, _ := json.Marshal(p)
		switch {
		case flip:
			list[i] = json.RawMessage(item) // an object, not a string
		case wrong:
			// Prices as numbers inside the item.
			list[i] = strings.ReplaceAll(string(item), `{"USD":"`, `{"USD":0`)
		default:
			list[i] = string(item)
		}
	}
	out["PriceList"] = list
	if next >= 0 {
		out["NextToken"] = awsPageToken("pl", next)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func (a *AWS) serveHugePricing(w http.ResponseWriter, matched []*awsProduct) {
	if len(matched) == 0 {
		matched = []*awsProduct{a.productOf(&awsRegions[0], &awsTypes[0], &awsVariants[0])}
	}
	item, _ := json.Marshal(matched[0])
	quoted, _ := json.Marshal(string(item))
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	streamHuge(w, a.opts.HugeBytes, `{"FormatVersion":"aws_v1","PriceList":[`, func(int) []byte { return quoted }, func(int) string { return "]}" })
}

// --- Offer files ---

// awsOfferColumns are the columns of the fake offer file: the real file's
// first columns, then the ones price collectors read, in its order.
var awsOfferColumns = []string{
	"SKU", "OfferTermCode", "RateCode", "TermType", "PriceDescription", "EffectiveDate", "StartingRange",
	"EndingRange", "Unit", "PricePerUnit", "Currency", "RelatedTo", "LeaseContractLength", "PurchaseOption",
	"OfferingClass", "Product Family", "serviceCode", "Location", "Location Type", "Instance Type",
	"Current Generation", "Instance Family", "vCPU", "Physical Processor", "Clock Speed", "Memory", "Storage",
	"Network Performance", "Processor Architecture", "Tenancy", "Operating System", "License Model",
	"usageType", "operation", "CapacityStatus", "GPU", "GPU Memory", "MarketOption", "Pre Installed S/W",
	"Region Code",
}

func (a *AWS) serveOffer(w http.ResponseWriter, r *http.Request) {
	region, file := path.Split(strings.TrimPrefix(r.URL.Path, AWSOfferPath+"/"))
	region = strings.TrimSuffix(region, "/")
	a.count("offers " + region)
	var reg *awsRegion
	for i := range awsRegions {
		if awsRegions[i].name == region {
			reg = &awsRegions[i]
		}
	}
	if !strings.HasPrefix(r.URL.Path, AWSOfferPath+"/") || file != "index.csv" || reg == nil {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden) // S3's answer for a missing key
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		return
	}
	ft, faulty := FaultOf(r)
	w.Header().Set("Content-Type", "text/csv")
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	a.writeOffer(bw, reg, faulty && ft.Kind == Empty, faulty && ft.Kind == WrongTypes)
	if faulty && ft.Kind == Huge {
		// Padding rows until the client gives up.
		for i, written := 0, int64(0); written < a.opts.HugeBytes; i++ {
			n, err := awsPaddingRow(bw, reg, i)
			if err != nil {
				return
			}
			written += int64(n)
		}
	}
}

// writeOffer writes reg's offer file: preamble, header, the rows of every
// product variant (on-demand and reserved terms), then the padding.
func (a *AWS) writeOffer(w *bufio.Writer, reg *awsRegion, empty, wrong bool) {
	fmt.Fprintf(w, "\"FormatVersion\",\"v1.0\"\n\"Disclaimer\",\"This pricing list is for informational purposes only. All prices are subject to the additional terms included in the pricing pages on http://aws.amazon.com.\"\n\"Publication Date\",\"2026-06-01T00:00:00Z\"\n\"Version\",\"20260601000000\"\n\"OfferCode\",\"AmazonEC2\"\n")
	awsCSVRow(w, awsOfferColumns)
	if empty {
		return
	}
	row := make([]string, len(awsOfferColumns))
	for _, t := range a.types {
		if _, ok := awsOffered(reg, t); !ok {
			continue
		}
		for vi := range awsVariants {
			if only := awsVariants[vi].only; only != nil && !only(t) {
				continue
			}
			p := a.productOf(reg, t, &awsVariants[vi])
			at := p.Product.Attributes
			for _, termType := range []string{"OnDemand", "Reserved"} {
				for _, term := range p.Terms[termType] {
					for _, d := range term.PriceDimensions {
						price := d.PricePerUnit["USD"]
						if wrong {
							price = "USD " + price
						}
						vals := map[string]string{
							"SKU": p.Product.SKU, "OfferTermCode": term.OfferTermCode, "RateCode": d.RateCode,
							"TermType": termType, "PriceDescription": d.Description, "EffectiveDate": "2026-06-01",
							"StartingRange": "0", "EndingRange": "Inf", "Unit": d.Unit, "PricePerUnit": price,
							"Currency": "USD", "LeaseContractLength": term.TermAttributes["LeaseContractLength"],
							"PurchaseOption": term.TermAttributes["PurchaseOption"], "OfferingClass": term.TermAttributes["OfferingClass"],
							"Product Family": p.Product.ProductFamily, "serviceCode": "AmazonEC2", "Location": at["location"],
							"Location Type": "AWS Region", "Instance Type": t.name, "Current Generation": "Yes",
							"Instance Family": at["instanceFamily"], "vCPU": at["vcpu"], "Physical Processor": "AMD EPYC",
							"Clock Speed": "3.3 GHz", "Memory": at["memory"], "Storage": at["storage"],
							"Network Performance": at["networkPerformance"], "Processor Architecture": "64-bit",
							"Tenancy": at["tenancy"], "Operating System": at["operatingSystem"], "License Model": at["licenseModel"],
							"usageType": at["usagetype"], "operation": at["operation"], "CapacityStatus": at["capacitystatus"],
							"GPU": at["gpu"], "GPU Memory": at["gpuMemory"], "MarketOption": at["marketoption"],
							"Pre Installed S/W": at["preInstalledSw"], "Region Code": reg.name,
						}
						for ci, c := range awsOfferColumns {
							row[ci] = vals[c]
						}
						awsCSVRow(w, row)
					}
				}
			}
		}
	}
	for i := 0; i < a.opts.OfferPadding; i++ {
		if _, err := awsPaddingRow(w, reg, i); err != nil {
			return
		}
	}
}

// awsPaddingRow writes a CPU-only product row, the bulk of a real file.
func awsPaddingRow(w *bufio.Writer, reg *awsRegion, i int) (int, error) {
	sku := awsSKU(reg.name, "pad", strconv.Itoa(i))
	typ := []string{"m7i", "c7g", "r6i", "t3", "x2idn"}[i%5] + "." + []string{"large", "xlarge", "2xlarge", "4xlarge"}[i/5%4]
	term := []string{"OnDemand", "Reserved", "Reserved"}[i%3]
	return fmt.Fprintf(w, `"%s","JRTCKXETXF","%s.JRTCKXETXF.6YS6EN2CT7","%s","$0.0960 per On Demand RHEL %s Instance Hour","2026-06-01","0","Inf","Hrs","0.0960000000","USD",,,,,"Compute Instance","AmazonEC2","%s","AWS Region","%s","Yes","General purpose","2","Intel Xeon Platinum 8488C","3.2 GHz","8 GiB","EBS only","Up to 12500 Megabit","64-bit","Shared","RHEL","No License required","BoxUsage:%s","RunInstances:0010","Used","NA","NA","OnDemand","NA","%s"`+"\n",
		sku, sku, term, typ, reg.location, typ, typ, reg.name)
}

func awsCSVRow(w *bufio.Writer, fields []string) {
	for i, f := range fields {
		if i > 0 {
			w.WriteByte(',')
		}
		if f == "" {
			continue // the real file leaves empty fields unquoted
		}
		w.WriteByte('"')
		w.WriteString(strings.ReplaceAll(f, `"`, `""`))
		w.WriteByte('"')
	}
	w.WriteByte('\n')
}

// EnabledRegions returns the regions enabled for the fake account, sorted.
func (a *AWS) EnabledRegions() []string {
	var out []string
	for _, r := range a.regions {
		if r.optIn != "not-opted-in" {
			out = append(out, r.name)
		}
	}
	sort.Strings(out)
	return out
}
