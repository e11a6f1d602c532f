package fakecloud

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ScalewayPathPrefix starts the path of the per-zone server types list,
// /instance/v1/zones/{zone}/products/servers.
const ScalewayPathPrefix = "/instance/v1/zones/"

// scalewayRecorded is hand-written in the format of Scaleway's server
// types list, by zone: hourly and monthly prices in EUR per instance, the
// GPU count and gpu_info (model, memory in bytes); CPU-only types, a GPU
// type priced 0 (not yet sold), and zones without GPUs.
//
//go:embed testdata/scaleway/servers.json
var scalewayRecorded []byte

// ScalewayOptions configures NewScaleway.
type ScalewayOptions struct {
	// PerPage is the most server types per page (default 100, the API's
	// own maximum); tests use small pages to walk several.
	PerPage int
	// Drift moves hourly_price over time.
	Drift
	// HugeBytes is how many bytes a Huge answer streams (default 4 GiB).
	HugeBytes int64
}

// Scaleway is a fake of Scaleway's GET
// /instance/v1/zones/{zone}/products/servers?per_page=&page=, anonymous:
// the map of server types, paged with the X-Total-Count header. An unknown
// zone answers 404 in Scaleway's {"message", "type"} error form. Faults:
// the generic kinds from Faults.Wrap; WrongTypes sends hourly_price as a
// string; Empty answers no server types in any zone; EndlessPages serves
// every page full (of made-up types), and counts one more; Huge streams an
// endless map.
type Scaleway struct {
	oneAPI

	opts  ScalewayOptions
	zones map[string]map[string]map[string]any
}

// ScalewayZones are the zones the fake knows, in order.
func (s *Scaleway) ScalewayZones() []string {
	var out []string
	for z := range s.zones {
		out = append(out, z)
	}
	slices.Sort(out)
	return out
}

// NewScaleway returns the fake.
func NewScaleway(opts ScalewayOptions) *Scaleway {
	zones := recorded[map[string]map[string]map[string]any]("Scaleway server types", scalewayRecorded)
	if opts.PerPage <= 0 {
		opts.PerPage = 100
	}
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 4 << 30
	}
	s := &Scaleway{opts: opts, zones: zones}
	s.handler = s.Faults.Wrap(http.HandlerFunc(s.serve), func(status int, msg string) (string, []byte) {
		return "application/json", scalewayError(msg, "unknown_error")
	})
	return s
}

func scalewayError(msg, typ string) []byte {
	b, _ := json.Marshal(map[string]string{"message": msg, "type": typ})
	return b
}

func (s *Scaleway) serve(w http.ResponseWriter, r *http.Request) {
	zone, ok := strings.CutPrefix(r.URL.Path, ScalewayPathPrefix)
	zone, ok2 := strings.CutSuffix(zone, "/products/servers")
	types, known := s.zones[zone]
	if !ok || !ok2 || !known {
		writeJSON(w, http.StatusNotFound, scalewayError("resource is not found", "not_found"))
		return
	}
	perPage, page := s.opts.PerPage, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 && v < perPage {
		perPage = v
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	ft, _ := FaultOf(r)
	names := make([]string, 0, len(types))
	for n := range types {
		names = append(names, n)
	}
	slices.Sort(names)
	switch ft.Kind {
	case Empty:
		names = nil
	case Huge:
		one, _ := json.Marshal(types[names[0]])
		streamHuge(w, s.opts.HugeBytes, `{"servers":{`, func(i int) []byte { return append(fmt.Appendf(nil, `"HUGE-%d":`, i), one...) },
			func(int) string { return "}}" })
		return
	}
	total := len(names)
	lo, hi := min((page-1)*perPage, total), min(page*perPage, total)
	out := map[string]any{}
	for _, n := range names[lo:hi] {
		t := make(map[string]any, len(types[n]))
		for k, v := range types[n] {
			t[k] = v
		}
		if p, _ := t["hourly_price"].(float64); p > 0 {
			p = math.Round(s.opts.Drift.Apply(zone+"/"+n, p)*1e4) / 1e4
			t["hourly_price"] = p
			if ft.Kind == WrongTypes {
				t["hourly_price"] = fmt.Sprint(p)
			}
		}
		out[n] = t
	}
	if ft.Kind == EndlessPages {
		// Every page full, of made-up types, and more counted.
		for i := len(out); i < perPage; i++ {
			out[fmt.Sprintf("ENDLESS-%d-%d", page, i)] = types[names[0]]
		}
		total = page*perPage + 1
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	b, _ := json.Marshal(map[string]any{"servers": out})
	writeJSON(w, http.StatusOK, b)
}
