package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/prometheus/common/model"

	"github.com/gpuprice/gpuprice/collectors/owned"
	"github.com/gpuprice/gpuprice/collectors/static"
	"github.com/gpuprice/gpuprice/planner"
	"github.com/gpuprice/gpuprice/store/query"
)

// breakevenParams are the parameters of /api/v1/breakeven: those of
// planner.Request.
var breakevenParams = []string{
	"gpu_model", "gpu_memory_gb", "gpu_form", "geo",
	"gpu_hours", "baseline_gpus", "peak_gpus", "peak_hours",
	"months", "stat", "window", "step", "end",
}

// parseBreakevenRequest reads /api/v1/breakeven's parameters into a
// planner request (not yet normalized).
func parseBreakevenRequest(r *http.Request) (*planner.Request, error) {
	p, err := parseParams(r, breakevenParams)
	if err != nil {
		return nil, err
	}
	req := &planner.Request{}
	text := map[string]*string{"gpu_model": &req.GPUModel, "gpu_form": &req.GPUForm, "geo": &req.Geo, "stat": &req.Stat}
	for name, dst := range text {
		if *dst, err = p.one(name); err != nil {
			return nil, err
		}
	}
	nums := map[string]*float64{"gpu_memory_gb": &req.GPUMemoryGB, "gpu_hours": &req.GPUHours,
		"baseline_gpus": &req.BaselineGPUs, "peak_gpus": &req.PeakGPUs, "peak_hours": &req.PeakHours}
	for name, dst := range nums {
		v, err := p.one(name)
		if err != nil || v == "" {
			if err != nil {
				return nil, err
			}
			continue
		}
		// A number beyond float64 is ±Inf: Normalize refuses it with the
		// parameter's range, as it does every number out of range.
		f, ok := parseFloat(v)
		if !ok {
			return nil, badParam(name, v, "is not a number")
		}
		*dst = f
	}
	if v, err := p.one("months"); err != nil {
		return nil, err
	} else if v != "" {
		if req.Months, err = strconv.Atoi(v); err != nil {
			return nil, badParam("months", v, "is not a whole number of months")
		}
	}
	for name, dst := range map[string]*planner.Duration{"window": &req.Window, "step": &req.Step} {
		v, err := p.one(name)
		if err != nil {
			return nil, err
		}
		if v == "" {
			continue
		}
		d, perr := model.ParseDuration(v)
		if perr != nil || d <= 0 {
			return nil, badParam(name, v, "is not a positive duration (like 30d or 1h)")
		}
		*dst = planner.Duration(d)
	}
	if v, err := p.one("end"); err != nil {
		return nil, err
	} else if v != "" {
		if req.End, err = parseTime("end", v); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// breakeven answers the rent-or-buy plan of a GPU and a workload from the
// store's price history and the configuration's owned and static entries.
func (a *API) breakeven(w http.ResponseWriter, r *http.Request) {
	req, err := parseBreakevenRequest(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	err = req.Normalize(a.now())
	if err == nil {
		err = req.CheckGPU(a.catalog)
	}
	if err != nil {
		var pe *planner.ParamError
		if errors.As(err, &pe) {
			err = errorf(http.StatusBadRequest, "bad parameter %q: %s", pe.Param, pe.Msg)
		}
		a.fail(w, r, err)
		return
	}
	if a.store == nil {
		a.fail(w, r, errorf(http.StatusServiceUnavailable, "breakeven is unavailable: this server has no store to read price history from"))
		return
	}
	in := planner.Inputs{History: a.store, Catalog: a.catalog,
		Limits: query.Limits{MaxPoints: a.maxPoints, MaxSamples: a.maxSamples}}
	if a.config != nil {
		if cfg := a.config(); cfg != nil {
			in.Owned, in.Static = owned.Of(cfg).Entries, static.Of(cfg).Entries
		}
	}
	plan, err := planner.Make(r.Context(), in, *req)
	if err != nil {
		var le *query.LimitError
		switch {
		case errors.As(err, &le):
			err = errorf(http.StatusBadRequest, "%v", err)
		case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
			return // the client left
		default:
			err = errorf(http.StatusServiceUnavailable, "reading history from the store: %v", err)
		}
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, plan)
}
