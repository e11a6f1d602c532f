package fakecloud

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// VastAIBasePath is the API prefix the Vast.ai fake serves under: point a
// collector's endpoint at Server.URL + VastAIBasePath.
const VastAIBasePath = "/api/v0"

// vastAIRecorded is a hand-written answer of the offer search, realistic in
// field names, units and price levels (see provider-apis.md §4). Its
// dph_total and search figures are those for allocated_storage 5.
//
//go:embed testdata/vastai/offers.json
var vastAIRecorded []byte

// VastAIOptions configures NewVastAI. The zero value serves the recorded
// offers unchanged.
type VastAIOptions struct {
	// Data replaces the recorded offers: a JSON document {"offers": [...]}
	// in the real answer format. Tests use it for small hand-computed
	// fixtures.
	Data []byte
	// Synthesize, when larger than the number of recorded offers, serves
	// that many offers: the recorded ones followed by variations of them
	// (new ids, prices within ±15%, other locations), derived
	// deterministically from the offer's index, for demos and benchmarks.
	// A smaller positive value serves only the first Synthesize offers.
	Synthesize int
	// Drift moves dph_base and min_bid over time (dph_total follows).
	Drift
	// APIKey, when set, is required as "Authorization: Bearer <key>";
	// otherwise any or no Authorization header is accepted, as the real
	// offer search does.
	APIKey string
	// JSONErrors renders injected 429 and 5xx answers as Vast's JSON
	// envelope {"success":false,"error":...,"msg":...} instead of plain
	// text ("API requests too frequent"); the real API uses both.
	JSONErrors bool
	// HugeBytes is how many bytes a Huge answer streams (default 4 GiB,
	// far beyond collectors.DefaultMaxResponseBytes). It stops early when
	// the client hangs up.
	HugeBytes int64
	// StaleIDs are offers of Data that the search index has not caught up
	// with (see VastAI). With the recorded offers, every offer recorded as
	// not rentable or rented is stale, and so are its synthesized
	// variations.
	StaleIDs []int64
}

// VastAI is a fake of Vast.ai's offer search, POST /api/v0/bundles/
// (with or without the trailing slash). It understands the real query body:
// filters on any offer field with the operators eq, neq, lt, lte, gt, gte,
// in and notin, and "type", "limit", "order" and "allocated_storage".
//
// Like the real search, it can answer with offers that do not match the
// query's rentable and rented filters: its index lags behind the offers'
// state. A stale offer (VastAIOptions.StaleIDs) is matched as it was
// listed, rentable and not rented, while the answer shows its current
// "rentable": false or "rented": true, so that a client which trusts
// the filters would price an offer nobody can rent. (The vast CLI and
// gpuhunt filter rented offers on the client for this reason.)
//
// Where the real rules are not documented the fake picks its own: "bid"
// (interruptible) searches list only offers with a min_bid, "reserved" is
// served like "on-demand", a missing limit means 64, allocated_storage
// defaults to 5 (GB), ordering by "score" keeps the recorded order, and an
// unknown filter field is a 400 so that client mistakes surface.
//
// Faults: the generic kinds come from Faults.Wrap; WrongTypes alternates
// between dph_total as a string and "offers" as an object keyed by id,
// Empty answers {"offers": []}, Huge streams an endless offer list, and
// EndlessPages does not apply (the search has no pagination) and is
// answered normally.
type VastAI struct {
	// Faults schedules misbehaviour; safe to use while serving.
	Faults Faults

	opts    VastAIOptions
	offers  []vastOffer
	handler http.Handler

	wrongTypes atomic.Int64 // WrongTypes answers served, to alternate shapes

	mu    sync.Mutex
	cache map[string][]byte // rendered answers by request body, when not drifting
}

// FaultQueue implements Faulty: Faults is the only API's queue.
func (v *VastAI) FaultQueue(api string) *Faults { return map[string]*Faults{"": &v.Faults}[api] }

