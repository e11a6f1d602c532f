package fakecloud

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// GCPComputeService is the Billing Catalog's name of Compute Engine, the one
// service the fake knows.
const GCPComputeService = "services/6F81-5844-456A"

// The credentials the fake accepts unless GCPOptions says otherwise.
const (
	GCPDemoKey     = "gpuprice-demo-key"
	GCPDemoToken   = "gpuprice-demo-token"
	GCPDemoProject = "gpuprice-demo"
)

// gcpMaxPageSize is the largest page the real Billing Catalog serves.
const gcpMaxPageSize = 5000

// GCPOptions configures NewGCP. The zero value serves the table of
// gcp_data.go with the real API's page size and the demo credentials.
type GCPOptions struct {
	// MaxPageSize caps the SKUs per page below the client's pageSize
	// (default and at most 5000, the real cap); tests use small pages.
	MaxPageSize int
	// Keys are the API keys accepted (default GCPDemoKey), as the key
	// query parameter or the X-Goog-Api-Key header.
	Keys []string
	// Tokens are the OAuth access tokens accepted as "Authorization:
	// Bearer" (default GCPDemoToken): application default credentials.
	Tokens []string
	// Projects are the projects whose accelerator types the Compute fake
	// lists (default GCPDemoProject); others get 403.
	Projects []string
	// Filler adds that many SKUs of no use to a GPU collector (licences,
	// disks, network, N2 cores), for demos and benchmarks at the real
	// catalog's size (some 40,000).
	Filler int
	// Drift moves the prices over time (for the demo).
	Drift
	// HugeBytes is the size of the body served for the Huge fault
	// (default 1 GiB, far above any client limit).
	HugeBytes int64
	// KnownGPUsOnly leaves out the one GPU the catalog does not know
	// (GCPUnknownGPU, there to show an unknown GPU come out as UNKNOWN):
	// the demo's fakes name only GPUs the catalog maps.
	KnownGPUsOnly bool
}

// GCPUnknownGPU is the accelerator type of the fake's GPU that no catalog
// knows: an invented Nvidia R200, priced like the GPUs beside it.
const GCPUnknownGPU = "nvidia-r200"

// GCP is a fake of the two Google Cloud APIs a price collector uses, over
// Google's REST JSON:
//
//   - Cloud Billing Catalog: GET /v1/services/{service}/skus with pageSize,
//     pageToken and currencyCode (USD only), authenticated by an API key
//     (key parameter or X-Goog-Api-Key) or a bearer token. int64 units
//     are strings, enums follow $alt=json;enum-encoding=int, and the last
//     page has no nextPageToken.
//   - Compute Engine: GET /compute/v1/projects/{project}/aggregated/acceleratorTypes
//     with maxResults and pageToken, bearer token only (the API takes no
//     API key); items are keyed "zones/<zone>", zones without accelerators
//     carry a NO_RESULTS_ON_PAGE warning.
//
// Errors use Google's JSON envelope {"error": {"code", "message",
// "status", "details"}}: 400 INVALID_ARGUMENT for a bad key or page token,
// 403 PERMISSION_DENIED without credentials, 401 UNAUTHENTICATED for a bad
// token, 429 RESOURCE_EXHAUSTED (injected, with Retry-After).
//
// Faults apply to billing requests, ComputeFaults to Compute Engine ones.
// Billing-specific kinds: WrongTypes alternates between a fractional
// int64 (units 1.5) and serviceRegions as a string; Empty answers {};
// EndlessPages keeps announcing a next page; Huge streams an endless SKU
// list. Compute Engine's Empty answers an aggregated list without items.
type GCP struct {
	// Faults schedules misbehaviour of the Cloud Billing API.
	Faults Faults
	// ComputeFaults schedules misbehaviour of the Compute Engine API.
	ComputeFaults Faults

	opts       GCPOptions
	skus       []gcpSKU
	zones      []gcpZone
	billing    http.Handler
	compute    http.Handler
	wrongTypes atomic.Uint64
}

