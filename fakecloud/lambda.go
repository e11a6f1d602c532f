package fakecloud

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// LambdaInstanceTypesPath is the path the Lambda fake serves; a collector's
// endpoint is the server's base URL (Server.URL).
const LambdaInstanceTypesPath = "/api/v1/instance-types"

// lambdaRecorded is a hand-written instance-types answer in Lambda's wire
// format: 17 GPU instance types (prices in US cents per instance-hour),
// some with capacity in a few regions, some with none.
//
//go:embed testdata/lambda/instance-types.json
var lambdaRecorded []byte

// LambdaOptions configures NewLambda. The zero value serves the recorded
// instance types to any request that carries an API key.
type LambdaOptions struct {
	// Data replaces the recorded answer: a JSON document {"data": {...}}
	// in Lambda's format.
	Data []byte
	// Drift moves price_cents_per_hour over time (whole cents).
	Drift
	// APIKey, when set, is the only key accepted. Either way a request
	// without a key is refused with 401, as Lambda never answers
	// anonymously. Keys come as "Authorization: Bearer <key>" or as
	// HTTP Basic with the key as user name, the two forms Lambda takes.
	APIKey string
	// InactiveKey, when set, is a key whose account is inactive: it gets
	// 403 with the code global/account-inactive.
	InactiveKey string
	// HugeBytes is how many bytes a Huge answer streams (default 4 GiB).
	HugeBytes int64
}

// Lambda is a fake of Lambda Cloud's GET /api/v1/instance-types. Errors
// come in Lambda's envelope {"error": {"code", "message", "suggestion"}}:
// 401 global/invalid-api-key for a missing or wrong key, 403
// global/account-inactive for InactiveKey, 404 and 405 for other paths and
// methods.
//
// Faults: the generic kinds come from Faults.Wrap, in the same envelope
// (the codes the fake uses for 429 and 503, global/too-many-requests and
// global/internal-error, are its own choice: Lambda documents the
// envelope, not these answers); WrongTypes sends price_cents_per_hour as
// a string; Empty answers {"data": {}}; Huge streams an endless data
// object; EndlessPages does not apply (no pagination) and is answered
// normally.
type Lambda struct {
	// Faults schedules misbehaviour; safe to use while serving.
	Faults Faults

	opts    LambdaOptions
	handler http.Handler

	mu    sync.Mutex
	types map[string]*lambdaEntry
	names []string // sorted keys of types
}

// FaultQueue implements Faulty: Faults is the only API's queue.
func (l *Lambda) FaultQueue(api string) *Faults { return map[string]*Faults{"": &l.Faults}[api] }

type lambdaEntry struct {
	InstanceType lambdaInstanceType `json:"instance_type"`
	Regions      []lambdaRegion     `json:"regions_with_capacity_available"`
}

type lambdaInstanceType struct {
	Name              string      `json:"name"`
	Description       string      `json:"description"`
	GPUDescription    string      `json:"gpu_description"`
	PriceCentsPerHour int         `json:"price_cents_per_hour"`
	Specs             lambdaSpecs `json:"specs"`
}

type lambdaSpecs struct {
	VCPUs      int `json:"vcpus"`
	MemoryGiB  int `json:"memory_gib"`
	StorageGiB int `json:"storage_gib"`
	GPUs       int `json:"gpus"`
}

