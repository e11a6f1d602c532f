package remotewrite

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/internal/integration"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// TestRealReceivers pushes live values and two days of stored history to
// Debian's prometheus (with the remote-write receiver and a 7-day
// out-of-order window) and victoria-metrics, both on loopback ports, and
// reads them back: every stored point at its own timestamp, the live value
// at a send time, and the delay from a price change to it being
// queryable.
func TestRealReceivers(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	st := realStore(t, now)
	for _, rc := range []struct {
		name  string
		start func(t *testing.T) (push string, read func(t *testing.T, series string) []point)
	}{
		{"prometheus", startPrometheus},
		{"victoria-metrics", startVictoriaMetrics},
	} {
		t.Run(rc.name, func(t *testing.T) {
			push, read := rc.start(t)
			var body atomic.Pointer[[]byte]
			live := []byte(liveFamily(5.5))
			body.Store(&live)
			cfgs := target1(push, func(rw *config.RemoteWrite) {
				rw.Name = rc.name
				rw.SendInterval = config.Duration(time.Second)
				rw.History.MaxAge = config.Duration(72 * time.Hour)
			})
			start(t, cfgs, Options{Families: func() []byte { return *body.Load() }, History: st})

			// History: every stored point of p5, at its own time.
			want := []point{{now.Add(-48 * time.Hour), 4}, {now.Add(-25 * time.Hour), 3}, {now.Add(-time.Hour), 2}}
			var got []point
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				if got = read(t, `gpuprice_gpu_usd_per_hour{instance_type="p5.48xlarge"}`); len(got) >= len(want) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if len(got) != len(want) {
				t.Fatalf("history read back: %v, want %v", got, want)
			}
			for i := range want {
				if !got[i].t.Equal(want[i].t) || got[i].v != want[i].v {
					t.Errorf("history[%d] = %v, want %v", i, got[i], want[i])
				}
			}

			// Live: the current value, then a change, timed.
			waitForValue(t, read, 5.5)
			changed := []byte(liveFamily(6.5))
			at := time.Now()
			body.Store(&changed)
			waitForValue(t, read, 6.5)
			t.Logf("%s: a price change was queryable %v after it was published (send_interval 1s)", rc.name, time.Since(at).Round(time.Millisecond))
		})
	}
}

type point struct {
	t time.Time
	v float64
}

func (p point) String() string { return fmt.Sprintf("%g@%s", p.v, p.t.UTC().Format(time.RFC3339)) }

func liveFamily(v float64) string {
	return fmt.Sprintf("# TYPE gpuprice_gpu_usd_per_hour gauge\ngpuprice_gpu_usd_per_hour{provider=\"live\",instance_type=\"x1\",gpu_model=\"L4\"} %g\n", v)
}

func waitForValue(t *testing.T, read func(*testing.T, string) []point, v float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if pts := read(t, `gpuprice_gpu_usd_per_hour{provider="live"}`); len(pts) > 0 && pts[len(pts)-1].v == v {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("live value %g never read back", v)
}

// realStore holds p5 (H100 spot, 8 GPUs) at 32, 24 and 16 $/h, 48, 25 and
// 1 hour before now.
func realStore(t *testing.T, now time.Time) *sqlite.Store {
	st, err := sqlite.Open(t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var quotes []price.Quote
	for _, p := range []struct {
		ago time.Duration
		usd float64
	}{{48 * time.Hour, 32}, {25 * time.Hour, 24}, {time.Hour, 16}} {
		at := now.Add(-p.ago)
		quotes = append(quotes, price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Geo: "na",
			PricingModel: price.Spot, GPUModel: "H100", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: p.usd, ObservedAt: at, EffectiveAt: at})
	}
	if _, err := st.Backfill(context.Background(), quotes); err != nil {
		t.Fatal(err)
	}
	var _ store.Reader = st
	return st
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// run starts a receiver process and stops it when the test ends; its
// output is logged if the test failed.
func run(t *testing.T, ready string, bin string, args ...string) {
	t.Helper()
	var logs syncBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(bin), logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("%s exited:\n%s", bin, logs.String())
		default:
		}
		if resp, err := http.Get(ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready:\n%s", bin, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func startPrometheus(t *testing.T) (string, func(*testing.T, string) []point) {
	bin := integration.Tool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(cfg, []byte("storage:\n  tsdb:\n    out_of_order_time_window: 7d\n"), 0o644)
	addr := freeAddr(t)
	base := "http://" + addr
	run(t, base+"/-/ready", bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+addr, "--web.enable-remote-write-receiver", "--log.level=warn")
	read := func(t *testing.T, series string) []point {
		// A range selector returns the raw samples with their timestamps.
		v := url.Values{"query": {series + "[4d]"}}
		var answer struct {
			Data struct {
				Result []struct {
					Values [][2]json.RawMessage `json:"values"`
				} `json:"result"`
			} `json:"data"`
		}
		getJSON(t, base+"/api/v1/query?"+v.Encode(), &answer)
		var out []point
		for _, r := range answer.Data.Result {
			for _, s := range r.Values {
				var ts float64
				var val string
				json.Unmarshal(s[0], &ts)
				json.Unmarshal(s[1], &val)
				f, _ := strconv.ParseFloat(val, 64)
				out = append(out, point{time.UnixMilli(int64(ts * 1000)), f})
			}
		}
		return out
	}
	return base + "/api/v1/write", read
}

func startVictoriaMetrics(t *testing.T) (string, func(*testing.T, string) []point) {
	bin := integration.Tool(t, "victoria-metrics", "victoria-metrics")
	addr := freeAddr(t)
	base := "http://" + addr
	run(t, base+"/health", bin, "-storageDataPath="+t.TempDir(), "-httpListenAddr="+addr, "-retentionPeriod=1y",
		"-search.disableCache", "-loggerLevel=WARN")
	read := func(t *testing.T, series string) []point {
		// Freshly written samples are searchable after the next flush.
		http.Get(base + "/internal/force_flush")
		resp, err := http.Get(base + "/api/v1/export?" + url.Values{"match[]": {series}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out []point
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct {
				Values     []float64 `json:"values"`
				Timestamps []int64   `json:"timestamps"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("export line %q: %v", sc.Text(), err)
			}
			for i := range line.Values {
				out = append(out, point{time.UnixMilli(line.Timestamps[i]), line.Values[i]})
			}
		}
		return out
	}
	return base + "/api/v1/write", read
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b.String())
	}
	if err := json.Unmarshal(b.Bytes(), v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