// FaultQueue implements Faulty: the APIs are "" (Cloud Billing) and
// "compute" (Compute Engine).
func (g *GCP) FaultQueue(api string) *Faults {
	return map[string]*Faults{"": &g.Faults, "compute": &g.ComputeFaults}[api]
}

// gcpZone is one zone and the accelerator types it offers.
type gcpZone struct {
	name   string
	accels []gcpAcceleratorType
}

// gcpAcceleratorType is computepb.AcceleratorType in REST JSON.
type gcpAcceleratorType struct {
	Kind                    string         `json:"kind"`
	ID                      string         `json:"id"`
	CreationTimestamp       string         `json:"creationTimestamp"`
	Name                    string         `json:"name"`
	Description             string         `json:"description"`
	Zone                    string         `json:"zone"`
	SelfLink                string         `json:"selfLink"`
	MaximumCardsPerInstance int32          `json:"maximumCardsPerInstance"`
	Deprecated              *gcpDeprecated `json:"deprecated,omitempty"`
}

type gcpDeprecated struct {
	State string `json:"state"`
}

// NewGCP returns the fake.
func NewGCP(opts GCPOptions) *GCP {
	if opts.MaxPageSize <= 0 || opts.MaxPageSize > gcpMaxPageSize {
		opts.MaxPageSize = gcpMaxPageSize
	}
	if opts.Keys == nil {
		opts.Keys = []string{GCPDemoKey}
	}
	if opts.Tokens == nil {
		opts.Tokens = []string{GCPDemoToken}
	}
	if opts.Projects == nil {
		opts.Projects = []string{GCPDemoProject}
	}
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 1 << 30
	}
	g := &GCP{opts: opts, skus: gcpCatalog(opts.Filler, opts.KnownGPUsOnly), zones: gcpZones(opts.KnownGPUsOnly)}
	g.billing = g.Faults.Wrap(http.HandlerFunc(g.serveSKUs), gcpErrorBody)
	g.compute = g.ComputeFaults.Wrap(http.HandlerFunc(g.serveAcceleratorTypes), gcpErrorBody)
	return g
}

// Len returns how many SKUs the fake lists.
func (g *GCP) Len() int { return len(g.skus) }

// Regions lists every region some SKU of the fake lists, sorted.
func (g *GCP) Regions() []string {
	var out []string
	for _, l := range gcpLocations {
		out = append(out, l.regions...)
	}
	sort.Strings(out)
	return out
}

// ServeHTTP implements http.Handler.
func (g *GCP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1/"):
		g.billing.ServeHTTP(w, r)
	case strings.HasPrefix(r.URL.Path, "/compute/v1/"):
		g.compute.ServeHTTP(w, r)
	default:
		gcpError(w, http.StatusNotFound, "NOT_FOUND", "The requested URL "+r.URL.Path+" was not found on this server.", "")
	}
}

// gcpStatuses maps HTTP statuses to google.rpc.Code names.
var gcpStatuses = map[int]string{
	400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
	429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}

// gcpErrorBody renders Google's error envelope for the generic faults.
func gcpErrorBody(status int, msg string) (string, []byte) {
	reason := ""
	if status == http.StatusTooManyRequests {
		reason = "RATE_LIMIT_EXCEEDED"
	}
	return gcpErrorJSON(status, gcpStatuses[status], msg, reason)
}

func gcpErrorJSON(status int, code, msg, reason string) (string, []byte) {
	if code == "" {
		code = "UNKNOWN"
	}
	e := map[string]any{"code": status, "message": msg, "status": code}
	if reason != "" {
		e["details"] = []any{map[string]any{
			"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com",
		}}
	}
	body, _ := json.Marshal(map[string]any{"error": e})
	return "application/json; charset=UTF-8", body
}

func gcpError(w http.ResponseWriter, status int, code, msg, reason string) {
	ct, body := gcpErrorJSON(status, code, msg, reason)
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	w.Write(body)
}

