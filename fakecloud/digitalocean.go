package fakecloud

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// DigitalOceanSizesPath is the path of DigitalOcean's sizes list; a
// collector's endpoint is the server's base URL.
const DigitalOceanSizesPath = "/v2/sizes"

// digitalOceanRecorded is a hand-written sizes list in the API's format:
// Droplet sizes with their hourly and monthly USD price and regions, the
// GPU Droplets (ex Paperspace) with gpu_info (count, vram, model), a size
// not available anywhere, and a CPU size.
//
//go:embed testdata/digitalocean/sizes.json
var digitalOceanRecorded []byte

// DigitalOceanOptions configures NewDigitalOcean.
type DigitalOceanOptions struct {
	// Token, when set, is the only one accepted ("Authorization: Bearer").
	// Either way a request without a token is refused with 401.
	Token string
	// PerPage caps sizes per page (default 20, the API's; the client asks
	// for up to 200).
	PerPage int
	// Drift moves price_hourly over time.
	Drift
	// HugeBytes is how many bytes a Huge answer streams (default 4 GiB).
	HugeBytes int64
}

// DigitalOcean is a fake of GET /v2/sizes?page=&per_page=: the sizes,
// paged with links.pages.next and meta.total, errors as
// {"id": "...", "message": "..."}. Faults: the generic kinds from
// Faults.Wrap; WrongTypes sends price_hourly as a string; Empty answers no
// sizes; EndlessPages links a next page from every page; Huge streams an
// endless sizes array.
type DigitalOcean struct {
	oneAPI

	opts  DigitalOceanOptions
	sizes []map[string]any
}

// NewDigitalOcean returns the fake.
func NewDigitalOcean(opts DigitalOceanOptions) *DigitalOcean {
	sizes := recorded[[]map[string]any]("DigitalOcean sizes", digitalOceanRecorded)
	if opts.PerPage <= 0 {
		opts.PerPage = 20
	}
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 4 << 30
	}
	d := &DigitalOcean{opts: opts, sizes: sizes}
	d.handler = d.Faults.Wrap(http.HandlerFunc(d.serve), func(status int, msg string) (string, []byte) {
		id := "server_error"
		if status == http.StatusTooManyRequests {
			id = "too_many_requests"
		}
		return "application/json", doError(id, msg)
	})
	return d
}

func doError(id, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"id": id, "message": msg})
	return b
}

func (d *DigitalOcean) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != DigitalOceanSizesPath {
		writeJSON(w, http.StatusNotFound, doError("not_found", "The resource you were accessing could not be found."))
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" || (d.opts.Token != "" && token != d.opts.Token) {
		writeJSON(w, http.StatusUnauthorized, doError("Unauthorized", "Unable to authenticate you"))
		return
	}
	perPage, page := d.opts.PerPage, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 200)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	ft, _ := FaultOf(r)
	sizes := d.sizes
	switch ft.Kind {
	case Empty:
		sizes = nil
	case Huge:
		one, _ := json.Marshal(d.sizes[1])
		streamHuge(w, d.opts.HugeBytes, `{"sizes":[`, func(int) []byte { return one }, func(int) string { return `],"meta":{"total":1}}` })
		return
	}
	lo, hi := min((page-1)*perPage, len(sizes)), min(page*perPage, len(sizes))
	out := make([]map[string]any, 0, hi-lo)
	for _, s := range sizes[lo:hi] {
		c := make(map[string]any, len(s))
		for k, v := range s {
			c[k] = v
		}
		slug, _ := s["slug"].(string)
		p, _ := s["price_hourly"].(float64)
		p = math.Round(d.opts.Drift.Apply(slug, p)*1e5) / 1e5
		c["price_hourly"] = p
		if ft.Kind == WrongTypes {
			c["price_hourly"] = fmt.Sprint(p)
		}
		out = append(out, c)
	}
	links := map[string]any{}
	if hi < len(sizes) || ft.Kind == EndlessPages {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		q := u.Query()
		q.Set("page", strconv.Itoa(page+1))
		u.RawQuery = q.Encode()
		links["pages"] = map[string]string{"next": u.String()}
	}
	b, _ := json.Marshal(map[string]any{"sizes": out, "links": links, "meta": map[string]int{"total": len(sizes)}})
	writeJSON(w, http.StatusOK, b)
}
