package collectors

import (
	"fmt"
	"sort"
)

// Readiness says whether a daemon has prices to serve, and which providers
// are not contributing to them. It is what /-/ready answers.
type Readiness struct {
	// Ready is true when at least one running provider has published
	// prices since the process started: a successful refresh, or prices
	// loaded from the store after a restart (Runner.Seed). A daemon whose
	// every provider has failed since start, or that runs none, is not
	// ready: it has nothing to serve.
	Ready bool
	// Failing describes each provider that has not published prices yet,
	// whose last refresh failed, whose prices were withdrawn as stale, or
	// whose last answer was degraded (State.Degraded), sorted by provider,
	// as "name: why".
	Failing []string
}

// ReadinessOf is the Readiness of the providers whose States are given
// (Runner.States).
func ReadinessOf(states []*State) Readiness {
	var r Readiness
	for _, st := range states {
		if st == nil {
			continue
		}
		if !st.LastSuccess.IsZero() {
			r.Ready = true
		}
		if why := st.problem(); why != "" {
			r.Failing = append(r.Failing, st.Provider+": "+why)
		}
	}
	sort.Strings(r.Failing)
	return r
}

// problem says why st's provider is not serving fresh prices, or "".
func (st *State) problem() string {
	switch {
	case st.Stale:
		return fmt.Sprintf("prices withdrawn as stale (no successful refresh since %s); last error: %s",
			st.LastSuccess.UTC().Format("2006-01-02T15:04:05Z"), st.LastError)
	case st.Attempts > 0 && !st.Success:
		return "last refresh failed: " + st.LastError
	case st.LastSuccess.IsZero():
		return "no refresh finished yet"
	case st.Degraded != "":
		return "degraded: " + st.Degraded
	}
	return ""
}