// authorize checks the request's API key or bearer token; it answers and
// returns false when they do not pass. allowKey is false for APIs that
// take no API key.
func (g *GCP) authorize(w http.ResponseWriter, r *http.Request, allowKey bool) bool {
	key := r.URL.Query().Get("key")
	if key == "" {
		key = r.Header.Get("X-Goog-Api-Key")
	}
	token, hasToken := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case hasToken && slices.Contains(g.opts.Tokens, token):
		return true
	case hasToken:
		gcpError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. "+
			"Expected OAuth 2 access token, login cookie or other valid authentication credential.", "ACCESS_TOKEN_TYPE_UNSUPPORTED")
	case key != "" && !allowKey:
		gcpError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "API keys are not supported by this API. "+
			"Expected OAuth2 access token or other authentication credentials that assert a principal.", "CREDENTIALS_MISSING")
	case key != "" && slices.Contains(g.opts.Keys, key):
		return true
	case key != "":
		gcpError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID")
	default:
		gcpError(w, http.StatusForbidden, "PERMISSION_DENIED", "Method doesn't allow unregistered callers "+
			"(callers without established identity). Please use API Key or other form of API consumer identity to call this API.", "")
	}
	return false
}

// gcpPageToken encodes a position; tokens are opaque to clients.
func gcpPageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func gcpParsePageToken(tok string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(string(b), "offset:")
	n, err := strconv.Atoi(s)
	return n, ok && err == nil && n >= 0
}

func (g *GCP) serveSKUs(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		gcpError(w, http.StatusMethodNotAllowed, "", "Method not allowed", "")
		return
	}
	service, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v1/"), "/skus")
	if !ok || !strings.HasPrefix(service, "services/") {
		gcpError(w, http.StatusNotFound, "NOT_FOUND", "The requested URL "+r.URL.Path+" was not found on this server.", "")
		return
	}
	if !g.authorize(w, r, true) {
		return
	}
	if service != GCPComputeService {
		gcpError(w, http.StatusNotFound, "NOT_FOUND", "Service not found: "+service, "")
		return
	}
	q := r.URL.Query()
	if cc := q.Get("currencyCode"); cc != "" && cc != "USD" {
		gcpError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "The fake serves USD prices only, not "+cc+".", "")
		return
	}
	size := gcpMaxPageSize
	if s := q.Get("pageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			gcpError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid value at 'page_size' (TYPE_INT32), \""+s+"\"", "")
			return
		}
		if n > 0 {
			size = n
		}
	}
	size = min(size, g.opts.MaxPageSize)
	offset, ok := gcpParsePageToken(q.Get("pageToken"))
	if !ok || offset > len(g.skus) {
		gcpError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Page token is invalid.", "")
		return
	}
	enumInts := strings.Contains(q.Get("$alt"), "enum-encoding=int")

	ft, faulty := FaultOf(r)
	if faulty && ft.Kind == Huge {
		g.serveHuge(w, enumInts)
		return
	}
	if faulty && ft.Kind == Empty {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Write([]byte("{}\n"))
		return
	}
	end := min(offset+size, len(g.skus))
	page := make([]gcpSKU, 0, end-offset)
	for i := offset; i < end; i++ {
		page = append(page, g.render(&g.skus[i], enumInts))
	}
	out := map[string]any{"skus": page}
	switch {
	case faulty && ft.Kind == EndlessPages:
		// Always one more page: past the end, the catalog again.
		next := end
		if next >= len(g.skus) {
			next = 0
		}
		out["nextPageToken"] = gcpPageToken(next)
	case end < len(g.skus):
		out["nextPageToken"] = gcpPageToken(end)
	}
	if faulty && ft.Kind == WrongTypes {
		out["skus"] = g.wrongTyped(page)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(w).Encode(out)
}

