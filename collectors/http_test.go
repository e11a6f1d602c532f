package collectors

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// scripted serves the given statuses in order, then 200 {"ok":true}.
func scripted(t *testing.T, statuses []int, retryAfter string) (*httptest.Server, *atomic.Int32, *[]string) {
	var n atomic.Int32
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(statuses[i])
			io.WriteString(w, "try later")
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n, &bodies
}

func fastClient() *http.Client {
	return NewHTTPClient(HTTPOptions{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond})
}

func TestRetryTransientThenSucceed(t *testing.T) {
	srv, n, bodies := scripted(t, []int{503, 429, 502}, "")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/x?api_key=secret", strings.NewReader(`{"q":1}`))
	var v struct{ OK bool }
	if err := DoJSON(fastClient(), req, &v); err != nil || !v.OK {
		t.Fatalf("DoJSON = %v, %+v", err, v)
	}
	if n.Load() != 4 {
		t.Errorf("%d requests, want 4", n.Load())
	}
	for i, b := range *bodies {
		if b != `{"q":1}` {
			t.Errorf("attempt %d sent body %q: the body must be resent on retry", i, b)
		}
	}
}

func TestRetriesExhaustedReturnHTTPError(t *testing.T) {
	srv, n, _ := scripted(t, []int{503, 503, 503, 503, 503}, "")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/x?api_key=secret", nil)
	err := DoJSON(fastClient(), req, new(any))
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 503 {
		t.Fatalf("err = %v, want HTTP 503", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the query string: %v", err)
	}
	if n.Load() != 4 {
		t.Errorf("%d requests, want 1 + 3 retries", n.Load())
	}
}

func TestNoRetryOnClientError(t *testing.T) {
	srv, n, _ := scripted(t, []int{404}, "")
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err := DoJSON(fastClient(), req, new(any)); Reason(err) != "http_4xx" {
		t.Fatalf("err = %v, want http_4xx", err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	srv, _, _ := scripted(t, []int{429}, "1")
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	var waits []time.Duration
	c := NewHTTPClient(HTTPOptions{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Second,
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }})
	if err := DoJSON(c, req, new(any)); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 1 || waits[0] < time.Second {
		t.Errorf("waits %v, want one retry after >= the server's Retry-After of 1s", waits)
	}
}

func TestRetryAfterBeyondMaxIsReturned(t *testing.T) {
	srv, n, _ := scripted(t, []int{429}, "3600")
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	err := DoJSON(fastClient(), req, new(any))
	if RetryAfter(err) != time.Hour || Reason(err) != "http_429" {
		t.Fatalf("err = %v (retry after %v), want a 429 carrying 1h", err, RetryAfter(err))
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1: an hour's Retry-After is left to the Runner", n.Load())
	}
}

func TestRetryPastDeadlineGivesUp(t *testing.T) {
	srv, _, _ := scripted(t, []int{503, 503}, "2")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	c := NewHTTPClient(HTTPOptions{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Second})
	start := time.Now()
	err := DoJSON(c, req, new(any))
	if err == nil || time.Since(start) > 400*time.Millisecond {
		t.Fatalf("err = %v after %v, want an immediate give-up", err, time.Since(start))
	}
	if Reason(err) != "http_5xx" {
		t.Errorf("reason %q, want http_5xx (the cause of the give-up)", Reason(err))
	}
}

func TestRateLimit(t *testing.T) {
	srv, _, _ := scripted(t, nil, "")
	c := NewHTTPClient(HTTPOptions{RateLimit: 20})
	start := time.Now()
	for range 5 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if err := DoJSON(c, req, new(any)); err != nil {
			t.Fatal(err)
		}
	}
	// 5 requests at 20/s with burst 1: at least 4 gaps of 50ms.
	if d := time.Since(start); d < 190*time.Millisecond {
		t.Errorf("5 requests took %v, want >= 200ms at 20 req/s", d)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		limit      int64
		length     bool   // send a Content-Length
		want       string // part of the message
	}{
		{"truncated", `{"Items":[{"a":1},`, 0, false, "unexpected EOF"},
		{"empty body", ``, 0, false, "unexpected EOF"},
		{"wrong types", `{"n":"seven"}`, 0, false, "cannot unmarshal"},
		{"not json", `<html>maintenance</html>`, 0, false, "invalid character"},
		{"too large", `{"pad":"` + strings.Repeat("x", 4096) + `"}`, 1024, false, "response body too large: over the limit of 1 KiB"},
		{"too large, announced", `{"pad":"` + strings.Repeat("x", 4096) + `"}`, 1024, true,
			"response body too large: over the limit of 1 KiB (Content-Length 4106 bytes, refused before reading)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.length {
					w.Header().Set("Content-Length", strconv.Itoa(len(tc.body)))
				}
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := NewHTTPClient(HTTPOptions{MaxResponseBytes: tc.limit})
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			var v struct{ N int }
			err := DoJSON(c, req, &v)
			if Reason(err) != "decode" || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a decode error saying %q", err, tc.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Fri, 27 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Fri, 27 Nov 2026 11:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"429", &HTTPError{StatusCode: http.StatusTooManyRequests}, "http_429"},
		{"503 wrapped", errors.Join(errors.New("region x"), &HTTPError{StatusCode: 503}), "http_5xx"},
		{"403", &HTTPError{StatusCode: 403}, "http_4xx"},
		{"decode", &DecodeError{What: "x", Err: errors.New("bad")}, "decode"},
		{"deadline", context.DeadlineExceeded, "timeout"},
		{"empty", ErrEmpty, "empty"},
		{"other", errors.New("x"), "other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Reason(tc.err); got != tc.want {
				t.Errorf("Reason = %q, want %q", got, tc.want)
			}
		})
	}
}
