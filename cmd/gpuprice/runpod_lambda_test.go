package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors/lambda"
	"github.com/gpuprice/gpuprice/collectors/runpod"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// TestDemoConfigRunpodLambda: the demo's configuration enables Runpod and
// Lambda against their fakes (Lambda with the key its fake expects) and
// validates.
func TestDemoConfigRunpodLambda(t *testing.T) {
	f, err := startFakes(fakecloud.Drift{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg := demoConfig(f, time.Minute)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	rp, la := cfg.Providers["runpod"].(*runpod.Config), cfg.Providers["lambda"].(*lambda.Config)
	if !rp.Enabled || rp.Endpoint != f.urls["runpod"]+fakecloud.RunpodPath {
		t.Errorf("runpod: enabled %v, endpoint %q", rp.Enabled, rp.Endpoint)
	}
	if !la.Enabled || la.Endpoint != f.urls["lambda"] || la.APIKey == "" {
		t.Errorf("lambda: enabled %v, endpoint %q, key set %v", la.Enabled, la.Endpoint, la.APIKey != "")
	}
}

// TestCollectDemoRunpodLambda runs `gpuprice collect --demo` for the two
// providers: every quote of both fakes comes back, with its stock.
func TestCollectDemoRunpodLambda(t *testing.T) {
	var out bytes.Buffer
	cfgFile, format, demo, timeout := "", "csv", true, time.Duration(0)
	providers := []string{"runpod", "lambda"}
	err := runCollect(slog.New(slog.DiscardHandler), collectOptions{config: &cfgFile, providers: &providers, format: &format, demo: &demo, timeout: &timeout}, &out)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	count := map[string]int{}
	stock := map[string]map[string]int{}
	for _, r := range rows[1:] {
		p := r[col["provider"]]
		count[p]++
		if stock[p] == nil {
			stock[p] = map[string]int{}
		}
		stock[p][r[col["stock"]]]++
	}
	// Runpod: 80 quotes (see collectors/runpod); Lambda: 17 types × 17
	// regions.
	if count["runpod"] != 80 || count["lambda"] != 289 || len(count) != 2 {
		t.Errorf("quotes per provider %v, want runpod 80, lambda 289", count)
	}
	if stock["runpod"]["none"] == 0 || stock["runpod"]["high"] == 0 || stock["lambda"]["available"] == 0 || stock["lambda"]["none"] == 0 {
		t.Errorf("stock per provider %v", stock)
	}
	if !strings.Contains(text, "lambda,gpu_8x_h100_sxm5,us-east-1,,na,on_demand,H100,sxm,80,8,23.92,2.99,") {
		t.Errorf("no gpu_8x_h100_sxm5 us-east-1 row in:\n%.1000s", text)
	}
}

// TestLambdaWithoutKey: enabling Lambda without a key fails only Lambda's
// refresh, with an error naming the config keys; Runpod still collects.
func TestLambdaWithoutKey(t *testing.T) {
	var urls []string
	for _, h := range []http.Handler{fakecloud.NewRunpod(fakecloud.RunpodOptions{}), fakecloud.NewLambda(fakecloud.LambdaOptions{})} {
		s, err := fakecloud.Start(h, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		urls = append(urls, s.URL)
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "gpuprice.yml")
	text := fmt.Sprintf("providers:\n  runpod: {endpoint: %q}\n  lambda: {enabled: true, endpoint: %q}\n", urls[0]+fakecloud.RunpodPath, urls[1])
	if err := os.WriteFile(cfgFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, logs bytes.Buffer
	format, demo, timeout := "csv", false, time.Duration(0)
	providers := []string{"runpod", "lambda"} // and nothing else, whatever the defaults
	err := runCollect(slog.New(slog.NewTextHandler(&logs, nil)), collectOptions{config: &cfgFile, providers: &providers, format: &format, demo: &demo, timeout: &timeout}, &out)
	if err == nil || err.Error() != "refresh failed for: lambda" {
		t.Errorf("err = %v, want the lambda refresh to fail", err)
	}
	if !strings.Contains(logs.String(), "providers.lambda.api_key") {
		t.Errorf("the log does not name the missing key:\n%s", logs.String())
	}
	if n := strings.Count(out.String(), "\nrunpod,"); n != 80 {
		t.Errorf("%d runpod rows, want 80", n)
	}
}
