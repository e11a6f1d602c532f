package fakecloud

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// oneAPI is what a fake of a single API embeds: its fault queue and its
// handler (the fake's own serving, wrapped by the queue's faults), with the
// Faulty and http.Handler methods every such fake would write again.
type oneAPI struct {
	// Faults schedules misbehaviour; safe to use while serving.
	Faults  Faults
	handler http.Handler
}

// FaultQueue implements Faulty: Faults is the only API's queue.
func (o *oneAPI) FaultQueue(api string) *Faults {
	if api == "" {
		return &o.Faults
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (o *oneAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) { o.handler.ServeHTTP(w, r) }

// recorded decodes a recorded answer the package embeds; what names it
// in the panic a broken file gives.
func recorded[T any](what string, b []byte) T {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		panic(fmt.Sprintf("fakecloud: %s: %v", what, err))
	}
	return v
}
