package golem

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/fx"
	"github.com/gpuprice/gpuprice/price"
)

// glmRate converts GLM at 0.25 USD.
var glmRate = collectortest.FixedRate{Currency: "GLM", Rate: 0.25, At: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}

// TestContract runs the contract suite against the fake, whose nodes hold
// what must not be priced: a busy node, a testnet one, one at 0, nodes
// without a GPU.
func TestContract(t *testing.T) {
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		// Every node, with that of an unknown GPU the plugin's fake
		// leaves out for the demo.
		Fake: func() http.Handler { return fakecloud.NewGolem(fakecloud.GolemOptions{}) },
		FX:   glmRate,
		APIs: []collectortest.API[*Config]{{Unpaged: true, Want: map[collectortest.Row]collectortest.Want{
			collectortest.Status5xx:       {InErr: []string{"service unavailable"}},
			collectortest.TooManyRequests: {InErr: []string{"too many requests"}},
			collectortest.WrongTypes:      {Shapes: []string{"cannot unmarshal string"}},
		}}},
	})
}

// nodes serves what body returns as the online providers.
func nodes(body func() string) http.Handler { return fakecloud.AnswerAt(OnlinePath, body) }

// collectFrom refreshes once from the API at endpoint.
func collectFrom(t testing.TB, endpoint string, conv collectors.Converter) (*price.Snapshot, error) {
	t.Helper()
	return collectortest.New(t, New, defaults, endpoint, collectors.Env{FX: conv}, nil).Collect(context.Background())
}

// collect refreshes once from an API answering body.
func collect(t *testing.T, body string, conv collectors.Converter) (*price.Snapshot, error) {
	t.Helper()
	return collectFrom(t, collectortest.Serve(t, nodes(func() string { return body })), conv)
}

// gpuNode is a node offering the vm-nvidia runtime with props (a JSON
// object's members) beside its GPU.
func gpuNode(id, gpu, props string) string {
	return `{"node_id":"` + id + `","online":true,"computing_now":false,"runtimes":{"vm-nvidia":{"runtime":"vm-nvidia","properties":{` +
		`"golem.!exp.gap-35.v1.inf.gpu.model":"` + gpu + `","golem.!exp.gap-35.v1.inf.gpu.memory.total.gib":24,` +
		`"golem.com.pricing.model":"linear","golem.inf.cpu.threads":8,` + props + `}}}}`
}

const (
	cpuThenDuration = `"golem.com.usage.vector":["golem.usage.cpu_sec","golem.usage.duration_sec"]`
	mainnet         = `"golem.com.payment.platform.erc20-polygon-glm.address":"0xabc"`
	rtx4090         = "NVIDIA GeForce RTX 4090"
)

