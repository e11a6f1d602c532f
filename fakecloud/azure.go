package fakecloud

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// AzurePath is where the Azure Retail Prices API lives on its host.
const AzurePath = "/api/retail/prices"

// AzurePreviewVersion is the api-version that adds savings-plan data and
// makes $filter values case-sensitive.
const AzurePreviewVersion = "2023-01-01-preview"

// azureMaxComparisons is how many comparisons the real API accepts in one
// $filter; past it, it answers 400 however short the filter is.
const azureMaxComparisons = 20

//go:embed testdata/azure/*.json
var azureRecorded embed.FS

// AzureOptions configures NewAzure. The zero value serves the recorded data
// the way the real API does.
type AzureOptions struct {
	// PageSize is the number of items per page (default 1000, the real
	// API's); tests use small pages to walk several.
	PageSize int
	// Drift makes the recorded prices move over time (for the demo).
	Drift
	// Loose makes the fake honour only the armRegionName terms of $filter
	// and ignore every other one, imitating an API that filters less than
	// it was asked to: tests use it to prove the client-side filters.
	Loose bool
	// HugeBytes is the size of the body served for the Huge fault
	// (default 1 GiB, far above any client limit).
	HugeBytes int64
	// SKUPageSize is the number of Resource SKUs per page (default 8, so
	// that each recorded region spans two pages, as long lists do on the
	// real API).
	SKUPageSize int
	// SKUTokens are the bearer tokens Resource Manager accepts (default
	// AzureDemoToken).
	SKUTokens []string
	// Synthesize, when larger than the number of recorded items, serves
	// that many items: the recorded ones followed by copies of them with
	// new meter ids, an older effectiveStartDate and prices within ±15%,
	// derived from the item's index, for benchmarks at the scale of a
	// full price list. The copies are older than their originals, so a
	// collector that keeps the latest row of a size prices it as before.
	Synthesize int
}

// Azure is a fake Azure Retail Prices API (GET /api/retail/prices) serving
// recorded Virtual Machines price items for several regions. It honours the
// subset of OData $filter that price collectors send: and-joined
// `field eq 'value'` and `contains(field, 'value') eq true|false` terms;
// anything else gets Azure's 400. Pages follow the real API: Items, Count,
// and a NextPageLink built from the request's host and $skip, null on the
// last page.
//
// Provider-specific faults: WrongTypes alternates between prices as strings
// and Items as an object; Empty serves no items; EndlessPages serves the
// same items with a NextPageLink on every page; Huge streams an ever longer
// Items array without holding it in memory.
//
// The same fake serves Azure Resource Manager's Resource SKUs list (GET
// /subscriptions/{AzureDemoSubscription}/providers/Microsoft.Compute/skus,
// with a bearer token): recorded SKUs of a few regions, including a size
// the subscription may not deploy, a zone restriction, a size without a
// GPUs capability and sizes that are not GPUs. Its faults are queued in
// SKUFaults (API "skus"): Empty, EndlessPages and WrongTypes (capabilities
// as an object) besides the generic ones. A Microsoft Entra ID token
// endpoint for AzureDemoTenant (/{tenant}/oauth2/v2.0/token and its
// OpenID configuration) issues AzureDemoToken to AzureDemoClientID.
type Azure struct {
	// Faults schedules misbehaviour of the Retail Prices API; see Fault.
	Faults Faults
	// SKUFaults schedules misbehaviour of the Resource SKUs API.
	SKUFaults Faults

	opts    AzureOptions
	items   []azureItem
	regions []string
	h       http.Handler
	skus    []azureSKU
	skusH   http.Handler
	// wrongTypes counts WrongTypes answers, to alternate their shape.
	wrongTypes atomic.Uint64
}

// FaultQueue implements Faulty: the APIs are "" (Retail Prices) and
// "skus" (Resource SKUs).
func (a *Azure) FaultQueue(api string) *Faults {
	return map[string]*Faults{"": &a.Faults, "skus": &a.SKUFaults}[api]
}

