package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
)

// TestDemoKnowsEveryGPU runs `gpuprice collect --demo` for every provider:
// the demo's fakes name only GPUs the catalog maps, so nothing is exported
// as UNKNOWN and no unknown GPU is logged (`gpuprice demo` uses the same
// fakes).
func TestDemoKnowsEveryGPU(t *testing.T) {
	var out, logs bytes.Buffer
	cfgFile, format, demo, timeout := "", "json", true, time.Duration(0)
	providers := append(collectors.Registered(), collectors.RegisteredLists()...)
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := runCollect(logger, collectOptions{config: &cfgFile, providers: &providers, format: &format, demo: &demo, timeout: &timeout}, &out); err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	if strings.Contains(logs.String(), "unknown GPU") {
		t.Errorf("the demo logs unknown GPUs:\n%s", logs.String())
	}
	var got struct {
		Data []struct {
			Provider     string `json:"provider"`
			InstanceType string `json:"instance_type"`
			GPUModel     string `json:"gpu_model"`
			GPURaw       string `json:"gpu_raw"`
		} `json:"data"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, q := range got.Data {
		seen[q.Provider] = true
		if q.GPUModel == "UNKNOWN" {
			t.Errorf("%s %s: GPU %q unknown to the catalog", q.Provider, q.InstanceType, q.GPURaw)
		}
	}
	for _, p := range collectors.Registered() {
		if !seen[p] {
			t.Errorf("no quotes from %s", p)
		}
	}
}
