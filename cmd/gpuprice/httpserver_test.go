package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveLimited serves h through newHTTPServer with lim on a loopback port
// until the test ends; logs go to the returned buffer.
func serveLimited(t *testing.T, h http.Handler, lim httpLimits) (addr string, logs *syncBuffer) {
	t.Helper()
	logs = &syncBuffer{}
	srv := newHTTPServer(h, slog.New(slog.NewTextHandler(logs, nil)), lim)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), logs
}

var testLimits = httpLimits{ReadHeader: 200 * time.Millisecond, Read: 500 * time.Millisecond, Write: 300 * time.Millisecond,
	Idle: 500 * time.Millisecond, MaxHeaderBytes: 4 << 10, MaxBodyBytes: 1 << 10}

// TestSlowClients: a client that never reads its answer, or that sends its
// headers a byte at a time, does not hold a goroutine beyond the limits.
func TestSlowClients(t *testing.T) {
	t.Run("never reads the answer", func(t *testing.T) {
		done := make(chan error, 1)
		addr, _ := serveLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			chunk := make([]byte, 1<<20)
			for i := 0; i < 1024; i++ { // 1 GB: far beyond any socket buffer
				if _, err := w.Write(chunk); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}), testLimits)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
		select {
		case err := <-done:
			if err == nil {
				t.Error("the whole answer was written to a client that reads nothing")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the handler still writes 5s after the write timeout")
		}
	})
	t.Run("slowloris", func(t *testing.T) {
		addr, _ := serveLimited(t, http.NotFoundHandler(), testLimits)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		_, err = io.ReadAll(c) // the server closes the connection
		if err != nil || time.Since(start) > 3*time.Second {
			t.Errorf("half-sent headers: connection held %s (%v)", time.Since(start), err)
		}
	})
}

// TestRequestBodyLimit: a POST body beyond the limit is refused (413 when
// declared) or cut where the handler reads it.
func TestRequestBodyLimit(t *testing.T) {
	var readErr error
	addr, _ := serveLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
	}), testLimits)
	resp, err := http.Post("http://"+addr+"/-/reload", "text/plain", strings.NewReader(strings.Repeat("x", 2<<10)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || string(body) != `{"error":"request body too large: at most 1 KiB"}`+"\n" {
		t.Errorf("declared 2 KiB body: %d %s", resp.StatusCode, body)
	}
	// Chunked: no length to refuse up front.
	pr, pw := io.Pipe()
	go func() { pw.Write([]byte(strings.Repeat("x", 2<<10))); pw.Close() }()
	resp, err = http.Post("http://"+addr+"/-/reload", "text/plain", pr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var mbe *http.MaxBytesError
	if !errors.As(readErr, &mbe) {
		t.Errorf("chunked 2 KiB body read as %v, want an http.MaxBytesError", readErr)
	}
}

// TestServerErrorsLogged: what net/http itself reports (here a handler's
// panic) goes to the structured logger.
func TestServerErrorsLogged(t *testing.T) {
	addr, logs := serveLimited(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), testLimits)
	if resp, err := http.Get("http://" + addr + "/"); err == nil {
		resp.Body.Close()
	}
	waitFor(t, "the panic logged", func() bool { return strings.Contains(logs.String(), "boom") })
	line, _, _ := strings.Cut(logs.String()[strings.Index(logs.String(), "level="):], "\n")
	if !strings.HasPrefix(line, "level=ERROR msg=\"http: panic serving") || !strings.Contains(line, "component=http") {
		t.Errorf("logged as %q", line)
	}
}

// TestDaemonHTTPLimits: the daemon's server has every bound and the
// structured error log.
func TestDaemonHTTPLimits(t *testing.T) {
	s, err := newService(context.Background(), slog.New(slog.DiscardHandler), noProviders, options(freeAddr(t), filepath.Join(t.TempDir(), "store")))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	srv := s.srv
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 || srv.ErrorLog == nil {
		t.Errorf("server limits: header %s, read %s, write %s, idle %s, %d header bytes, error log %v",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes, srv.ErrorLog)
	}
	// A 1 MiB reload body is refused before the reload runs.
	addr := freeAddr(t)
	o := options(addr, filepath.Join(t.TempDir(), "store"))
	startNoProviders(t, addr, o)
	resp, err := http.Post("http://"+addr+"/-/reload", "text/plain", strings.NewReader(strings.Repeat("x", 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("POST /-/reload with 1 MiB: %d, want 413", resp.StatusCode)
	}
}