// azureItem is one price item, in the field order of the real API.
type azureItem struct {
	CurrencyCode         string              `json:"currencyCode"`
	TierMinimumUnits     float64             `json:"tierMinimumUnits"`
	ReservationTerm      string              `json:"reservationTerm,omitempty"`
	RetailPrice          float64             `json:"retailPrice"`
	UnitPrice            float64             `json:"unitPrice"`
	ArmRegionName        string              `json:"armRegionName"`
	Location             string              `json:"location"`
	EffectiveStartDate   string              `json:"effectiveStartDate"`
	MeterID              string              `json:"meterId"`
	MeterName            string              `json:"meterName"`
	ProductID            string              `json:"productId"`
	SkuID                string              `json:"skuId"`
	ProductName          string              `json:"productName"`
	SkuName              string              `json:"skuName"`
	ServiceName          string              `json:"serviceName"`
	ServiceID            string              `json:"serviceId"`
	ServiceFamily        string              `json:"serviceFamily"`
	UnitOfMeasure        string              `json:"unitOfMeasure"`
	Type                 string              `json:"type"`
	IsPrimaryMeterRegion bool                `json:"isPrimaryMeterRegion"`
	ArmSkuName           string              `json:"armSkuName"`
	SavingsPlan          []azureSavingsPrice `json:"savingsPlan,omitempty"`
}

type azureSavingsPrice struct {
	UnitPrice   float64 `json:"unitPrice"`
	RetailPrice float64 `json:"retailPrice"`
	Term        string  `json:"term"`
}

// azurePage is one answer of the API.
type azurePage struct {
	BillingCurrency    string      `json:"BillingCurrency"`
	CustomerEntityID   string      `json:"CustomerEntityId"`
	CustomerEntityType string      `json:"CustomerEntityType"`
	Items              []azureItem `json:"Items"`
	NextPageLink       *string     `json:"NextPageLink"`
	Count              int         `json:"Count"`
}

// azureFilterFields maps the $filter field names the API documents (matched
// without regard to case) to the item values they select on. priceType is
// the filter name of the items' type field.
var azureFilterFields = map[string]func(*azureItem) string{
	"armregionname": func(it *azureItem) string { return it.ArmRegionName },
	"location":      func(it *azureItem) string { return it.Location },
	"meterid":       func(it *azureItem) string { return it.MeterID },
	"metername":     func(it *azureItem) string { return it.MeterName },
	"productid":     func(it *azureItem) string { return it.ProductID },
	"skuid":         func(it *azureItem) string { return it.SkuID },
	"productname":   func(it *azureItem) string { return it.ProductName },
	"skuname":       func(it *azureItem) string { return it.SkuName },
	"servicename":   func(it *azureItem) string { return it.ServiceName },
	"serviceid":     func(it *azureItem) string { return it.ServiceID },
	"servicefamily": func(it *azureItem) string { return it.ServiceFamily },
	"pricetype":     func(it *azureItem) string { return it.Type },
	"armskuname":    func(it *azureItem) string { return it.ArmSkuName },
}

// loadAzureRecorded decodes the embedded recording. Each fake decodes its
// own copy (a few milliseconds), so fakes share no mutable state.
func loadAzureRecorded() ([]azureItem, error) {
	names, err := fs.Glob(azureRecorded, "testdata/azure/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var items []azureItem
	for _, name := range names {
		data, err := azureRecorded.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var p azurePage
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields() // a misspelt field in the recording is a bug
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		items = append(items, p.Items...)
	}
	return items, nil
}

// NewAzure returns a fake Azure Retail Prices API serving the recorded
// items. It panics if the embedded recording is invalid, which the package
// tests rule out.
func NewAzure(opts AzureOptions) *Azure {
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 1 << 30
	}
	if opts.SKUPageSize <= 0 {
		opts.SKUPageSize = 8
	}
	items, err := loadAzureRecorded()
	if err != nil {
		panic(fmt.Sprintf("fakecloud: recorded Azure data: %v", err))
	}
	items = synthesizeAzure(items, opts.Synthesize)
	skus, err := loadAzureSKUs()
	if err != nil {
		panic(fmt.Sprintf("fakecloud: recorded Azure SKUs: %v", err))
	}
	a := &Azure{opts: opts, items: items, skus: skus}
	a.skusH = a.SKUFaults.Wrap(http.HandlerFunc(a.serveSKUs), armErrorBody)
	seen := map[string]bool{}
	for i := range items {
		if r := items[i].ArmRegionName; !seen[r] {
			seen[r] = true
			a.regions = append(a.regions, r)
		}
	}
	sort.Strings(a.regions)
	a.h = a.Faults.Wrap(http.HandlerFunc(a.serve), azureErrorBody)
	return a
}

