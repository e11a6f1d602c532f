package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
)

// clientTimeout bounds a test request: far above a request's time, so
// that only a hung server fails it, even on a loaded 2-core machine where
// a TLS handshake under the race detector took seconds.
const clientTimeout = 30 * time.Second

// webFixture is a TLS certificate and a bcrypt password hash for
// --web.config.file, written once per test.
type webFixture struct {
	dir      string
	certFile string
	keyFile  string
	pool     *x509.CertPool
	hash     string // bcrypt of "s3cret"
}

func newWebFixture(t *testing.T) *webFixture {
	t.Helper()
	f := &webFixture{dir: t.TempDir()}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gpuprice test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	f.pool = x509.NewCertPool()
	f.pool.AddCert(cert)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	f.certFile, f.keyFile = filepath.Join(f.dir, "cert.pem"), filepath.Join(f.dir, "key.pem")
	if err := os.WriteFile(f.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	f.hash = string(hash)
	return f
}

// webConfig writes an exporter-toolkit web configuration.
func (f *webFixture) webConfig(t *testing.T, tls, auth bool) string {
	t.Helper()
	var b strings.Builder
	if tls {
		fmt.Fprintf(&b, "tls_server_config:\n  cert_file: %s\n  key_file: %s\n", f.certFile, f.keyFile)
	}
	if auth {
		fmt.Fprintf(&b, "basic_auth_users:\n  alice: %s\n", f.hash)
	}
	path := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// noProviders is the built-in configuration with every provider disabled:
// these tests are about the HTTP layer, not prices.
func noProviders() (*config.Config, error) {
	cfg := config.Builtin()
	cfg.Providers.Each(func(_ string, s config.Section) { s.Shared().Enabled = false })
	return cfg, nil
}

// startWeb runs the daemon in-process with a web config file (may be
// empty) and returns its address.
func startWeb(t *testing.T, webConfig string, disableRuntime bool) string {
	t.Helper()
	addr := freeAddr(t)
	opts := options(addr, filepath.Join(t.TempDir(), "store"))
	*opts.web.WebConfigFile = webConfig
	*opts.disableRuntime = disableRuntime
	startNoProviders(t, addr, opts)
	return addr
}

// startNoProviders runs the daemon in-process on noProviders with opts,
// listening on addr, until the test ends.
func startNoProviders(t *testing.T, addr string, opts daemonOptions) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDaemon(ctx, slog.New(slog.DiscardHandler), noProviders, opts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("daemon did not stop within 15s")
		}
	})
	// Up once it answers at all, whatever the status.
	waitFor(t, "listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// request is one HTTP request of the web config tests.
type request struct {
	name   string
	method string
	scheme string // http or https
	user   string // basic auth user ("": none)
	pass   string
	want   int // status; 0: the request must fail (no HTTP answer)
}

func do(t *testing.T, client *http.Client, addr, path string, r request) (int, string, http.Header, error) {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, r.scheme+"://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, r.pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header, nil
}

// TestWebConfig: --web.config.file puts TLS and basic auth in front of
// every route — metrics, API, landing page, health and reload.
func TestWebConfig(t *testing.T) {
	t.Parallel()
	f := newWebFixture(t)
	httpsClient := &http.Client{Timeout: clientTimeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.pool}}}
	untrusting := &http.Client{Timeout: clientTimeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}
	plain := &http.Client{Timeout: clientTimeout}
	paths := []string{"/metrics", "/api/v1/prices", "/api/v1/providers", "/", "/-/healthy"}

	cases := []struct {
		name     string
		tls      bool
		auth     bool
		requests []request
	}{
		{"basic auth", false, true, []request{
			{name: "no credentials", scheme: "http", want: 401},
			{name: "wrong password", scheme: "http", user: "alice", pass: "secret", want: 401},
			{name: "unknown user", scheme: "http", user: "bob", pass: "s3cret", want: 401},
			{name: "right credentials", scheme: "http", user: "alice", pass: "s3cret", want: 200},
		}},
		{"tls", true, false, []request{
			{name: "https", scheme: "https", want: 200},
			{name: "plain http", scheme: "http", want: 400},
		}},
		{"tls and basic auth", true, true, []request{
			{name: "https without credentials", scheme: "https", want: 401},
			{name: "https with credentials", scheme: "https", user: "alice", pass: "s3cret", want: 200},
			{name: "plain http with credentials", scheme: "http", user: "alice", pass: "s3cret", want: 400},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := startWeb(t, f.webConfig(t, c.tls, c.auth), false)
			for _, r := range c.requests {
				client := plain
				if r.scheme == "https" {
					client = httpsClient
				}
				for _, path := range paths {
					code, body, header, err := do(t, client, addr, path, r)
					if err != nil || code != r.want {
						t.Errorf("%s GET %s: %d %v %.100q, want %d", r.name, path, code, err, body, r.want)
					}
					if code == 401 && !strings.HasPrefix(header.Get("WWW-Authenticate"), "Basic") {
						t.Errorf("%s GET %s: 401 without a Basic challenge", r.name, path)
					}
				}
				// Reload changes state: it must be guarded too.
				post := r
				post.method = http.MethodPost
				if code, _, _, _ := do(t, client, addr, "/-/reload", post); r.want == 401 && code != 401 {
					t.Errorf("%s POST /-/reload: %d, want 401", r.name, code)
				}
			}
			if c.tls {
				if _, _, _, err := do(t, untrusting, addr, "/metrics", request{scheme: "https", user: "alice", pass: "s3cret"}); err == nil || !strings.Contains(err.Error(), "certificate") {
					t.Errorf("https with an unknown certificate: err = %v, want a certificate error", err)
				}
			}
		})
	}
}