// TestDecode: the hourly price formula and what is skipped.
func TestDecode(t *testing.T) {
	for _, c := range []struct {
		name   string
		nodes  []string
		want   string // instance_type/offers/usd of each quote
		reason string // of the error, when it fails
	}{
		// 3600 × (0.0004 + 0.00001 × 8) = 1.728 GLM = 0.432 USD
		{name: "cpu_sec × threads + duration_sec, per hour", nodes: []string{
			gpuNode("a", rtx4090, cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":[0.00001,0.0004,0.5],`+mainnet)},
			want: "1x_NVIDIA_GeForce_RTX_4090_24GB/1/0.432"},
		{name: "the vector's order is the coefficients'", nodes: []string{
			gpuNode("a", rtx4090, `"golem.com.usage.vector":["golem.usage.duration_sec","golem.usage.cpu_sec"],"golem.com.pricing.model.linear.coeffs":[0.0004,0.00001,0]`)},
			want: "1x_NVIDIA_GeForce_RTX_4090_24GB/1/0.432"},
		{name: "cheapest of a shape, the others counted", nodes: []string{
			gpuNode("a", rtx4090, cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":[0,0.0004,0]`),
			gpuNode("b", rtx4090, cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":[0,0.0002,0]`),
			gpuNode("c", "NVIDIA CMP 170HX", cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":[0,0.0001,0]`)},
			want: "1x_NVIDIA_CMP_170HX_24GB/1/0.09 1x_NVIDIA_GeForce_RTX_4090_24GB/2/0.18"},
		{name: "busy, offline, testnet and CPU nodes skipped", nodes: []string{
			strings.Replace(gpuNode("busy", rtx4090, cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":[0,0.0001,0]`), `"computing_now":false`, `"computing_now":true`, 1),
			strings.Replace(gpuNode("off", rtx4090, cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":[0,0.0001,0]`), `"online":true`, `"online":false`, 1),
			gpuNode("test", rtx4090, cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":[0,0.0001,0],"golem.com.payment.platform.erc20-holesky-tglm.address":"0x1"`),
			`{"node_id":"cpu","online":true,"runtimes":{"vm":{"properties":{"golem.com.pricing.model.linear.coeffs":[0.00002,0.0001,0],` + cpuThenDuration + `}}}}`,
			gpuNode("ok", rtx4090, cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":[0,0.0004,0],`+mainnet)},
			want: "1x_NVIDIA_GeForce_RTX_4090_24GB/1/0.36"},
		{name: "unknown counter, mismatched or zero coefficients skipped", nodes: []string{
			gpuNode("gpu-sec", rtx4090, `"golem.com.usage.vector":["golem.usage.gpu-sec","golem.usage.duration_sec"],"golem.com.pricing.model.linear.coeffs":[0.001,0.0001,0]`),
			gpuNode("short", rtx4090, cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":[0.0001,0]`),
			gpuNode("zero", rtx4090, cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":[0,0,0.5]`),
			gpuNode("ok", rtx4090, cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":[0,0.0004,0]`)},
			want: "1x_NVIDIA_GeForce_RTX_4090_24GB/1/0.36"},
		{name: "no GPU node", nodes: []string{`{"node_id":"cpu","online":true,"runtimes":{"vm":{"properties":{}}}}`}, reason: "empty"},
		{name: "no node", reason: "empty"},
		{name: "every GPU node unreadable", nodes: []string{
			`{"node_id":"cpu","online":true,"runtimes":{"vm":{"properties":{}}}}`,
			gpuNode("a", rtx4090, cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":["0","0.0004","0"]`)}, reason: "decode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			snap, err := collect(t, "["+strings.Join(c.nodes, ",")+"]", glmRate)
			if collectortest.Failed(t, err, c.reason) {
				return
			}
			var got []string
			for _, q := range snap.Quotes {
				got = append(got, q.InstanceType+"/"+price.FormatNumber(float64(q.Offers))+"/"+price.FormatNumber(q.USDPerHour))
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("quotes\n got %s\nwant %s", strings.Join(got, " "), c.want)
			}
		})
	}
}

// TestRecorded checks what the golden file could hide: GLM kept beside
// USD, the busy node out of the count, unknown GPUs out of the markets.
func TestRecorded(t *testing.T) {
	snap, err := collectFrom(t, collectortest.Serve(t, fakecloud.NewGolem(fakecloud.GolemOptions{})), glmRate)
	if err != nil {
		t.Fatal(err)
	}
	var q4090 *price.Quote
	for i := range snap.Quotes {
		if snap.Quotes[i].GPUModel == "RTX4090" {
			q4090 = &snap.Quotes[i]
		}
	}
	// gpu-4090-a: 3600 × (0.0000075 × 16 + 0.0003) = 1.512 GLM; rig-4090-b
	// and home4090 dearer; busy-4090 and the testnet node left out.
	if q4090 == nil || q4090.Offers != 3 || q4090.AvailableGPUs != 3 || q4090.Currency != "GLM" ||
		q4090.CurrencyPerHour != 1.512 || q4090.USDPerHour != 1.512*0.25 || q4090.Region != Region || q4090.GPUCount != 1 {
		t.Errorf("RTX 4090: %+v", q4090)
	}
	for _, m := range snap.Markets {
		if m.GPUModel == price.Unknown {
			t.Errorf("a market of unknown GPUs: %+v", m)
		}
	}
	if len(snap.Offers) != 7 {
		t.Errorf("%d offers, want 7 (3 RTX 4090, 2 RTX 3090, the A100 and the CMP 170HX)", len(snap.Offers))
	}
}

// TestFX: without a GLM rate young enough nothing is published.
func TestFX(t *testing.T) {
	endpoint := collectortest.Serve(t, fakecloud.NewGolem(fakecloud.GolemOptions{}))
	for _, conv := range []collectors.Converter{collectortest.FixedRate{Err: fx.ErrStale}, nil} {
		_, err := collectFrom(t, endpoint, conv)
		if conv != nil && (collectors.Reason(err) != "fx" || !errors.Is(err, fx.ErrStale)) {
			t.Errorf("stale rate: %v (reason %s), want the fx reason", err, collectors.Reason(err))
		}
		if conv == nil && err == nil {
			t.Error("no converter: the refresh succeeded")
		}
	}
}

// FuzzDecode: no answer makes the decoder panic, and every quote it
// returns has a positive price, one GPU and its offers.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("[" + gpuNode("a", rtx4090, cpuThenDuration+`,"golem.com.pricing.model.linear.coeffs":[0.00001,0.0004,0.5],`+mainnet) + "]"))
	f.Add([]byte(`[{"node_id":"x","runtimes":{"vm-nvidia":{"properties":{"golem.com.usage.vector":[],"golem.com.pricing.model.linear.coeffs":[1]}}}}]`))
	f.Add([]byte(`[{"runtimes":null},{}]`))
	var body atomic.Value
	endpoint := collectortest.Serve(f, nodes(func() string { return body.Load().(string) }))
	f.Fuzz(func(t *testing.T, b []byte) {
		body.Store(string(b))
		snap, err := collectFrom(t, endpoint, glmRate)
		if err != nil {
			return
		}
		for _, q := range snap.Quotes {
			if !(q.USDPerHour > 0) || q.GPUCount != 1 || q.Offers < 1 || q.P10 < q.USDPerHour || q.P90 < q.P50 {
				t.Errorf("quote %+v", q)
			}
		}
	})
}