// render returns s as served: drifted, with units and nanos, and its enum
// in the encoding the client asked for.
func (g *GCP) render(s *gcpSKU, enumInts bool) gcpSKU {
	c := *s
	usd := g.opts.Drift.Apply(c.SkuID, c.usd)
	total := int64(math.Round(usd * 1e9))
	pi := c.PricingInfo[0]
	pi.PricingExpression.TieredRates = []gcpTierRate{{UnitPrice: gcpMoney{
		CurrencyCode: "USD", Units: strconv.FormatInt(total/1e9, 10), Nanos: int32(total % 1e9),
	}}}
	c.PricingInfo = []gcpPricingInfo{pi}
	if enumInts {
		c.GeoTaxonomy.Type = gcpGeoTypes[c.GeoTaxonomy.Type.(string)]
	}
	return c
}

// wrongTyped breaks a page the way a broken upstream might: alternately a
// fractional int64 and a list given as a string.
func (g *GCP) wrongTyped(page []gcpSKU) []any {
	out := make([]any, len(page))
	for i := range page {
		b, _ := json.Marshal(page[i])
		var m map[string]any
		json.Unmarshal(b, &m)
		out[i] = m
	}
	if len(out) == 0 {
		return out
	}
	m := out[0].(map[string]any)
	if g.wrongTypes.Add(1)%2 == 1 {
		pi := m["pricingInfo"].([]any)[0].(map[string]any)
		rate := pi["pricingExpression"].(map[string]any)["tieredRates"].([]any)[0].(map[string]any)
		rate["unitPrice"].(map[string]any)["units"] = 1.5
		return out
	}
	m["serviceRegions"] = strings.Join(page[0].ServiceRegions, ",")
	return out
}

// serveHuge streams a page whose SKU list never seems to end, holding only
// one rendered SKU in memory.
func (g *GCP) serveHuge(w http.ResponseWriter, enumInts bool) {
	item, _ := json.Marshal(g.render(&g.skus[0], enumInts))
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	streamHuge(w, g.opts.HugeBytes, `{"skus":[`, func(int) []byte { return item }, func(int) string { return "]}" })
}

// gcpZones derives the Compute fake's zones from the SKU table: in each
// region, zone -a offers every accelerator type priced there (but those of
// gcpUnavailable), zone -b only the L4 and T4 families, zone -c none.
func gcpZones(knownOnly bool) []gcpZone {
	type accel struct {
		name, desc string
		maxCards   int32
	}
	byRegion := map[string][]accel{}
	offer := func(name, desc string, maxCards int32, locs string) {
		for _, l := range gcpLocationsOf(locs) {
			for _, r := range l.regions {
				if slices.Contains(gcpUnavailable[name], r) || slices.ContainsFunc(byRegion[r], func(a accel) bool { return a.name == name }) {
					continue
				}
				byRegion[r] = append(byRegion[r], accel{name, desc, maxCards})
			}
		}
	}
	for _, g := range gcpGPURows {
		if knownOnly && g.accel == GCPUnknownGPU {
			continue
		}
		offer(g.accel, "NVIDIA "+strings.TrimPrefix(strings.TrimPrefix(g.name, "Nvidia "), "Tesla "), g.maxCards, g.locs)
	}
	for _, s := range gcpSliceRows {
		offer(s.accel, strings.ToUpper(s.gpu[:6])+s.gpu[6:], s.maxCards, s.locs)
	}
	var zones []gcpZone
	for _, l := range gcpLocations {
		for _, r := range l.regions {
			for _, suffix := range []string{"a", "b", "c"} {
				z := gcpZone{name: r + "-" + suffix}
				for _, a := range byRegion[r] {
					if suffix == "c" || (suffix == "b" && !strings.HasPrefix(a.name, "nvidia-l4") && !strings.HasPrefix(a.name, "nvidia-tesla-t4")) {
						continue
					}
					z.accels = append(z.accels, gcpNewAcceleratorType(z.name, a.name, a.desc, a.maxCards))
				}
				zones = append(zones, z)
			}
		}
	}
	sort.Slice(zones, func(i, j int) bool { return zones[i].name < zones[j].name })
	return zones
}

