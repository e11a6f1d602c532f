package fakecloud

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
)

// AkashPath is the GPU price statistics path of Akash's console API; a
// collector's endpoint is the server's base URL.
const AkashPath = "/v1/gpu-prices"

// akashRecorded is a hand-written answer in the console API's format: the
// network's GPU availability, then per GPU model (vendor, model, ram,
// interface) its availability, that of its providers, and statistics of
// the providers' bids in USD per GPU-hour (min, max, avg, weightedAverage,
// med), null where none bid, zero where the numbers are missing.
//
//go:embed testdata/akash/gpu-prices.json
var akashRecorded []byte

// AkashOptions configures NewAkash.
type AkashOptions struct {
	// Drift moves the bid statistics over time.
	Drift
	// HugeBytes is how many bytes a Huge answer streams (default 4 GiB).
	HugeBytes int64
}

// Akash is a fake of GET https://console-api.akash.network/v1/gpu-prices,
// anonymous. Faults: the generic kinds come from Faults.Wrap (errors as
// {"error": ..., "message": ...}); WrongTypes sends the statistics as
// strings; Empty answers no models; Huge streams an endless models array;
// EndlessPages does not apply and is answered normally.
type Akash struct {
	oneAPI

	opts   AkashOptions
	answer map[string]any
}

// NewAkash returns the fake.
func NewAkash(opts AkashOptions) *Akash {
	answer := recorded[map[string]any]("Akash GPU prices", akashRecorded)
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 4 << 30
	}
	a := &Akash{opts: opts, answer: answer}
	a.handler = a.Faults.Wrap(http.HandlerFunc(a.serve), func(status int, msg string) (string, []byte) {
		b, _ := json.Marshal(map[string]string{"error": http.StatusText(status), "message": msg})
		return "application/json", b
	})
	return a
}

func (a *Akash) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != AkashPath || r.Method != http.MethodGet {
		writeJSON(w, http.StatusNotFound, []byte(`{"error":"Not Found","message":"no such route"}`))
		return
	}
	ft, _ := FaultOf(r)
	switch ft.Kind {
	case Empty:
		writeJSON(w, http.StatusOK, []byte(`{"availability":{"total":0,"available":0},"models":[]}`))
	case Huge:
		a.serveHuge(w)
	default:
		writeJSON(w, http.StatusOK, a.render(ft.Kind == WrongTypes))
	}
}

// render encodes the answer with drifted statistics; wrongTypes sends
// them as strings.
func (a *Akash) render(wrongTypes bool) []byte {
	models, _ := a.answer["models"].([]any)
	out := make([]any, len(models))
	for i, m := range models {
		model, _ := m.(map[string]any)
		c := make(map[string]any, len(model))
		for k, v := range model {
			c[k] = v
		}
		if p, ok := model["price"].(map[string]any); ok {
			id := strings.Join([]string{fmt.Sprint(model["model"]), fmt.Sprint(model["ram"]), fmt.Sprint(model["interface"])}, "/")
			np := make(map[string]any, len(p))
			for k, v := range p {
				f, isNum := v.(float64)
				switch {
				case !isNum:
					np[k] = v
				case wrongTypes:
					np[k] = fmt.Sprint(f)
				default:
					np[k] = math.Round(a.opts.Drift.Apply(id, f)*1e4) / 1e4
				}
			}
			c["price"] = np
		}
		out[i] = c
	}
	b, _ := json.Marshal(map[string]any{"availability": a.answer["availability"], "models": out})
	return b
}

// serveHuge streams a models array that goes on for HugeBytes.
func (a *Akash) serveHuge(w http.ResponseWriter) {
	one, _ := json.Marshal(a.answer["models"].([]any)[0])
	streamHuge(w, a.opts.HugeBytes, `{"availability":{"total":1,"available":1},"models":[`,
		func(int) []byte { return one }, func(int) string { return "]}" })
}
