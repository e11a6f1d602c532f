package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"

	"github.com/gpuprice/gpuprice/collectors/owned"
	"github.com/gpuprice/gpuprice/collectors/static"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/planner"
)

// breakevenOptions are the flags of `gpuprice breakeven`. The request's
// flags have the names of /api/v1/breakeven's parameters.
type breakevenOptions struct {
	server, storagePath, config, format *string

	gpuModel, gpuForm, geo, stat, window, step, end *string
	gpuMemoryGB, gpuHours, baseline, peak, peakH    *float64
	months                                          *int
}

func breakevenFlags(cmd *kingpin.CmdClause) breakevenOptions {
	return breakevenOptions{
		server:      cmd.Flag("server", "Ask a running gpuprice (e.g. http://localhost:9847) instead of reading a store; its configuration's owned: and static: entries are used.").String(),
		storagePath: cmd.Flag("storage.path", "Store to read, read-only (a running daemon may hold it); default storage.path of the configuration.").String(),
		config:      cmd.Flag("config.file", "Configuration whose owned: and static: entries are compared (without --server).").String(),
		format:      cmd.Flag("format", "Output format.").Default("table").Enum("table", "json"),

		gpuModel:    cmd.Flag("gpu_model", "GPU model (H100, A100, ...).").Required().String(),
		gpuMemoryGB: cmd.Flag("gpu_memory_gb", "GPU memory size, to tell e.g. A100 40 and 80 GB apart.").Float64(),
		gpuForm:     cmd.Flag("gpu_form", "sxm or pcie.").String(),
		geo:         cmd.Flag("geo", "Rent only in this coarse location (na, eu, asia, ...).").String(),
		gpuHours:    cmd.Flag("gpu_hours", "Workload: GPU-hours per month.").Float64(),
		baseline:    cmd.Flag("baseline_gpus", "Workload profile: GPUs busy all month.").Float64(),
		peak:        cmd.Flag("peak_gpus", "Workload profile: GPUs added at peaks.").Float64(),
		peakH:       cmd.Flag("peak_hours", "Workload profile: hours of peak per month.").Float64(),
		months:      cmd.Flag("months", "Horizon in months (default 36).").Int(),
		stat:        cmd.Flag("stat", "Statistic of the cheapest rented price over the window: median (default), p10, mean, min, last.").String(),
		window:      cmd.Flag("window", "History the statistic covers (default 30d).").String(),
		step:        cmd.Flag("step", "Sampling of the history (default window / 720).").String(),
		end:         cmd.Flag("end", "End of the window, RFC 3339 (default now).").String(),
	}
}

// request builds the planner request of the flags.
func (o breakevenOptions) request() (planner.Request, error) {
	r := planner.Request{
		GPUModel: *o.gpuModel, GPUMemoryGB: *o.gpuMemoryGB, GPUForm: *o.gpuForm, Geo: *o.geo,
		GPUHours: *o.gpuHours, BaselineGPUs: *o.baseline, PeakGPUs: *o.peak, PeakHours: *o.peakH,
		Months: *o.months, Stat: *o.stat,
	}
	for name, d := range map[string]struct {
		v   string
		dst *planner.Duration
	}{"window": {*o.window, &r.Window}, "step": {*o.step, &r.Step}} {
		if d.v == "" {
			continue
		}
		v, err := model.ParseDuration(d.v)
		if err != nil || v <= 0 {
			return r, fmt.Errorf("--%s: %q is not a positive duration (like 30d or 1h)", name, d.v)
		}
		*d.dst = planner.Duration(v)
	}
	if *o.end != "" {
		t, err := time.Parse(time.RFC3339, *o.end)
		if err != nil {
			return r, fmt.Errorf("--end: %q is not an RFC 3339 time", *o.end)
		}
		r.End = t
	}
	return r, nil
}

// runBreakeven prints the rent-or-buy plan, asked of a server or worked
// out from a store opened read-only: the SQLite lock keeps out a second
// writer, not readers, so this works while the daemon runs.
func runBreakeven(ctx context.Context, o breakevenOptions, out io.Writer) error {
	req, err := o.request()
	if err != nil {
		return err
	}
	var p *planner.Plan
	if *o.server != "" {
		p, err = askBreakeven(ctx, *o.server, req)
	} else {
		p, err = planLocally(ctx, o, req)
	}
	if err != nil {
		return err
	}
	if *o.format == "json" {
		// The table shows its warnings; JSON's are in the answer, and said
		// on stderr too, for a person piping it.
		for _, w := range p.Warnings {
			fmt.Fprintf(os.Stderr, "warning: %s\n", w)
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	return planner.WriteTable(out, p)
}

func planLocally(ctx context.Context, o breakevenOptions, req planner.Request) (*planner.Plan, error) {
	cfg := config.Builtin()
	if *o.config != "" {
		var err error
		if cfg, err = config.LoadFile(*o.config); err != nil {
			return nil, err
		}
	}
	err := req.Normalize(time.Now())
	if err == nil {
		err = req.CheckGPU(nil)
	}
	if err != nil {
		var pe *planner.ParamError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("--%s: %s", pe.Param, pe.Msg)
		}
		return nil, err
	}
	st, err := openReader(ctx, cfg, *o.storagePath)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return planner.Make(ctx, planner.Inputs{History: st, Owned: owned.Of(cfg).Entries, Static: static.Of(cfg).Entries}, req)
}

// askBreakeven gets the plan from a server's /api/v1/breakeven.
func askBreakeven(ctx context.Context, server string, req planner.Request) (*planner.Plan, error) {
	u := strings.TrimRight(server, "/") + "/api/v1/breakeven?" + req.Values().Encode()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var answer struct {
		Data  *planner.Plan `json:"data"`
		Error string        `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&answer); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", server, resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK || answer.Data == nil {
		return nil, fmt.Errorf("%s: %s: %s", server, resp.Status, answer.Error)
	}
	return answer.Data, nil
}
