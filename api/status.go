package api

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// statusParams are the parameters of /api/v1/providers and /api/v1/gpus.
var statusParams = []string{"provider", "format"}

// statusRequest reads the provider filter and the format.
func statusRequest(r *http.Request) (providers map[string]bool, f format, err error) {
	p, err := parseParams(r, statusParams)
	if err != nil {
		return nil, 0, err
	}
	for _, v := range p.list("provider") {
		if providers == nil {
			providers = map[string]bool{}
		}
		providers[strings.ToLower(v)] = true
	}
	fv, err := p.one("format")
	if err != nil {
		return nil, 0, err
	}
	f, err = negotiate(r, fv)
	return providers, f, err
}

// providerJSON is one provider's refresh status.
type providerJSON struct {
	Name                string            `json:"provider"`
	Success             bool              `json:"success"`
	LastAttempt         *time.Time        `json:"last_attempt"`
	LastSuccess         *time.Time        `json:"last_success"`
	LastDurationSeconds number            `json:"last_duration_seconds"`
	LastError           string            `json:"last_error"`
	IntervalSeconds     number            `json:"interval_seconds"`
	Quotes              int               `json:"quotes"`
	Offers              int               `json:"offers"`
	Stale               bool              `json:"stale"`
	Degraded            string            `json:"degraded"`
	Attempts            uint64            `json:"attempts"`
	Errors              map[string]uint64 `json:"errors"`
	UnknownGPUs         int               `json:"unknown_gpus"`
	UnknownGPUNames     []string          `json:"unknown_gpu_names"`
	// Holder is the replica that refreshes the provider in an HA group.
	Holder string `json:"holder,omitempty"`
}

// optionalTime is t in UTC, or nil (JSON null) when t is zero.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func toProviderJSON(st *collectors.State) providerJSON {
	p := providerJSON{
		Name:                st.Provider,
		Success:             st.Success,
		LastAttempt:         optionalTime(st.LastAttempt),
		LastSuccess:         optionalTime(st.LastSuccess),
		LastDurationSeconds: number(st.LastDuration.Seconds()),
		LastError:           st.LastError,
		IntervalSeconds:     number(st.Interval.Seconds()),
		Stale:               st.Stale,
		Degraded:            st.Degraded,
		Attempts:            st.Attempts,
		Errors:              maps.Clone(st.Errors),
		UnknownGPUs:         st.UnknownGPUs,
		UnknownGPUNames:     slices.Clone(st.UnknownGPUNames),
		Holder:              st.Holder,
	}
	if p.Errors == nil {
		p.Errors = map[string]uint64{}
	}
	if p.UnknownGPUNames == nil {
		p.UnknownGPUNames = []string{}
	}
	if st.Snapshot != nil {
		p.Quotes, p.Offers = len(st.Snapshot.Quotes), len(st.Snapshot.Offers)
	}
	return p
}

var providerHeader = []string{
	"provider", "success", "last_attempt", "last_success", "last_duration_seconds", "last_error",
	"interval_seconds", "quotes", "offers", "stale", "attempts", "errors", "unknown_gpus",
	"unknown_gpu_names", "degraded",
}

// formatErrors renders error counts for one CSV cell: "reason=n" pairs,
// sorted by reason, separated by spaces.
func formatErrors(m map[string]uint64) string {
	parts := make([]string, 0, len(m))
	for _, reason := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", reason, m[reason]))
	}
	return strings.Join(parts, " ")
}

