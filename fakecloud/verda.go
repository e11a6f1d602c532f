package fakecloud

import (
	_ "embed"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync"
)

// VerdaPath is the instance-types path of Verda's public API; a
// collector's endpoint is the server's base URL.
const VerdaPath = "/v1/instance-types"

// verdaRecorded is a hand-written instance-types answer in Verda's wire
// format (ex DataCrunch, api.verda.com/v1): prices as strings in USD per
// instance-hour, gpu_memory the total of the instance's GPUs, a spot_price
// of "0" where spot is not sold, and a CPU-only type.
//
//go:embed testdata/verda/instance-types.json
var verdaRecorded []byte

// VerdaOptions configures NewVerda. The zero value serves the recorded
// instance types.
type VerdaOptions struct {
	// Drift moves both prices over time.
	Drift
	// HugeBytes is how many bytes a Huge answer streams (default 4 GiB).
	HugeBytes int64
}

// Verda is a fake of Verda's GET /v1/instance-types?currency=usd, which
// answers anonymously with a JSON array. Errors come as Verda's
// {"code": ..., "message": ...} object.
//
// Faults: the generic kinds come from Faults.Wrap; WrongTypes sends
// price_per_hour as a number; Empty answers []; Huge streams an endless
// array; EndlessPages does not apply (no pagination) and is answered
// normally.
type Verda struct {
	oneAPI

	opts  VerdaOptions
	mu    sync.Mutex
	types []map[string]any
}

// NewVerda returns the fake.
func NewVerda(opts VerdaOptions) *Verda {
	types := recorded[[]map[string]any]("Verda instance types", verdaRecorded)
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 4 << 30
	}
	v := &Verda{opts: opts, types: types}
	v.handler = v.Faults.Wrap(http.HandlerFunc(v.serve), func(status int, msg string) (string, []byte) {
		return "application/json", verdaError(status, msg)
	})
	return v
}

func verdaError(status int, msg string) []byte {
	code := "internal_error"
	if status == http.StatusTooManyRequests {
		code = "too_many_requests"
	}
	b, _ := json.Marshal(map[string]string{"code": code, "message": msg})
	return b
}

func (v *Verda) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path != VerdaPath:
		writeJSON(w, http.StatusNotFound, verdaError(http.StatusNotFound, "not found: "+r.URL.Path))
		return
	case r.Method != http.MethodGet:
		w.Header().Set("Allow", http.MethodGet)
		writeJSON(w, http.StatusMethodNotAllowed, verdaError(http.StatusMethodNotAllowed, "use GET"))
		return
	case r.URL.Query().Get("currency") != "" && r.URL.Query().Get("currency") != "usd":
		writeJSON(w, http.StatusBadRequest, verdaError(http.StatusBadRequest, "this fake prices in usd only"))
		return
	}
	ft, _ := FaultOf(r)
	switch ft.Kind {
	case Empty:
		writeJSON(w, http.StatusOK, []byte(`[]`))
	case Huge:
		v.serveHuge(w)
	default:
		writeJSON(w, http.StatusOK, v.render(ft.Kind == WrongTypes))
	}
}

// render encodes the instance types with drifted prices; wrongTypes sends
// price_per_hour as a number.
func (v *Verda) render(wrongTypes bool) []byte {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]map[string]any, len(v.types))
	for i, t := range v.types {
		c := make(map[string]any, len(t))
		for k, val := range t {
			c[k] = val
		}
		name, _ := t["instance_type"].(string)
		for _, key := range []string{"price_per_hour", "spot_price"} {
			s, _ := t[key].(string)
			p, err := strconv.ParseFloat(s, 64)
			if err != nil || p == 0 {
				continue
			}
			p = math.Round(v.opts.Drift.Apply(name+"/"+key, p)*1000) / 1000
			c[key] = strconv.FormatFloat(p, 'f', 3, 64)
			if wrongTypes && key == "price_per_hour" {
				c[key] = p
			}
		}
		out[i] = c
	}
	b, _ := json.Marshal(out)
	return b
}

// serveHuge streams an array that goes on for HugeBytes.
func (v *Verda) serveHuge(w http.ResponseWriter) {
	v.mu.Lock()
	one, _ := json.Marshal(v.types[0])
	v.mu.Unlock()
	streamHuge(w, v.opts.HugeBytes, "[", func(int) []byte { return one }, func(int) string { return "]" })
}
