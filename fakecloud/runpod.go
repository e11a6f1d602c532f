package fakecloud

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
)

// RunpodPath is the path of the Runpod fake's GraphQL endpoint: point a
// collector's endpoint at Server.URL + RunpodPath.
const RunpodPath = "/graphql"

// RunpodGraphQLError is a fault only the Runpod fake knows: an HTTP 200
// whose body carries a GraphQL "errors" array and no data, which is how
// Runpod reports failures of a well-formed request.
const RunpodGraphQLError FaultKind = "graphql_error"

// runpodRecorded holds hand-written GPU types in the fake's own format (see
// RunpodOptions.Data): 26 types, some not offered in one tier, some out of
// stock (stockStatus null), some without spot prices, one MIG slice and
// one GPU the catalog does not know.
//
//go:embed testdata/runpod/gputypes.json
var runpodRecorded []byte

// RunpodOptions configures NewRunpod. The zero value serves the recorded
// GPU types unchanged to anyone.
type RunpodOptions struct {
	// Data replaces the recorded GPU types: a JSON document
	// {"gpuTypes": [...]} whose entries hold the gpuTypes fields (id,
	// displayName, manufacturer, memoryInGb, maxGpuCount, secureCloud,
	// communityCloud, securePrice, communityPrice, secureSpotPrice,
	// communitySpotPrice) and, under "secure" and "community", what
	// lowestPrice answers for one GPU in that tier.
	Data []byte
	// Drift moves every price over time.
	Drift
	// APIKey, when set, is required as the api_key query parameter; a
	// missing or wrong key gets HTTP 401 with a GraphQL error body (the
	// fake's choice: real answers to a bad key are not documented).
	// Otherwise any or no key is accepted, as gpuTypes is public.
	APIKey string
	// HugeBytes is how many bytes a Huge answer streams (default 4 GiB).
	HugeBytes int64
}

// Runpod is a fake of Runpod's GraphQL API, POST /graphql with a JSON body
// {"query", "variables", "operationName"}. It reads the query (see
// parseGraphQL) and answers the root field gpuTypes, honouring the
// selection set (aliases included) the way a GraphQL server does: only
// the requested fields come back, and a field it does not serve is a
// GraphQL error. gpuTypes takes input: {id, cluster}; lowestPrice takes
// input: {gpuCount, secureCloud, ...}: secureCloud true or false answers
// that tier's stock, left out the better of the two; a gpuCount above the
// type's maxGpuCount is out of stock.
//
// Errors follow the GraphQL-over-HTTP convention for JSON: a well-formed
// request whose query is wrong (syntax, unknown field, undefined variable)
// gets HTTP 200 with {"errors": [{"message": ...}]}; a body that is not a
// GraphQL request gets 400.
//
// Faults: the generic kinds come from Faults.Wrap (error bodies in the
// GraphQL errors format); RunpodGraphQLError answers 200 with errors and
// "data": null; WrongTypes sends the prices as strings; Empty answers an
// empty gpuTypes list; Huge streams an endless one; EndlessPages does not
// apply (no pagination) and is answered normally.
type Runpod struct {
	// Faults schedules misbehaviour; safe to use while serving.
	Faults Faults

	opts    RunpodOptions
	handler http.Handler

	mu    sync.Mutex
	types []runpodGPUType
}

// FaultQueue implements Faulty: Faults is the only API's queue.
func (f *Runpod) FaultQueue(api string) *Faults { return map[string]*Faults{"": &f.Faults}[api] }

type runpodGPUType struct {
	ID                 string            `json:"id"`
	DisplayName        string            `json:"displayName"`
	Manufacturer       string            `json:"manufacturer"`
	MemoryInGb         int               `json:"memoryInGb"`
	MaxGpuCount        int               `json:"maxGpuCount"`
	SecureCloud        bool              `json:"secureCloud"`
	CommunityCloud     bool              `json:"communityCloud"`
	SecurePrice        *float64          `json:"securePrice"`
	CommunityPrice     *float64          `json:"communityPrice"`
	SecureSpotPrice    *float64          `json:"secureSpotPrice"`
	CommunitySpotPrice *float64          `json:"communitySpotPrice"`
	Secure             runpodLowestPrice `json:"secure"`
	Community          runpodLowestPrice `json:"community"`
}

type runpodLowestPrice struct {
	StockStatus           *string  `json:"stockStatus"`
	CountryCode           *string  `json:"countryCode"`
	MinimumBidPrice       *float64 `json:"minimumBidPrice"`
	UninterruptablePrice  *float64 `json:"uninterruptablePrice"`
	MinVcpu               *int     `json:"minVcpu"`
	MinMemory             *int     `json:"minMemory"`
	AvailableGpuCounts    []int    `json:"availableGpuCounts"`
	MaxUnreservedGpuCount *int     `json:"maxUnreservedGpuCount"`
}

