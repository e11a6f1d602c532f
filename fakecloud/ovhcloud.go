package fakecloud

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
)

// OVHcloudPath is the path of OVHcloud's public cloud catalog under the
// API's base URL (https://eu.api.ovh.com/1.0); the subsidiary is the
// ovhSubsidiary query parameter.
const OVHcloudPath = "/order/catalog/public/cloud"

// ovhcloudRecorded is hand-written in the format of OVHcloud's public
// cloud catalog for the FR subsidiary: locale (EUR), the project plan, and
// addons, each with its planCode, pricings (prices in 1e-8 EUR, the
// interval and its unit), region configurations and blobs (commercial,
// technical with cpu, memory, gpu, os; tags). It holds GPU flavors' hourly
// (.consumption) and monthly (.monthly.postpaid) plans, an hourly plan
// whose regions are on its monthly sibling only, a GPU model the project's
// catalog does not know, a Windows flavor, a 3-AZ variant, a flavor listed
// at 0, CPU-only flavors, a per-minute AI Training addon with a GPU blob,
// and storage and IP addons.
//
//go:embed testdata/ovhcloud/catalog.json
var ovhcloudRecorded []byte

// OVHcloudOptions configures NewOVHcloud.
type OVHcloudOptions struct {
	// Drift moves the hourly prices over time.
	Drift
	// HugeBytes is how many bytes a Huge answer streams (default 4 GiB).
	HugeBytes int64
	// KnownGPUsOnly leaves out the flavor whose GPU the catalog does not
	// know (OVHcloudUnknownGPU): the demo's fakes name only GPUs the
	// catalog maps.
	KnownGPUsOnly bool
}

// OVHcloudUnknownGPU is the gpu.model of the fake's flavor that no
// catalog knows, there to show an unknown GPU come out as UNKNOWN.
const OVHcloudUnknownGPU = "B300 SXM6"

// OVHcloud is a fake of OVHcloud's anonymous GET
// /1.0/order/catalog/public/cloud?ovhSubsidiary=FR. It knows the FR
// subsidiary only; another answers 400 as OVH's API does for a subsidiary
// it does not serve, in OVH's {"class", "message"} error form. Faults: the
// generic kinds from Faults.Wrap; WrongTypes sends prices as strings;
// Empty answers a catalog without addons; Huge streams an endless addons
// array; EndlessPages does not apply (one answer) and is answered
// normally.
type OVHcloud struct {
	oneAPI

	opts    OVHcloudOptions
	catalog map[string]any
}

// NewOVHcloud returns the fake.
func NewOVHcloud(opts OVHcloudOptions) *OVHcloud {
	catalog := recorded[map[string]any]("OVHcloud catalog", ovhcloudRecorded)
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 4 << 30
	}
	o := &OVHcloud{opts: opts, catalog: catalog}
	o.handler = o.Faults.Wrap(http.HandlerFunc(o.serve), func(status int, msg string) (string, []byte) {
		return "application/json", ovhError(status, msg)
	})
	return o
}

func ovhError(status int, msg string) []byte {
	class := "Server::InternalServerError"
	switch status {
	case http.StatusTooManyRequests:
		class = "Client::TooManyRequests"
	case http.StatusBadRequest:
		class = "Client::BadRequest"
	case http.StatusNotFound:
		class = "Client::NotFound"
	}
	b, _ := json.Marshal(map[string]string{"class": class, "message": msg})
	return b
}

func (o *OVHcloud) serve(w http.ResponseWriter, r *http.Request) {
	switch sub := r.URL.Query().Get("ovhSubsidiary"); {
	case r.URL.Path != OVHcloudPath || r.Method != http.MethodGet:
		writeJSON(w, http.StatusNotFound, ovhError(http.StatusNotFound, "Got an invalid (or empty) URL"))
		return
	case sub == "":
		writeJSON(w, http.StatusBadRequest, ovhError(http.StatusBadRequest, "Missing parameter(s): ovhSubsidiary"))
		return
	case !strings.EqualFold(sub, "FR"):
		writeJSON(w, http.StatusBadRequest, ovhError(http.StatusBadRequest, "Invalid value for ovhSubsidiary: this fake serves FR only"))
		return
	}
	ft, _ := FaultOf(r)
	switch ft.Kind {
	case Empty:
		b, _ := json.Marshal(map[string]any{"catalogId": o.catalog["catalogId"], "locale": o.catalog["locale"],
			"plans": []any{}, "products": []any{}, "planFamilies": []any{}, "addons": []any{}})
		writeJSON(w, http.StatusOK, b)
	case Huge:
		one, _ := json.Marshal(o.catalog["addons"].([]any)[0])
		streamHuge(w, o.opts.HugeBytes, `{"catalogId":1,"locale":{"currencyCode":"EUR","subsidiary":"FR","taxRate":20},"addons":[`,
			func(int) []byte { return one }, func(int) string { return "]}" })
	default:
		writeJSON(w, http.StatusOK, o.render(ft.Kind == WrongTypes))
	}
}

// render encodes the catalog with drifted hourly prices; wrongTypes sends
// every price as a string.
func (o *OVHcloud) render(wrongTypes bool) []byte {
	addons, _ := o.catalog["addons"].([]any)
	out := make([]any, 0, len(addons))
	for _, a := range addons {
		addon, _ := a.(map[string]any)
		if o.opts.KnownGPUsOnly && ovhGPUModel(addon) == OVHcloudUnknownGPU {
			continue
		}
		c := make(map[string]any, len(addon))
		for k, v := range addon {
			c[k] = v
		}
		plan, _ := addon["planCode"].(string)
		pricings, _ := addon["pricings"].([]any)
		np := make([]any, len(pricings))
		for j, p := range pricings {
			pm, _ := p.(map[string]any)
			cp := make(map[string]any, len(pm))
			for k, v := range pm {
				cp[k] = v
			}
			if f, ok := pm["price"].(float64); ok {
				if strings.HasSuffix(plan, ".consumption") {
					// Drift in whole 1e-8 units, as OVH's prices are.
					f = math.Round(o.opts.Drift.Apply(plan, f))
				}
				cp["price"] = f
				if wrongTypes {
					cp["price"] = fmt.Sprint(int64(f))
				}
			}
			np[j] = cp
		}
		c["pricings"] = np
		out = append(out, c)
	}
	cat := make(map[string]any, len(o.catalog))
	for k, v := range o.catalog {
		cat[k] = v
	}
	cat["addons"] = out
	b, _ := json.Marshal(cat)
	return b
}

// ovhGPUModel returns an addon's blobs.technical.gpu.model, or "".
func ovhGPUModel(addon map[string]any) string {
	blobs, _ := addon["blobs"].(map[string]any)
	tech, _ := blobs["technical"].(map[string]any)
	gpu, _ := tech["gpu"].(map[string]any)
	model, _ := gpu["model"].(string)
	return model
}