func (a *API) providers(w http.ResponseWriter, r *http.Request) {
	want, f, err := statusRequest(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := []providerJSON{}
	for _, st := range a.states() {
		if st != nil && (want == nil || want[st.Provider]) {
			out = append(out, toProviderJSON(st))
		}
	}
	if f == formatCSV {
		writeCSV(w, providerHeader, func(emit func([]string)) {
			for _, p := range out {
				emit([]string{
					p.Name, strconv.FormatBool(p.Success), formatTimePtr(p.LastAttempt), formatTimePtr(p.LastSuccess),
					formatFloat(float64(p.LastDurationSeconds)), p.LastError, formatFloat(float64(p.IntervalSeconds)),
					strconv.Itoa(p.Quotes), strconv.Itoa(p.Offers), strconv.FormatBool(p.Stale),
					strconv.FormatUint(p.Attempts, 10), formatErrors(p.Errors), strconv.Itoa(p.UnknownGPUs),
					strings.Join(p.UnknownGPUNames, "; "), p.Degraded,
				})
			}
		})
		return
	}
	a.writeJSON(w, r, out)
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return formatTime(*t)
}

// aliasJSON is one entry of a provider's alias table. Fields the raw name
// does not determine are zero; the collector fills them from other data.
type aliasJSON struct {
	Raw         string `json:"raw"`
	GPUModel    string `json:"gpu_model"`
	GPUForm     string `json:"gpu_form"`
	GPUMemoryGB number `json:"gpu_memory_gb"`
	GPUCount    number `json:"gpu_count"`
}

var (
	gpuHeader   = []string{"gpu_model", "gpu_form", "gpu_memory_gb", "vendor", "architecture"}
	aliasHeader = []string{"provider", "raw", "gpu_model", "gpu_form", "gpu_memory_gb", "gpu_count"}
)

// gpus answers the catalog's GPUs or, with provider, the alias tables of
// the providers named.
func (a *API) gpus(w http.ResponseWriter, r *http.Request) {
	want, f, err := statusRequest(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if want == nil {
		gpus := a.catalog.GPUs()
		if f == formatCSV {
			writeCSV(w, gpuHeader, func(emit func([]string)) {
				for _, g := range gpus {
					emit([]string{g.Model, g.Form, price.FormatNumber(g.MemoryGB), g.Vendor, g.Architecture})
				}
			})
			return
		}
		a.writeJSON(w, r, gpus)
		return
	}
	type providerAlias struct {
		Provider string `json:"provider"`
		aliasJSON
	}
	out := []providerAlias{}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		for _, al := range a.catalog.Aliases(p) {
			out = append(out, providerAlias{p, aliasJSON{al.Raw, al.Model, al.Form, number(al.MemoryGB), number(al.Count)}})
		}
	}
	if f == formatCSV {
		writeCSV(w, aliasHeader, func(emit func([]string)) {
			for _, al := range out {
				emit([]string{al.Provider, al.Raw, al.GPUModel, al.GPUForm,
					price.FormatNumber(float64(al.GPUMemoryGB)), price.FormatNumber(float64(al.GPUCount))})
			}
		})
		return
	}
	a.writeJSON(w, r, out)
}

// The /-/ endpoints answer plain text, as Prometheus' do, for probes and
// curl.

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, msg)
}

func (a *API) healthy(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "Healthy")
}

// readyz answers 200 when the store answers and at least one provider has
// published prices (collectors.Readiness), else 503; either way the body
// names the providers that are failing, one per line, so that a probe's
// log says why.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if a.notReady != nil {
		if why := a.notReady(); why != "" {
			writeText(w, http.StatusServiceUnavailable, "Not ready: "+why)
			return
		}
	}
	var b strings.Builder
	status := http.StatusOK
	states := a.states()
	rd := collectors.ReadinessOf(states)
	var storeErr error
	if a.ping != nil {
		ctx, cancel := context.WithTimeout(r.Context(), pingTimeout)
		storeErr = a.ping(ctx)
		cancel()
	}
	switch {
	case storeErr != nil:
		status = http.StatusServiceUnavailable
		fmt.Fprintf(&b, "Not ready: the store does not answer: %v", storeErr)
	case !rd.Ready && len(states) == 0:
		status = http.StatusServiceUnavailable
		b.WriteString("Not ready: no provider is enabled")
	case !rd.Ready:
		status = http.StatusServiceUnavailable
		b.WriteString("Not ready: no provider has published prices yet")
	default:
		b.WriteString("Ready")
	}
	if len(rd.Failing) > 0 {
		b.WriteString("\nfailing providers:")
		for _, f := range rd.Failing {
			b.WriteString("\n  " + f)
		}
	}
	writeText(w, status, b.String())
}

// pingTimeout bounds the store check of /-/ready: a probe must get an
// answer before its own timeout (Kubernetes' default is 1s).
const pingTimeout = 800 * time.Millisecond

func (a *API) reloadz(w http.ResponseWriter, _ *http.Request) {
	if a.reload == nil {
		writeError(w, http.StatusForbidden, "reload over HTTP is disabled: start gpuprice with --web.enable-lifecycle, or send it SIGHUP")
		return
	}
	// The reload function logs its own failure; the client gets it too.
	if err := a.reload(); err != nil {
		writeError(w, http.StatusInternalServerError, "reload failed, the previous configuration is kept: "+err.Error())
		return
	}
	writeText(w, http.StatusOK, "Reloaded")
}