// NewRunpod returns the fake. It panics if opts.Data is not a valid GPU
// type list: fixtures are written by programmers, not users.
func NewRunpod(opts RunpodOptions) *Runpod {
	data := opts.Data
	if data == nil {
		data = runpodRecorded
	}
	var doc struct {
		Comment  string          `json:"_comment"`
		GPUTypes []runpodGPUType `json:"gpuTypes"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		panic(fmt.Sprintf("fakecloud: Runpod GPU types: %v", err))
	}
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 4 << 30
	}
	f := &Runpod{opts: opts, types: doc.GPUTypes}
	f.handler = f.Faults.Wrap(http.HandlerFunc(f.serve), runpodErrorBody)
	return f
}

// SetStock changes what lowestPrice answers for one GPU type in one tier
// (secure or community): stockStatus High, Medium or Low, or "" for null
// (out of stock; the country code goes null with it). It panics on an
// unknown id.
func (f *Runpod) SetStock(id string, secure bool, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.types {
		if f.types[i].ID != id {
			continue
		}
		lp := &f.types[i].Community
		if secure {
			lp = &f.types[i].Secure
		}
		if status == "" {
			lp.StockStatus, lp.CountryCode = nil, nil
		} else {
			lp.StockStatus = &status
		}
		return
	}
	panic("fakecloud: Runpod: no GPU type " + strconv.Quote(id))
}

// ServeHTTP implements http.Handler.
func (f *Runpod) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Read the request before any fault: net/http notices a client
	// hanging up (which ends a Hang) only once the body is consumed.
	body, err := readBody(r, 1<<20)
	if err != nil {
		runpodError(w, http.StatusBadRequest, err.Error())
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.handler.ServeHTTP(w, r)
}

// runpodRequest is a GraphQL-over-HTTP request body.
type runpodRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

func (f *Runpod) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != RunpodPath {
		runpodError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		runpodError(w, http.StatusMethodNotAllowed, "use POST with a JSON GraphQL request")
		return
	}
	if f.opts.APIKey != "" && r.URL.Query().Get("api_key") != f.opts.APIKey {
		runpodError(w, http.StatusUnauthorized, "Unauthorized: missing or invalid api_key")
		return
	}
	var req runpodRequest
	body, _ := io.ReadAll(r.Body) // already read and bounded by ServeHTTP
	if err := json.Unmarshal(body, &req); err != nil {
		runpodError(w, http.StatusBadRequest, "the body must be a JSON GraphQL request: "+err.Error())
		return
	}
	if req.Query == "" {
		runpodError(w, http.StatusBadRequest, "the request has no query")
		return
	}
	ft, _ := FaultOf(r)
	switch ft.Kind {
	case RunpodGraphQLError:
		writeJSON(w, http.StatusOK, []byte(`{"errors":[{"message":"Something went wrong. Please try again later or contact support.","path":["gpuTypes"],"extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`))
		return
	case Empty:
		writeJSON(w, http.StatusOK, []byte(`{"data":{"gpuTypes":[]}}`))
		return
	}
	sel, err := parseGraphQL(req.Query, req.Variables)
	if err == nil {
		err = checkRunpodQuery(sel)
	}
	if err != nil {
		writeJSON(w, http.StatusOK, gqlErrors(err.Error(), false))
		return
	}
	if ft.Kind == Huge {
		f.serveHuge(w, sel)
		return
	}
	out, err := f.answer(sel, ft.Kind == WrongTypes)
	if err != nil {
		writeJSON(w, http.StatusOK, gqlErrors(err.Error(), true))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// gqlErrors renders a GraphQL answer holding one error, with "data": null
// when execution had started (an error before it leaves data out).
func gqlErrors(msg string, nullData bool) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // messages quote <EOF> and the like
	doc := map[string]any{"errors": []map[string]string{{"message": msg}}}
	if nullData {
		doc["data"] = nil
	}
	enc.Encode(doc)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// The fields the fake serves, per GraphQL type; true marks object fields
// (which need a selection set).
var (
	runpodQueryFields  = map[string]bool{"gpuTypes": true, "__typename": false}
	runpodGPUTypeField = map[string]bool{
		"id": false, "displayName": false, "manufacturer": false, "memoryInGb": false, "maxGpuCount": false,
		"secureCloud": false, "communityCloud": false, "securePrice": false, "communityPrice": false,
		"secureSpotPrice": false, "communitySpotPrice": false, "lowestPrice": true, "__typename": false,
	}
	runpodLowestPriceFields = map[string]bool{
		"stockStatus": false, "countryCode": false, "minimumBidPrice": false, "uninterruptablePrice": false,
		"minVcpu": false, "minMemory": false, "availableGpuCounts": false, "maxUnreservedGpuCount": false,
		"__typename": false,
	}
	runpodGPUTypeFilter    = map[string]bool{"id": true, "cluster": true}
	runpodLowestPriceInput = map[string]bool{
		"gpuCount": true, "secureCloud": true, "dataCenterId": true, "countryCode": true, "minDisk": true,
		"minMemoryInGb": true, "minVcpuCount": true, "minCudaVersion": true, "minDownload": true,
		"minUpload": true, "supportPublicIp": true, "compliance": true, "globalNetwork": true,
		"allowedCudaVersions": true, "includeAiApi": true,
	}
)

// checkRunpodQuery validates the selection against the fake's schema, with
// the messages a GraphQL server gives.
func checkRunpodQuery(sel []gqlField) error {
	var check func(sel []gqlField, typ string, fields map[string]bool) error
	check = func(sel []gqlField, typ string, fields map[string]bool) error {
		for _, f := range sel {
			object, ok := fields[f.name]
			if !ok {
				return gqlErrorf("Cannot query field %q on type %q.", f.name, typ)
			}
			if object && f.sel == nil {
				return gqlErrorf("Field %q of type %q must have a selection of subfields.", f.name, typ)
			}
			if !object && f.sel != nil {
				return gqlErrorf("Field %q must not have a selection since it has no subfields.", f.name)
			}
			var err error
			switch {
			case typ == "Query" && f.name == "gpuTypes":
				if err = checkInput(f, "GpuTypeFilter", runpodGPUTypeFilter); err == nil {
					err = check(f.sel, "GpuType", runpodGPUTypeField)
				}
			case typ == "GpuType" && f.name == "lowestPrice":
				if err = checkInput(f, "GpuLowestPriceInput", runpodLowestPriceInput); err == nil {
					err = check(f.sel, "LowestPrice", runpodLowestPriceFields)
				}
			default:
				for a := range f.args {
					return gqlErrorf("Unknown argument %q on field %q.", a, typ+"."+f.name)
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	return check(sel, "Query", runpodQueryFields)
}

// checkInput checks a field whose only argument is "input" of type typ.
func checkInput(f gqlField, typ string, known map[string]bool) error {
	for a, v := range f.args {
		if a != "input" {
			return gqlErrorf("Unknown argument %q on field %q.", a, f.name)
		}
		if v == nil {
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return gqlErrorf("Expected type %q to be an object.", typ)
		}
		for k := range obj {
			if !known[k] {
				return gqlErrorf("Field %q is not defined by type %q.", k, typ)
			}
		}
	}
	return nil
}

// input returns a field's input object (empty when absent).
func input(f gqlField) map[string]any {
	obj, _ := f.args["input"].(map[string]any)
	return obj
}

// answer renders {"data": {...}} for a checked selection.
func (f *Runpod) answer(sel []gqlField, wrongTypes bool) ([]byte, error) {
	f.mu.Lock()
	types := slices.Clone(f.types)
	f.mu.Unlock()
	var b bytes.Buffer
	b.WriteString(`{"data":{`)
	for i, field := range sel {
		if i > 0 {
			b.WriteByte(',')
		}
		writeKey(&b, field.alias)
		if field.name == "__typename" {
			b.WriteString(`"Query"`)
			continue
		}
		filter := input(field)
		if c, _ := filter["cluster"].(bool); c {
			b.WriteString("[]") // the fake has no cluster offers
			continue
		}
		id, hasID := filter["id"].(string)
		b.WriteByte('[')
		n := 0
		for j := range types {
			if hasID && types[j].ID != id {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			if err := f.writeGPUType(&b, &types[j], field.sel, wrongTypes); err != nil {
				return nil, err
			}
		}
		b.WriteByte(']')
	}
	b.WriteString(`}}`)
	return b.Bytes(), nil
}

func writeKey(b *bytes.Buffer, k string) {
	kb, _ := json.Marshal(k)
	b.Write(kb)
	b.WriteByte(':')
}

// writeGPUType renders one GPU type with the selected fields.
func (f *Runpod) writeGPUType(b *bytes.Buffer, t *runpodGPUType, sel []gqlField, wrongTypes bool) error {
	price := func(field string, p *float64) any {
		if p == nil {
			return nil
		}
		v := f.opts.Drift.Apply(t.ID+"/"+field, *p)
		if wrongTypes {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return v
	}
	b.WriteByte('{')
	for i, field := range sel {
		if i > 0 {
			b.WriteByte(',')
		}
		writeKey(b, field.alias)
		var v any
		switch field.name {
		case "__typename":
			v = "GpuType"
		case "id":
			v = t.ID
		case "displayName":
			v = t.DisplayName
		case "manufacturer":
			v = t.Manufacturer
		case "memoryInGb":
			v = t.MemoryInGb
		case "maxGpuCount":
			v = t.MaxGpuCount
		case "secureCloud":
			v = t.SecureCloud
		case "communityCloud":
			v = t.CommunityCloud
		case "securePrice":
			v = price("securePrice", t.SecurePrice)
		case "communityPrice":
			v = price("communityPrice", t.CommunityPrice)
		case "secureSpotPrice":
			v = price("secureSpotPrice", t.SecureSpotPrice)
		case "communitySpotPrice":
			v = price("communitySpotPrice", t.CommunitySpotPrice)
		case "lowestPrice":
			f.writeLowestPrice(b, t, input(field), field.sel, price)
			continue
		}
		vb, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return nil
}

// writeLowestPrice renders lowestPrice for one GPU type and input: the
// tier secureCloud names, or the better stocked one when it names none.
func (f *Runpod) writeLowestPrice(b *bytes.Buffer, t *runpodGPUType, in map[string]any, sel []gqlField, price func(string, *float64) any) {
	lp, tier := t.Secure, "secure"
	switch secure, ok := in["secureCloud"].(bool); {
	case ok && !secure:
		lp, tier = t.Community, "community"
	case !ok && stockRank(t.Community.StockStatus) > stockRank(t.Secure.StockStatus):
		lp, tier = t.Community, "community"
	}
	if count, ok := in["gpuCount"].(float64); ok && count > float64(t.MaxGpuCount) {
		lp = runpodLowestPrice{}
	}
	b.WriteByte('{')
	for i, field := range sel {
		if i > 0 {
			b.WriteByte(',')
		}
		writeKey(b, field.alias)
		var v any
		switch field.name {
		case "__typename":
			v = "LowestPrice"
		case "stockStatus":
			v = lp.StockStatus
		case "countryCode":
			v = lp.CountryCode
		case "minimumBidPrice":
			v = price(tier+"/minimumBidPrice", lp.MinimumBidPrice)
		case "uninterruptablePrice":
			v = price(tier+"/uninterruptablePrice", lp.UninterruptablePrice)
		case "minVcpu":
			v = lp.MinVcpu
		case "minMemory":
			v = lp.MinMemory
		case "availableGpuCounts":
			v = lp.AvailableGpuCounts
			if lp.AvailableGpuCounts == nil {
				v = []int{}
			}
		case "maxUnreservedGpuCount":
			v = lp.MaxUnreservedGpuCount
		}
		vb, _ := json.Marshal(v)
		b.Write(vb)
	}
	b.WriteByte('}')
}

func stockRank(s *string) int {
	if s == nil {
		return 0
	}
	switch *s {
	case "Low":
		return 1
	case "Medium":
		return 2
	case "High":
		return 3
	}
	return 0
}

// serveHuge streams a well-formed start of a gpuTypes list that goes on
// for HugeBytes, without holding more than one rendered type in memory.
func (f *Runpod) serveHuge(w http.ResponseWriter, sel []gqlField) {
	w.Header().Set("Content-Type", "application/json")
	var one bytes.Buffer
	f.mu.Lock()
	t := f.types[0]
	f.mu.Unlock()
	var inner []gqlField
	for _, field := range sel {
		if field.name == "gpuTypes" {
			inner = field.sel
		}
	}
	if err := f.writeGPUType(&one, &t, inner, false); err != nil {
		return
	}
	written, err := counted(w.Write([]byte(`{"data":{"gpuTypes":[`)))
	for i := 0; err == nil && written < f.opts.HugeBytes; i++ {
		if i > 0 {
			var n int64
			n, err = counted(w.Write([]byte(",")))
			written += n
		}
		var n int64
		n, err = counted(w.Write(one.Bytes()))
		written += n
	}
	if err == nil {
		w.Write([]byte("]}}"))
	}
}

// runpodErrorBody renders the injected 429 and 5xx answers.
func runpodErrorBody(status int, msg string) (string, []byte) {
	return "application/json", gqlErrors(msg, false)
}

// runpodError writes the fake's own HTTP errors in the GraphQL format.
func runpodError(w http.ResponseWriter, status int, msg string) {
	_, b := runpodErrorBody(status, msg)
	writeJSON(w, status, b)
}