// TestDisableExporterMetrics: go_* and process_* are on /metrics unless
// --web.disable-exporter-metrics; gpuprice's own metrics stay.
func TestDisableExporterMetrics(t *testing.T) {
	t.Parallel()
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("disabled=%v", disable), func(t *testing.T) {
			addr := startWeb(t, "", disable)
			code, body, _, err := do(t, &http.Client{Timeout: clientTimeout}, addr, "/metrics", request{scheme: "http"})
			if err != nil || code != 200 {
				t.Fatalf("/metrics: %d %v", code, err)
			}
			for _, family := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_start_time_seconds"} {
				if got := strings.Contains(body, "\n"+family+" "); got == disable {
					t.Errorf("%s on /metrics: %v, want %v", family, got, !disable)
				}
			}
			if !strings.Contains(body, "gpuprice_build_info{") || !strings.Contains(body, "gpuprice_config_last_reload_successful 1") {
				t.Error("gpuprice's own metrics missing")
			}
		})
	}
}

// TestWebFlags runs the real binary with --web.config.file and
// --web.disable-exporter-metrics, to check that the flags are wired.
func TestWebFlags(t *testing.T) {
	t.Parallel()
	f := newWebFixture(t)
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("providers:\n")
	for _, name := range collectors.Registered() {
		fmt.Fprintf(&cfg, "  %s:\n    enabled: false\n", name)
	}
	cfgFile := filepath.Join(dir, "gpuprice.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "serve", "--config.file="+cfgFile, "--storage.path="+filepath.Join(dir, "store"),
		"--web.listen-address="+addr, "--web.config.file="+f.webConfig(t, true, true), "--web.disable-exporter-metrics")
	cmd.Env = append(os.Environ(), "GPUPRICE_TEST_MAIN=1")
	var logs syncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	client := &http.Client{Timeout: clientTimeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.pool}}}
	var code int
	var body string
	waitFor(t, "HTTPS answers", func() bool {
		var err error
		code, body, _, err = do(t, client, addr, "/metrics", request{scheme: "https", user: "alice", pass: "s3cret"})
		return err == nil
	})
	if code != 200 || strings.Contains(body, "go_goroutines") || !strings.Contains(body, "gpuprice_build_info") {
		t.Errorf("/metrics over HTTPS with credentials: %d, go_goroutines present: %v", code, strings.Contains(body, "go_goroutines"))
	}
	if code, _, _, err := do(t, client, addr, "/metrics", request{scheme: "https"}); err != nil || code != 401 {
		t.Errorf("/metrics without credentials: %d %v, want 401", code, err)
	}
}
