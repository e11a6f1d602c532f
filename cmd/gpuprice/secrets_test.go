package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// canaries are API keys that must never leave gpuprice, one per provider;
// "/" and "+" make their URL-escaped forms differ from them.
var canaries = map[string]string{
	"runpod": "rp-CANARY/7f3a+runpod",
	"lambda": "la-CANARY/9c1e+lambda",
	"vastai": "va-CANARY/2b8d+vastai",
}

// leaked returns the canaries (or their distinctive part) found in text.
func leaked(text string) []string {
	var out []string
	for p, c := range canaries {
		for _, part := range []string{c, strings.Split(c, "/")[1], strings.ReplaceAll(strings.ReplaceAll(c, "/", "%2F"), "+", "%2B")} {
			if strings.Contains(text, part) {
				out = append(out, p+" ("+part+")")
				break
			}
		}
	}
	return out
}

// TestSecretsNeverLeak: every provider's fake echoes the request it got —
// URL with ?api_key=, Authorization header — in its error body. No key
// reaches the logs, /api/v1/providers (JSON and CSV), the web UI,
// /-/ready, the store's poll log or `gpuprice collect`, and the errors
// still say what happened.
func TestSecretsNeverLeak(t *testing.T) {
	fakes := map[string]http.Handler{}
	runpod := fakecloud.NewRunpod(fakecloud.RunpodOptions{})
	lambda := fakecloud.NewLambda(fakecloud.LambdaOptions{})
	vast := fakecloud.NewVastAI(fakecloud.VastAIOptions{})
	for _, f := range []*fakecloud.Faults{&runpod.Faults, &lambda.Faults, &vast.Faults} {
		f.Add(fakecloud.Fault{Kind: fakecloud.EchoRequest})
	}
	fakes["runpod"], fakes["lambda"], fakes["vastai"] = runpod, lambda, vast
	urls := map[string]string{}
	for name, h := range fakes {
		s, err := fakecloud.Start(h, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		urls[name] = s.URL
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "gpuprice.yml")
	text := fmt.Sprintf(`providers:
  azure: {enabled: false}
  runpod: {endpoint: %q, api_key: %q, interval: 1h}
  lambda: {enabled: true, endpoint: %q, api_key: %q, interval: 1h}
  vastai: {endpoint: %q, api_key: %q, interval: 1h}
`, urls["runpod"]+fakecloud.RunpodPath, canaries["runpod"], urls["lambda"], canaries["lambda"], urls["vastai"]+fakecloud.VastAIBasePath, canaries["vastai"])
	if err := os.WriteFile(cfgFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(dir, "store")

	d := startServe(t, cfgFile, storage)
	waitFor(t, "every provider failed", func() bool {
		_, body := d.get(t, "/api/v1/providers?format=csv")
		return strings.Count(body, "http_4xx=1") == 3
	})
	for _, path := range []string{"/api/v1/providers", "/api/v1/providers?format=csv", "/", "/-/ready", "/metrics"} {
		code, body := d.get(t, path)
		if l := leaked(body); len(l) > 0 || code == 0 {
			t.Errorf("GET %s (%d) leaks %v", path, code, l)
		}
		if path == "/api/v1/providers" && (!strings.Contains(body, `api_key=\u003credacted\u003e`) || !strings.Contains(body, `Authorization: Bearer \u003credacted\u003e`) || !strings.Contains(body, "HTTP 400")) {
			t.Errorf("last errors do not say what happened: %s", body)
		}
	}
	d.stop(t)
	if l := leaked(d.logs.String()); len(l) > 0 {
		t.Errorf("the daemon's log leaks %v:\n%s", l, d.logs.String())
	}
	st, err := sqlite.OpenReader(storage, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	polls, err := st.Polls(context.Background(), "", time.Time{}, time.Time{})
	if err != nil || len(polls) != 3 {
		t.Fatalf("%d polls, %v", len(polls), err)
	}
	for _, p := range polls {
		if l := leaked(p.Error); len(l) > 0 || !strings.Contains(p.Error, "<redacted>") {
			t.Errorf("poll log of %s: %q (leaks %v)", p.Provider, p.Error, l)
		}
	}

	var out, logs bytes.Buffer
	format, demo, timeout := "table", false, time.Duration(0)
	providers := []string{"runpod", "lambda", "vastai"}
	err = runCollect(slog.New(slog.NewTextHandler(&logs, nil)), collectOptions{config: &cfgFile, providers: &providers, format: &format, demo: &demo, timeout: &timeout}, &out)
	if err == nil {
		t.Error("collect succeeded against failing providers")
	}
	if l := leaked(out.String() + logs.String() + err.Error()); len(l) > 0 || !strings.Contains(logs.String(), "<redacted>") {
		t.Errorf("collect leaks %v:\n%s\n%s", l, out.String(), logs.String())
	}
}
