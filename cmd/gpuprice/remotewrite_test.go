package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// TestServeRemoteWrite: serve with a remote_write target pushes the
// providers' prices to it.
func TestServeRemoteWrite(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		compressed, _ := io.ReadAll(r.Body)
		body, err := snappy.Decode(nil, compressed)
		var wr prompb.WriteRequest
		if err == nil {
			err = wr.Unmarshal(body)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, ts := range wr.Timeseries {
			for _, l := range ts.Labels {
				if l.Name == "__name__" {
					seen[l.Value] = true
				}
			}
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	f := startProviderFakes(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, f, "remote_write:\n  - {url: \""+recv.URL+"/api/v1/write\", send_interval: 1s}\n")
	d := startServe(t, cfg, filepath.Join(dir, "store"))
	waitFor(t, "prices pushed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen["gpuprice_gpu_usd_per_hour"] && seen["gpuprice_collector_success"]
	})
	if !d.metricsHave(t, `gpuprice_remote_write_samples_sent_total{kind="live",target="`+strings.TrimPrefix(recv.URL, "http://")+`/api/v1/write"}`)() {
		t.Error("no remote-write self-metrics on /metrics")
	}
}