func gcpNewAcceleratorType(zone, name, desc string, maxCards int32) gcpAcceleratorType {
	h := fnv.New64a()
	h.Write([]byte(zone + "/" + name))
	at := gcpAcceleratorType{
		Kind:                    "compute#acceleratorType",
		ID:                      strconv.FormatUint(h.Sum64()>>1, 10),
		CreationTimestamp:       "1969-12-31T16:00:00.000-08:00",
		Name:                    name,
		Description:             desc,
		Zone:                    "https://www.googleapis.com/compute/v1/projects/{project}/zones/" + zone,
		SelfLink:                "https://www.googleapis.com/compute/v1/projects/{project}/zones/" + zone + "/acceleratorTypes/" + name,
		MaximumCardsPerInstance: maxCards,
	}
	if gcpObsolete[name] {
		at.Deprecated = &gcpDeprecated{State: "OBSOLETE"}
	}
	return at
}

func (g *GCP) serveAcceleratorTypes(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/compute/v1/projects/")
	project, ok2 := strings.CutSuffix(rest, "/aggregated/acceleratorTypes")
	if !ok || !ok2 || project == "" || strings.Contains(project, "/") {
		gcpError(w, http.StatusNotFound, "NOT_FOUND", "The requested URL "+r.URL.Path+" was not found on this server.", "")
		return
	}
	if r.Method != http.MethodGet {
		gcpError(w, http.StatusMethodNotAllowed, "", "Method not allowed", "")
		return
	}
	if !g.authorize(w, r, false) {
		return
	}
	if !slices.Contains(g.opts.Projects, project) {
		gcpError(w, http.StatusForbidden, "PERMISSION_DENIED",
			fmt.Sprintf("Required 'compute.acceleratorTypes.list' permission for 'projects/%s'", project), "")
		return
	}
	q := r.URL.Query()
	size := 500
	if s := q.Get("maxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 500 {
			gcpError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid value for field 'maxResults': '"+s+"'. Must be less than or equal to 500", "")
			return
		}
		if n > 0 {
			size = n
		}
	}
	offset, ok := gcpParsePageToken(q.Get("pageToken"))
	if !ok || offset > len(g.zones) {
		gcpError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid value for field 'pageToken': '"+q.Get("pageToken")+"'.", "")
		return
	}
	end := min(offset+size, len(g.zones))
	zones := g.zones[offset:end]
	if ft, faulty := FaultOf(r); faulty && ft.Kind == Empty {
		zones, end = nil, len(g.zones) // a well-formed list of nothing
	}
	items := map[string]any{}
	for _, z := range zones {
		if len(z.accels) == 0 {
			items["zones/"+z.name] = map[string]any{"warning": map[string]any{
				"code": "NO_RESULTS_ON_PAGE", "message": "There are no results for scope 'zones/" + z.name + "' on this page.",
				"data": []any{map[string]string{"key": "scope", "value": "zones/" + z.name}},
			}}
			continue
		}
		ats := make([]gcpAcceleratorType, len(z.accels))
		for i, at := range z.accels {
			at.Zone = strings.Replace(at.Zone, "{project}", project, 1)
			at.SelfLink = strings.Replace(at.SelfLink, "{project}", project, 1)
			ats[i] = at
		}
		items["zones/"+z.name] = map[string]any{"acceleratorTypes": ats}
	}
	out := map[string]any{
		"kind":     "compute#acceleratorTypeAggregatedList",
		"id":       "projects/" + project + "/aggregated/acceleratorTypes",
		"items":    items,
		"selfLink": "https://www.googleapis.com/compute/v1/projects/" + project + "/aggregated/acceleratorTypes",
	}
	if end < len(g.zones) {
		out["nextPageToken"] = gcpPageToken(end)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(w).Encode(out)
}