// NewVastAI returns the fake. It panics if opts.Data is not a valid offer
// list: fixtures are written by programmers, not users.
func NewVastAI(opts VastAIOptions) *VastAI {
	data := opts.Data
	if data == nil {
		data = vastAIRecorded
	}
	var doc struct {
		Offers []vastOffer `json:"offers"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		panic(fmt.Sprintf("fakecloud: Vast.ai offers: %v", err))
	}
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 4 << 30
	}
	for i := range doc.Offers {
		o := &doc.Offers[i]
		if opts.Data == nil {
			o.stale = !o.Rentable || o.Rented
		} else {
			o.stale = slices.Contains(opts.StaleIDs, o.ID)
		}
	}
	v := &VastAI{opts: opts, offers: synthesize(doc.Offers, opts.Synthesize), cache: map[string][]byte{}}
	v.handler = v.Faults.Wrap(http.HandlerFunc(v.serve), v.errorBody)
	return v
}

// Len returns how many offers the fake holds before any filtering.
func (v *VastAI) Len() int { return len(v.offers) }

// ServeHTTP implements http.Handler.
func (v *VastAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Read the query before any fault: net/http notices a client hanging
	// up (and cancels r's context, which ends a Hang) only once the
	// request body has been consumed.
	body, err := readBody(r, 1<<20)
	if err != nil {
		vastError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	v.handler.ServeHTTP(w, r)
}

// vastOffer is one offer in the wire format. Pointers mark the fields the
// real API sends as null.
type vastOffer struct {
	ID                int64      `json:"id"`
	MachineID         int64      `json:"machine_id"`
	HostID            int64      `json:"host_id"`
	GPUName           string     `json:"gpu_name"`
	NumGPUs           int        `json:"num_gpus"`
	GPURAM            float64    `json:"gpu_ram"`
	GPUTotalRAM       float64    `json:"gpu_total_ram"`
	CPUCores          *int       `json:"cpu_cores"`
	CPUCoresEffective float64    `json:"cpu_cores_effective"`
	CPURAM            float64    `json:"cpu_ram"`
	DiskSpace         float64    `json:"disk_space"`
	DPHBase           *float64   `json:"dph_base"`
	DPHTotal          *float64   `json:"dph_total"`
	MinBid            *float64   `json:"min_bid"`
	StorageCost       float64    `json:"storage_cost"`
	InetDown          float64    `json:"inet_down"`
	InetUp            float64    `json:"inet_up"`
	InetDownCost      float64    `json:"inet_down_cost"` // $/GB received
	InetUpCost        float64    `json:"inet_up_cost"`   // $/GB sent
	Reliability2      float64    `json:"reliability2"`
	Verification      string     `json:"verification"`
	Verified          bool       `json:"verified"`
	Rentable          bool       `json:"rentable"`
	Rented            bool       `json:"rented"`
	External          bool       `json:"external"`
	HostingType       int        `json:"hosting_type"`
	Geolocation       *string    `json:"geolocation"`
	DLPerf            float64    `json:"dlperf"`
	ComputeCap        int        `json:"compute_cap"`
	CUDAMaxGood       float64    `json:"cuda_max_good"`
	Search            vastSearch `json:"search"`

	// stale marks an offer the search index still lists as rentable and
	// not rented (see VastAI).
	stale bool
}

type vastSearch struct {
	GPUCostPerHour float64 `json:"gpuCostPerHour"`
	DiskHour       float64 `json:"diskHour"`
	TotalHour      float64 `json:"totalHour"`
}

// field returns the value of the offer field a filter or order names, as
// float64, bool, string or nil (JSON null), and whether the field exists.
func (o *vastOffer) field(name string) (any, bool) {
	num := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	switch name {
	case "id":
		return float64(o.ID), true
	case "machine_id":
		return float64(o.MachineID), true
	case "host_id":
		return float64(o.HostID), true
	case "gpu_name":
		return o.GPUName, true
	case "num_gpus":
		return float64(o.NumGPUs), true
	case "gpu_ram":
		return o.GPURAM, true
	case "gpu_total_ram":
		return o.GPUTotalRAM, true
	case "cpu_cores":
		if o.CPUCores == nil {
			return nil, true
		}
		return float64(*o.CPUCores), true
	case "cpu_cores_effective":
		return o.CPUCoresEffective, true
	case "cpu_ram":
		return o.CPURAM, true
	case "disk_space":
		return o.DiskSpace, true
	case "dph_base":
		return num(o.DPHBase), true
	case "dph_total":
		return num(o.DPHTotal), true
	case "min_bid":
		return num(o.MinBid), true
	case "storage_cost":
		return o.StorageCost, true
	case "inet_down":
		return o.InetDown, true
	case "inet_up":
		return o.InetUp, true
	case "inet_down_cost":
		return o.InetDownCost, true
	case "inet_up_cost":
		return o.InetUpCost, true
	case "reliability2", "reliability":
		return o.Reliability2, true
	case "verification":
		return o.Verification, true
	case "verified":
		return o.Verified, true
	case "rentable":
		return o.Rentable, true
	case "rented":
		return o.Rented, true
	case "external":
		return o.External, true
	case "hosting_type":
		return float64(o.HostingType), true
	case "geolocation":
		if o.Geolocation == nil {
			return nil, true
		}
		return *o.Geolocation, true
	case "dlperf":
		return o.DLPerf, true
	case "compute_cap":
		return float64(o.ComputeCap), true
	case "cuda_max_good":
		return o.CUDAMaxGood, true
	}
	return nil, false
}

// vastQuery is a parsed search body.
type vastQuery struct {
	typ     string // "on-demand" or "bid"
	limit   int
	storage float64 // allocated_storage, GB
	order   []vastOrder
	filters []vastFilter
}

type vastOrder struct {
	field string
	desc  bool
}

type vastFilter struct {
	field, op string
	value     any
}

// vastOp reports whether op is one of the search operators.
func vastOp(op string) bool {
	switch op {
	case "eq", "neq", "lt", "lte", "gt", "gte", "in", "notin":
		return true
	}
	return false
}

// parseVastQuery checks and parses a search body; its errors are the 400
// message.
func parseVastQuery(body []byte) (*vastQuery, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("invalid JSON body: %v", err)
	}
	q := &vastQuery{typ: "on-demand", limit: 64, storage: 5}
	var probe vastOffer
	for key, val := range raw {
		switch key {
		case "type":
			if err := json.Unmarshal(val, &q.typ); err != nil {
				return nil, fmt.Errorf("type: %v", err)
			}
			switch q.typ {
			case "on-demand", "bid":
			case "reserved":
				q.typ = "on-demand"
			default:
				return nil, fmt.Errorf("type %q is not on-demand, bid or reserved", q.typ)
			}
		case "limit":
			if err := json.Unmarshal(val, &q.limit); err != nil || q.limit < 0 {
				return nil, fmt.Errorf("limit must be a non-negative integer")
			}
		case "allocated_storage":
			if err := json.Unmarshal(val, &q.storage); err != nil || q.storage < 0 {
				return nil, fmt.Errorf("allocated_storage must be a non-negative number")
			}
		case "disable_bundling":
			// Every fake offer is its own bundle already.
		case "order":
			var pairs [][]string
			if err := json.Unmarshal(val, &pairs); err != nil {
				return nil, fmt.Errorf("order must be a list of [field, direction] pairs")
			}
			for _, p := range pairs {
				if len(p) != 2 || (p[1] != "asc" && p[1] != "desc") {
					return nil, fmt.Errorf("order: %q is not a [field, asc|desc] pair", p)
				}
				if p[0] == "score" {
					continue // the fake has no score: recorded order
				}
				if v, ok := probe.field(p[0]); !ok || isString(v) {
					return nil, fmt.Errorf("order: cannot order by %q", p[0])
				}
				q.order = append(q.order, vastOrder{field: p[0], desc: p[1] == "desc"})
			}
		default:
			if _, ok := probe.field(key); !ok {
				return nil, fmt.Errorf("unknown search field %q", key)
			}
			fs, err := parseVastConditions(key, val)
			if err != nil {
				return nil, err
			}
			q.filters = append(q.filters, fs...)
		}
	}
	// Map order is random; apply filters in a fixed order so that errors
	// are reproducible.
	slices.SortFunc(q.filters, func(a, b vastFilter) int { return strings.Compare(a.field+a.op, b.field+b.op) })
	return q, nil
}

// parseVastConditions reads {"op": value, ...}, or a bare value meaning eq.
func parseVastConditions(field string, val json.RawMessage) ([]vastFilter, error) {
	var ops map[string]any
	if err := unmarshalNumbers(val, &ops); err != nil {
		var bare any
		if err := unmarshalNumbers(val, &bare); err != nil {
			return nil, fmt.Errorf("%s: %v", field, err)
		}
		ops = map[string]any{"eq": bare}
	}
	var out []vastFilter
	for op, v := range ops {
		if !vastOp(op) {
			return nil, fmt.Errorf("%s: unknown operator %q", field, op)
		}
		v, err := normalizeValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %v", field, op, err)
		}
		_, isList := v.([]any)
		if (op == "in" || op == "notin") != isList {
			return nil, fmt.Errorf("%s.%s: a list goes with in and notin, and only with them", field, op)
		}
		out = append(out, vastFilter{field: field, op: op, value: v})
	}
	return out, nil
}

func unmarshalNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// normalizeValue turns json.Numbers into float64 and rejects objects.
func normalizeValue(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Float64()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalizeValue(e)
			if err != nil {
				return nil, err
			}
			if _, nested := n.([]any); nested {
				return nil, errors.New("nested lists are not allowed")
			}
			out[i] = n
		}
		return out, nil
	case nil, bool, string:
		return x, nil
	}
	return nil, fmt.Errorf("unsupported value %v", v)
}

func isString(v any) bool { _, ok := v.(string); return ok }

// match reports whether the offer passes f. A value of another type than
// the field's is an error rather than a silent non-match.
func (f vastFilter) match(o *vastOffer) (bool, error) {
	have, _ := o.field(f.field)
	switch f.op {
	case "in", "notin":
		found := false
		for _, want := range f.value.([]any) {
			eq, err := equal(have, want)
			if err != nil {
				return false, fmt.Errorf("%s.%s: %v", f.field, f.op, err)
			}
			found = found || eq
		}
		return found == (f.op == "in"), nil
	case "eq", "neq":
		eq, err := equal(have, f.value)
		if err != nil {
			return false, fmt.Errorf("%s.%s: %v", f.field, f.op, err)
		}
		return eq == (f.op == "eq"), nil
	}
	want, ok := f.value.(float64)
	if !ok {
		return false, fmt.Errorf("%s.%s: %v is not a number", f.field, f.op, f.value)
	}
	h, ok := have.(float64)
	if !ok {
		if have == nil {
			return false, nil // null is neither less nor greater
		}
		return false, fmt.Errorf("%s.%s: the field is not numeric", f.field, f.op)
	}
	switch f.op {
	case "lt":
		return h < want, nil
	case "lte":
		return h <= want, nil
	case "gt":
		return h > want, nil
	default: // gte
		return h >= want, nil
	}
}

// equal compares an offer value with a query value; null matches only null.
func equal(have, want any) (bool, error) {
	if have == nil || want == nil {
		return have == nil && want == nil, nil
	}
	switch h := have.(type) {
	case float64:
		w, ok := want.(float64)
		if !ok {
			return false, fmt.Errorf("%v is not a number", want)
		}
		return h == w, nil
	case bool:
		w, ok := want.(bool)
		if !ok {
			return false, fmt.Errorf("%v is not a boolean", want)
		}
		return h == w, nil
	case string:
		w, ok := want.(string)
		if !ok {
			return false, fmt.Errorf("%v is not a string", want)
		}
		return h == w, nil
	}
	return false, fmt.Errorf("cannot compare %v", have)
}

func (v *VastAI) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != VastAIBasePath+"/bundles/" && r.URL.Path != VastAIBasePath+"/bundles" {
		vastError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		vastError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	if v.opts.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+v.opts.APIKey {
		vastError(w, http.StatusUnauthorized, "auth_error", "invalid or missing API key")
		return
	}
	body, err := io.ReadAll(r.Body) // already read and bounded by ServeHTTP
	if err != nil {
		vastError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if len(body) == 0 {
		vastError(w, http.StatusBadRequest, "invalid_request", "empty body: send a JSON search query")
		return
	}
	q, err := parseVastQuery(body)
	if err != nil {
		vastError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	ft, _ := FaultOf(r)
	if ft.Kind == Huge {
		v.serveHuge(w)
		return
	}
	var out []byte
	switch ft.Kind {
	case Empty:
		out = []byte(`{"offers": []}`)
	case WrongTypes:
		out, err = v.renderWrongTypes(q)
	default:
		out, err = v.answer(body, q)
	}
	var bad *badQuery
	if errors.As(err, &bad) {
		vastError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if err != nil {
		vastError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("reading body: %v", err)
	}
	return b, nil
}

// badQuery is a query that parsed but cannot be evaluated (a value of the
// wrong type for its field): the client's fault, a 400.
type badQuery struct{ err error }

func (e *badQuery) Error() string { return e.err.Error() }

// search prices, filters, orders and limits the offers for one query.
func (v *VastAI) search(q *vastQuery) ([]vastOffer, error) {
	out := make([]vastOffer, 0, min(len(v.offers), max(q.limit, 0)))
	for i := range v.offers {
		o := v.price(v.offers[i], q.storage)
		if q.typ == "bid" && o.MinBid == nil {
			continue
		}
		keep := true
		indexed := &o
		if o.stale {
			listed := o
			listed.Rentable, listed.Rented = true, false
			indexed = &listed
		}
		for _, f := range q.filters {
			ok, err := f.match(indexed)
			if err != nil {
				return nil, &badQuery{err}
			}
			if !ok {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, o)
		}
	}
	if len(q.order) > 0 {
		slices.SortStableFunc(out, func(a, b vastOffer) int {
			for _, k := range q.order {
				x, _ := a.field(k.field)
				y, _ := b.field(k.field)
				if c := compareNullable(x, y); c != 0 {
					if k.desc {
						return -c
					}
					return c
				}
			}
			return 0
		})
	}
	if len(out) > q.limit {
		out = out[:q.limit]
	}
	return out, nil
}

// compareNullable orders numbers and booleans, nulls last.
func compareNullable(x, y any) int {
	fx, okx := sortValue(x)
	fy, oky := sortValue(y)
	switch {
	case !okx && !oky:
		return 0
	case !okx:
		return 1
	case !oky:
		return -1
	case fx < fy:
		return -1
	case fx > fy:
		return 1
	}
	return 0
}

func sortValue(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// price returns a copy of o priced for this moment and storage: drift on
// dph_base and min_bid, and dph_total = dph_base + storage_cost (per GB per
// month) × allocated storage / 720 hours.
func (v *VastAI) price(o vastOffer, storageGB float64) vastOffer {
	if o.DPHBase == nil {
		return o // a broken record stays as recorded
	}
	id := strconv.FormatInt(o.ID, 10)
	base := v.opts.Drift.Apply(id, *o.DPHBase)
	disk := round4(o.StorageCost * storageGB / 720)
	total := round4(base + disk)
	o.DPHBase, o.DPHTotal = &base, &total
	if o.MinBid != nil {
		bid := v.opts.Drift.Apply(id+"/bid", *o.MinBid)
		o.MinBid = &bid
	}
	o.Search = vastSearch{GPUCostPerHour: base, DiskHour: disk, TotalHour: total}
	return o
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// answer searches and encodes a normal answer. Without drift the answer
// depends only on the body, so it is cached: a demo or benchmark asking
// for 30k offers every few seconds then costs the fake a map lookup.
func (v *VastAI) answer(body []byte, q *vastQuery) ([]byte, error) {
	cacheable := v.opts.Drift.Tick <= 0
	if cacheable {
		v.mu.Lock()
		out, ok := v.cache[string(body)]
		v.mu.Unlock()
		if ok {
			return out, nil
		}
	}
	offers, err := v.search(q)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(struct {
		Offers []vastOffer `json:"offers"`
	}{offers})
	if err != nil {
		return nil, err
	}
	if cacheable {
		v.mu.Lock()
		if len(v.cache) >= 16 {
			clear(v.cache)
		}
		v.cache[string(body)] = out
		v.mu.Unlock()
	}
	return out, nil
}

// renderWrongTypes breaks the answer in one of two ways, alternately:
// dph_total as a string (a type change upstream), or "offers" as an object
// keyed by id instead of a list.
func (v *VastAI) renderWrongTypes(q *vastQuery) ([]byte, error) {
	offers, err := v.search(q)
	if err != nil {
		return nil, err
	}
	if v.wrongTypes.Add(1)%2 == 0 {
		byID := make(map[string]vastOffer, len(offers))
		for _, o := range offers {
			byID[strconv.FormatInt(o.ID, 10)] = o
		}
		return json.Marshal(map[string]any{"offers": byID})
	}
	list := make([]map[string]any, 0, len(offers))
	for _, o := range offers {
		b, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		if o.DPHTotal != nil {
			m["dph_total"] = strconv.FormatFloat(*o.DPHTotal, 'f', -1, 64)
		}
		list = append(list, m)
	}
	return json.Marshal(map[string]any{"offers": list})
}

// serveHuge streams a well-formed start of an offer list that goes on for
// HugeBytes, without ever holding more than one offer in memory.
func (v *VastAI) serveHuge(w http.ResponseWriter) {
	encoded := make([][]byte, 0, min(len(v.offers), 128))
	for i := 0; i < len(v.offers) && i < 128; i++ {
		b, _ := json.Marshal(v.price(v.offers[i], 5))
		encoded = append(encoded, b)
	}
	if len(encoded) == 0 {
		encoded = append(encoded, []byte(`{}`))
	}
	streamHuge(w, v.opts.HugeBytes, `{"offers": [`, func(i int) []byte { return encoded[i%len(encoded)] },
		func(int) string { return "]}" })
}

// counted widens a Write result for the running total.
func counted(n int, err error) (int64, error) { return int64(n), err }

// errorBody renders the injected 429 and 5xx answers.
func (v *VastAI) errorBody(status int, msg string) (string, []byte) {
	if status == http.StatusTooManyRequests {
		msg = "API requests too frequent"
	}
	if !v.opts.JSONErrors {
		return "text/plain; charset=utf-8", []byte(msg)
	}
	code := "server_error"
	if status == http.StatusTooManyRequests {
		code = "too_many_requests"
	}
	b, _ := json.Marshal(map[string]any{"success": false, "error": code, "msg": msg})
	return "application/json", b
}

// vastError writes the fake's own errors in Vast's JSON envelope.
func vastError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]any{"success": false, "error": code, "msg": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// vastPlaces are the locations synthesized offers move to; a null
// geolocation is part of the mix, as on the real market.
var vastPlaces = []string{
	"Texas, US", "California, US", "Oregon, US", "Virginia, US", "Ohio, US", "Nevada, US",
	"Quebec, CA", "Ontario, CA", "Frankfurt, DE", "Bavaria, DE", "Stockholm, SE", "Helsinki, FI",
	"Oslo, NO", "Amsterdam, NL", "Warsaw, PL", "Prague, CZ", "Madrid, ES", "Paris, FR",
	"England, GB", "Reykjavik, IS", "Tokyo, JP", "Seoul, KR", "Taipei, TW", "Singapore, SG",
	"Hong Kong, HK", "Maharashtra, IN", "New South Wales, AU", "Sao Paulo, BR", "",
}

// synthesize returns n offers: the recorded ones first, then variations of
// them whose every difference is a function of the offer's index only.
func synthesize(recorded []vastOffer, n int) []vastOffer {
	if n <= 0 {
		return recorded
	}
	if n <= len(recorded) {
		return recorded[:n]
	}
	out := make([]vastOffer, n)
	copy(out, recorded)
	for i := len(recorded); i < n; i++ {
		h := splitmix64(uint64(i))
		o := recorded[i%len(recorded)]
		o.ID = 30_000_000 + int64(i)
		o.MachineID = 50_000 + int64(i/2)
		o.HostID = 200_000 + int64(i/7)
		factor := 0.85 + 0.3*float64(h%10_000)/10_000
		if o.DPHBase != nil {
			base := round4(*o.DPHBase * factor)
			o.DPHBase = &base
		}
		if o.MinBid != nil {
			bid := round4(*o.MinBid * factor)
			o.MinBid = &bid
		}
		if place := vastPlaces[(h>>20)%uint64(len(vastPlaces))]; place == "" {
			o.Geolocation = nil
		} else {
			o.Geolocation = &place
		}
		o.Reliability2 = round4(0.95 + 0.0499*float64((h>>40)%1000)/1000)
		out[i] = o
	}
	return out
}

// splitmix64 is a fixed, well-mixed hash of an index: synthesized data must
// be the same on every run and every platform.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