type lambdaRegion struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// NewLambda returns the fake. It panics if opts.Data is not a valid answer.
func NewLambda(opts LambdaOptions) *Lambda {
	data := opts.Data
	if data == nil {
		data = lambdaRecorded
	}
	var doc struct {
		Data map[string]*lambdaEntry `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		panic(fmt.Sprintf("fakecloud: Lambda instance types: %v", err))
	}
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 4 << 30
	}
	l := &Lambda{opts: opts, types: doc.Data}
	for name := range doc.Data {
		l.names = append(l.names, name)
	}
	slices.Sort(l.names)
	l.handler = l.Faults.Wrap(http.HandlerFunc(l.serve), lambdaErrorBody)
	return l
}

// SetCapacity replaces the regions where an instance type has capacity
// (none when regions is empty). It panics on an unknown type.
func (l *Lambda) SetCapacity(name string, regions ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.types[name]
	if !ok {
		panic("fakecloud: Lambda: no instance type " + strconv.Quote(name))
	}
	e.Regions = make([]lambdaRegion, 0, len(regions))
	for _, r := range regions {
		e.Regions = append(e.Regions, lambdaRegion{Name: r, Description: r})
	}
}

// ServeHTTP implements http.Handler.
func (l *Lambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20)) // see Runpod.ServeHTTP
	l.handler.ServeHTTP(w, r)
}

// lambdaKey returns the API key a request carries, if any.
func lambdaKey(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if k, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(k)
	}
	if enc, ok := strings.CutPrefix(h, "Basic "); ok {
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc)); err == nil {
			user, _, _ := strings.Cut(string(b), ":")
			return user
		}
	}
	return ""
}

func (l *Lambda) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != LambdaInstanceTypesPath {
		lambdaError(w, http.StatusNotFound, "global/not-found", "No such endpoint: "+r.URL.Path, "")
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		lambdaError(w, http.StatusMethodNotAllowed, "global/invalid-parameters", "Use GET.", "")
		return
	}
	key := lambdaKey(r)
	switch {
	case key != "" && key == l.opts.InactiveKey:
		lambdaError(w, http.StatusForbidden, "global/account-inactive", "Your account is inactive.",
			"Make sure you have verified your email address and have a valid payment method.")
		return
	case key == "" || (l.opts.APIKey != "" && key != l.opts.APIKey):
		lambdaError(w, http.StatusUnauthorized, "global/invalid-api-key", "API key was invalid, expired, or deleted.",
			"Check your API key or create a new one, then try again.")
		return
	}
	ft, _ := FaultOf(r)
	switch ft.Kind {
	case Empty:
		writeJSON(w, http.StatusOK, []byte(`{"data":{}}`))
	case Huge:
		l.serveHuge(w)
	default:
		b, err := l.render(ft.Kind == WrongTypes)
		if err != nil {
			lambdaError(w, http.StatusInternalServerError, "global/internal-error", err.Error(), "")
			return
		}
		writeJSON(w, http.StatusOK, b)
	}
}

// render encodes the current answer, with drifted prices.
func (l *Lambda) render(wrongTypes bool) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	data := make(map[string]any, len(l.types))
	for _, name := range l.names {
		e := *l.types[name]
		e.InstanceType.PriceCentsPerHour = l.cents(name, e.InstanceType.PriceCentsPerHour)
		if !wrongTypes {
			data[name] = e
			continue
		}
		b, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		it := m["instance_type"].(map[string]any)
		it["price_cents_per_hour"] = strconv.Itoa(e.InstanceType.PriceCentsPerHour)
		data[name] = m
	}
	return json.Marshal(map[string]any{"data": data})
}

func (l *Lambda) cents(name string, c int) int {
	return int(math.Round(l.opts.Drift.Apply(name, float64(c))))
}

// serveHuge streams a data object that goes on for HugeBytes.
func (l *Lambda) serveHuge(w http.ResponseWriter) {
	l.mu.Lock()
	one, _ := json.Marshal(l.types[l.names[0]])
	l.mu.Unlock()
	streamHuge(w, l.opts.HugeBytes, `{"data":{`,
		func(i int) []byte { return append(fmt.Appendf(nil, `"gpu_huge_%d":`, i), one...) }, func(int) string { return "}}" })
}

// lambdaErrorBody renders the injected 429 and 5xx answers.
func lambdaErrorBody(status int, msg string) (string, []byte) {
	code := "global/internal-error"
	if status == http.StatusTooManyRequests {
		code = "global/too-many-requests"
	}
	return "application/json", lambdaEnvelope(code, msg, "")
}

func lambdaEnvelope(code, msg, suggestion string) []byte {
	e := map[string]string{"code": code, "message": msg}
	if suggestion != "" {
		e["suggestion"] = suggestion
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return b
}

func lambdaError(w http.ResponseWriter, status int, code, msg, suggestion string) {
	writeJSON(w, status, lambdaEnvelope(code, msg, suggestion))
}
