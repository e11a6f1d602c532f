package fakecloud

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
)

// GolemPath is the path of the Golem Network stats API's list of online
// providers; a collector's endpoint is the server's base URL
// (https://api.stats.golem.network).
const GolemPath = "/v2/network/online"

// golemRecorded is hand-written in the format of the stats API's online
// providers: per node its id, wallet, online and computing_now flags,
// version, and per runtime ("vm", "vm-nvidia", "wasmtime") the offer's
// properties: the linear pricing coefficients in GLM per unit of each
// counter of golem.com.usage.vector then the start price, CPU threads,
// memory, payment platforms, and for vm-nvidia the GPU (gap-35 model and
// memory). It holds GPU nodes of a few models at several prices, one with
// its usage vector in the other order, one computing now (rented), one on a
// testnet (tGLM), one at 0, a GPU model the project's catalog does not
// know, and nodes without a GPU runtime.
//
//go:embed testdata/golem/online.json
var golemRecorded []byte

// GolemOptions configures NewGolem.
type GolemOptions struct {
	// Drift moves the pricing coefficients over time.
	Drift
	// HugeBytes is how many bytes a Huge answer streams (default 4 GiB).
	HugeBytes int64
	// KnownGPUsOnly leaves out the node whose GPU the catalog does not
	// know (GolemUnknownGPU): the demo's fakes name only GPUs the catalog
	// maps.
	KnownGPUsOnly bool
}

// GolemUnknownGPU is the GPU model of the fake's node that no catalog
// knows (a mining card), there to show an unknown GPU come out as UNKNOWN.
const GolemUnknownGPU = "NVIDIA CMP 170HX"

// Golem is a fake of the Golem Network stats API's anonymous GET
// /v2/network/online: a JSON array of providers. Errors come as
// {"detail": ...}. Faults: the generic kinds from Faults.Wrap; WrongTypes
// sends the pricing coefficients as strings; Empty answers []; Huge
// streams an endless array; EndlessPages does not apply (one answer) and
// is answered normally.
type Golem struct {
	oneAPI

	opts  GolemOptions
	nodes []map[string]any
}

// NewGolem returns the fake.
func NewGolem(opts GolemOptions) *Golem {
	nodes := recorded[[]map[string]any]("Golem online providers", golemRecorded)
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 4 << 30
	}
	g := &Golem{opts: opts, nodes: nodes}
	g.handler = g.Faults.Wrap(http.HandlerFunc(g.serve), func(status int, msg string) (string, []byte) {
		b, _ := json.Marshal(map[string]string{"detail": msg})
		return "application/json", b
	})
	return g
}

func (g *Golem) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != GolemPath || r.Method != http.MethodGet {
		writeJSON(w, http.StatusNotFound, []byte(`{"detail":"Not Found"}`))
		return
	}
	ft, _ := FaultOf(r)
	switch ft.Kind {
	case Empty:
		writeJSON(w, http.StatusOK, []byte(`[]`))
	case Huge:
		one, _ := json.Marshal(g.nodes[0])
		streamHuge(w, g.opts.HugeBytes, "[", func(int) []byte { return one }, func(int) string { return "]" })
	default:
		writeJSON(w, http.StatusOK, g.render(ft.Kind == WrongTypes))
	}
}

// coeffsKey is the offer property of the linear pricing coefficients.
const coeffsKey = "golem.com.pricing.model.linear.coeffs"

// render encodes the nodes with drifted coefficients; wrongTypes sends
// them as strings.
func (g *Golem) render(wrongTypes bool) []byte {
	out := make([]any, 0, len(g.nodes))
	for _, n := range g.nodes {
		if g.opts.KnownGPUsOnly && golemGPUModel(n) == GolemUnknownGPU {
			continue
		}
		c := make(map[string]any, len(n))
		for k, v := range n {
			c[k] = v
		}
		runtimes, _ := n["runtimes"].(map[string]any)
		nr := make(map[string]any, len(runtimes))
		for name, rt := range runtimes {
			rm, _ := rt.(map[string]any)
			props, _ := rm["properties"].(map[string]any)
			np := make(map[string]any, len(props))
			for k, v := range props {
				np[k] = v
			}
			if coeffs, ok := props[coeffsKey].([]any); ok {
				nc := make([]any, len(coeffs))
				for j, x := range coeffs {
					f, _ := x.(float64)
					f = g.opts.Drift.Apply(fmt.Sprint(n["node_id"], "/", name, "/", j), f)
					nc[j] = f
					if wrongTypes {
						nc[j] = fmt.Sprint(f)
					}
				}
				np[coeffsKey] = nc
			}
			nr[name] = map[string]any{"runtime": rm["runtime"], "properties": np}
		}
		c["runtimes"] = nr
		out = append(out, c)
	}
	b, _ := json.Marshal(out)
	return b
}

// golemGPUModel returns a node's vm-nvidia GPU model, or "".
func golemGPUModel(n map[string]any) string {
	runtimes, _ := n["runtimes"].(map[string]any)
	rt, _ := runtimes["vm-nvidia"].(map[string]any)
	props, _ := rt["properties"].(map[string]any)
	model, _ := props["golem.!exp.gap-35.v1.inf.gpu.model"].(string)
	return model
}