// synthesizeAzure returns recorded followed by n − len(recorded) older
// variations of its items (see AzureOptions.Synthesize).
func synthesizeAzure(recorded []azureItem, n int) []azureItem {
	if n <= len(recorded) {
		return recorded
	}
	out := make([]azureItem, n)
	copy(out, recorded)
	for i := len(recorded); i < n; i++ {
		h := splitmix64(uint64(i))
		it := recorded[i%len(recorded)]
		it.MeterID = fmt.Sprintf("%s-s%d", it.MeterID, i)
		it.EffectiveStartDate = "2019-01-01T00:00:00Z"
		factor := 0.85 + 0.3*float64(h%10_000)/10_000
		it.RetailPrice = round4(it.RetailPrice * factor)
		it.UnitPrice = it.RetailPrice
		it.SavingsPlan = nil
		out[i] = it
	}
	return out
}

// Len returns how many items the fake holds before any filtering.
func (a *Azure) Len() int { return len(a.items) }

// Regions lists the armRegionName values the recording holds, sorted.
func (a *Azure) Regions() []string { return append([]string(nil), a.regions...) }

// ServeHTTP implements http.Handler.
func (a *Azure) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(strings.ToLower(r.URL.Path), "/subscriptions/") {
		a.skusH.ServeHTTP(w, r)
		return
	}
	if isEntraPath(r.URL.Path) {
		a.serveEntra(w, r)
		return
	}
	a.h.ServeHTTP(w, r)
}

// azureErrorBody renders the API's error envelope.
func azureErrorBody(status int, msg string) (string, []byte) {
	code := strings.ReplaceAll(http.StatusText(status), " ", "")
	body, _ := json.Marshal(map[string]any{"Error": map[string]string{"Code": code, "Message": msg}})
	return "application/json; charset=utf-8", body
}

func azureError(w http.ResponseWriter, status int, msg string) {
	ct, body := azureErrorBody(status, msg)
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	w.Write(body)
}

func (a *Azure) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != AzurePath {
		azureError(w, http.StatusNotFound, "Not found")
		return
	}
	if r.Method != http.MethodGet {
		azureError(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	q := r.URL.Query()
	preview := q.Get("api-version") == AzurePreviewVersion
	terms, err := parseAzureFilter(q.Get("$filter"))
	if err != nil {
		// The real API says no more than this, whatever is wrong.
		azureError(w, http.StatusBadRequest, "Invalid OData parameters supplied")
		return
	}
	skip := 0
	if s := q.Get("$skip"); s != "" {
		if skip, err = strconv.Atoi(s); err != nil || skip < 0 {
			azureError(w, http.StatusBadRequest, "Invalid OData parameters supplied")
			return
		}
	}
	primaryOnly := strings.Trim(q.Get("meterRegion"), "'") == "primary"

	ft, faulty := FaultOf(r)
	if faulty && ft.Kind == Huge {
		a.serveHuge(w)
		return
	}

	var matched []*azureItem
	for i := range a.items {
		it := &a.items[i]
		if primaryOnly && !it.IsPrimaryMeterRegion {
			continue
		}
		if azureMatches(it, terms, !preview, a.opts.Loose) {
			matched = append(matched, it)
		}
	}
	size := a.opts.PageSize
	var page []*azureItem
	next := skip + size
	switch {
	case faulty && ft.Kind == Empty:
		next = -1
	case faulty && ft.Kind == EndlessPages:
		// Every page holds the first items and links to one more.
		page = matched[:min(size, len(matched))]
	default:
		if skip < len(matched) {
			page = matched[skip:min(skip+size, len(matched))]
		}
		if next >= len(matched) {
			next = -1
		}
	}

	out := azurePage{BillingCurrency: "USD", CustomerEntityID: "Default", CustomerEntityType: "Retail",
		Items: make([]azureItem, len(page)), Count: len(page)}
	for i, it := range page {
		out.Items[i] = a.priced(it, preview)
	}
	if next >= 0 {
		link := azureNextPageLink(r, next)
		out.NextPageLink = &link
	}

	var body any = out
	if faulty && ft.Kind == WrongTypes {
		body = a.wrongTyped(out)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(body)
}

// priced returns a copy of it with Drift applied; savings-plan prices only
// come with the preview api-version, as on the real API.
func (a *Azure) priced(it *azureItem, preview bool) azureItem {
	c := *it
	id := c.MeterID + "|" + c.Type + "|" + c.ReservationTerm
	c.RetailPrice = a.opts.Drift.Apply(id, c.RetailPrice)
	c.UnitPrice = a.opts.Drift.Apply(id, c.UnitPrice)
	if !preview {
		c.SavingsPlan = nil
	} else if len(c.SavingsPlan) > 0 {
		sp := make([]azureSavingsPrice, len(c.SavingsPlan))
		for i, p := range c.SavingsPlan {
			sp[i] = azureSavingsPrice{Term: p.Term, UnitPrice: a.opts.Drift.Apply(id, p.UnitPrice), RetailPrice: a.opts.Drift.Apply(id, p.RetailPrice)}
		}
		c.SavingsPlan = sp
	}
	return c
}

// wrongTyped reshapes a page the way a broken upstream might: alternately
// with prices as strings, and with Items as an object keyed by meterId.
func (a *Azure) wrongTyped(p azurePage) any {
	asMaps := func() []map[string]any {
		out := make([]map[string]any, len(p.Items))
		for i, it := range p.Items {
			b, _ := json.Marshal(it)
			var m map[string]any
			json.Unmarshal(b, &m)
			out[i] = m
		}
		return out
	}
	page := map[string]any{
		"BillingCurrency": p.BillingCurrency, "CustomerEntityId": p.CustomerEntityID,
		"CustomerEntityType": p.CustomerEntityType, "NextPageLink": p.NextPageLink, "Count": p.Count,
	}
	items := asMaps()
	if a.wrongTypes.Add(1)%2 == 1 {
		if len(items) == 0 {
			// Nothing to mistype: a price-less item still shows the fault.
			items = []map[string]any{{"armSkuName": "Standard_NC24ads_A100_v4"}}
		}
		for _, m := range items {
			m["retailPrice"] = strconv.FormatFloat(azureToFloat(m["retailPrice"]), 'f', -1, 64)
			m["unitPrice"] = strconv.FormatFloat(azureToFloat(m["unitPrice"]), 'f', -1, 64)
		}
		page["Items"] = items
		return page
	}
	byID := make(map[string]any, len(items))
	for i, m := range items {
		id, _ := m["meterId"].(string)
		byID[id+"#"+strconv.Itoa(i)] = m
	}
	page["Items"] = byID
	return page
}

func azureToFloat(v any) float64 {
	f, _ := v.(float64)
	return f
}

// serveHuge streams one page whose Items never seem to end: the same
// encoded item repeated until HugeBytes are written or the client hangs up.
// Nothing but that one item is held in memory.
func (a *Azure) serveHuge(w http.ResponseWriter) {
	item, _ := json.Marshal(a.priced(&a.items[0], true))
	streamHuge(w, a.opts.HugeBytes, `{"BillingCurrency":"USD","CustomerEntityId":"Default","CustomerEntityType":"Retail","Items":[`,
		func(int) []byte { return item }, func(n int) string { return fmt.Sprintf(`],"NextPageLink":null,"Count":%d}`, n) })
}

// azureNextPageLink is the request's own URL on its own host with $skip set,
// the way the real API builds it.
func azureNextPageLink(r *http.Request, skip int) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	var kept []string
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); kv == "" || (err == nil && uk == "$skip") {
			continue
		}
		kept = append(kept, kv)
	}
	kept = append(kept, "$skip="+strconv.Itoa(skip))
	return scheme + "://" + r.Host + r.URL.Path + "?" + strings.Join(kept, "&")
}

// azureTerm is one comparison of a $filter.
type azureTerm struct {
	field    string // lower-cased
	value    string
	contains bool // contains(field, value) eq want; else field eq value
	want     bool
}

func azureMatches(it *azureItem, terms []azureTerm, foldCase, loose bool) bool {
	for _, t := range terms {
		if loose && t.field != "armregionname" {
			continue
		}
		got := azureFilterFields[t.field](it)
		var ok bool
		switch {
		case t.contains && foldCase:
			ok = strings.Contains(strings.ToLower(got), strings.ToLower(t.value)) == t.want
		case t.contains:
			ok = strings.Contains(got, t.value) == t.want
		case foldCase:
			ok = strings.EqualFold(got, t.value)
		default:
			ok = got == t.value
		}
		if !ok {
			return false
		}
	}
	return true
}

// parseAzureFilter parses the OData subset the fake understands:
//
//	filter := term { "and" term }
//	term   := field "eq" string
//	        | "contains" "(" field "," string ")" "eq" ( "true" | "false" )
//
// Keywords and field names are matched without regard to case. Any other
// syntax (or, not, ne, startswith, in, grouping parentheses), an unknown
// field, or more comparisons than the real API takes is an error.
func parseAzureFilter(s string) ([]azureTerm, error) {
	toks, err := lexAzureFilter(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, nil
	}
	p := &azureParser{toks: toks}
	var terms []azureTerm
	for {
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
		if p.done() {
			break
		}
		if !p.keyword("and") {
			return nil, fmt.Errorf("expected 'and' at %q", p.peek().text)
		}
	}
	if len(terms) > azureMaxComparisons {
		return nil, fmt.Errorf("%d comparisons, more than %d", len(terms), azureMaxComparisons)
	}
	return terms, nil
}

type azureToken struct {
	text   string
	str    bool // a quoted string literal (text is its value)
	punct  bool // ( ) ,
	offset int
}

func lexAzureFilter(s string) ([]azureToken, error) {
	var toks []azureToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, azureToken{text: string(c), punct: true, offset: i})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string at %d", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' { // '' is a quote
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, azureToken{text: b.String(), str: true, offset: i})
			i = j + 1
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks = append(toks, azureToken{text: s[i:j], offset: i})
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	return toks, nil
}

type azureParser struct {
	toks []azureToken
	pos  int
}

func (p *azureParser) done() bool { return p.pos >= len(p.toks) }

func (p *azureParser) peek() azureToken {
	if p.done() {
		return azureToken{text: "end of filter"}
	}
	return p.toks[p.pos]
}

// keyword consumes the bare word w (any case) if it comes next.
func (p *azureParser) keyword(w string) bool {
	t := p.peek()
	if p.done() || t.str || t.punct || !strings.EqualFold(t.text, w) {
		return false
	}
	p.pos++
	return true
}

func (p *azureParser) punct(c string) bool {
	t := p.peek()
	if p.done() || !t.punct || t.text != c {
		return false
	}
	p.pos++
	return true
}

func (p *azureParser) field() (string, error) {
	t := p.peek()
	if p.done() || t.str || t.punct {
		return "", fmt.Errorf("expected a field name at %q", t.text)
	}
	f := strings.ToLower(t.text)
	if _, ok := azureFilterFields[f]; !ok {
		return "", fmt.Errorf("unknown field %q", t.text)
	}
	p.pos++
	return f, nil
}

func (p *azureParser) str() (string, error) {
	t := p.peek()
	if p.done() || !t.str {
		return "", fmt.Errorf("expected a quoted string at %q", t.text)
	}
	p.pos++
	return t.text, nil
}

func (p *azureParser) term() (azureTerm, error) {
	if p.keyword("contains") {
		var t azureTerm
		t.contains = true
		if !p.punct("(") {
			return t, fmt.Errorf("expected '(' after contains")
		}
		var err error
		if t.field, err = p.field(); err != nil {
			return t, err
		}
		if !p.punct(",") {
			return t, fmt.Errorf("expected ',' in contains()")
		}
		if t.value, err = p.str(); err != nil {
			return t, err
		}
		if !p.punct(")") {
			return t, fmt.Errorf("expected ')' closing contains()")
		}
		if !p.keyword("eq") {
			return t, fmt.Errorf("expected 'eq true|false' after contains()")
		}
		switch {
		case p.keyword("true"):
			t.want = true
		case p.keyword("false"):
			t.want = false
		default:
			return t, fmt.Errorf("expected true or false at %q", p.peek().text)
		}
		return t, nil
	}
	f, err := p.field()
	if err != nil {
		return azureTerm{}, err
	}
	if !p.keyword("eq") {
		return azureTerm{}, fmt.Errorf("expected 'eq' after %s at %q", f, p.peek().text)
	}
	v, err := p.str()
	if err != nil {
		return azureTerm{}, err
	}
	return azureTerm{field: f, value: v}, nil
}
