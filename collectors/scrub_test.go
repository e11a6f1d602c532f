package collectors

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

const canary = "CANARY-s3cr3t/key+42"

func TestScrub(t *testing.T) {
	s := NewScrubber([]string{canary, "abc"}) // "abc" is too short to scrub verbatim
	tests := []struct{ name, in, want string }{
		{"configured secret", "upstream said: bad key " + canary + " for you", "upstream said: bad key <redacted> for you"},
		{"URL-escaped secret", "GET /graphql?q=1&k=CANARY-s3cr3t%2Fkey%2B42", "GET /graphql?q=1&k=<redacted>"},
		{"api_key in a URL", "POST https://api.runpod.io/graphql?api_key=rp_ABCDEF123&x=1: HTTP 401", "POST https://api.runpod.io/graphql?api_key=<redacted>&x=1: HTTP 401"},
		{"key and token", "key=AIzaSyXYZ token=t0k3n access_token=ya29.abc", "key=<redacted> token=<redacted> access_token=<redacted>"},
		{"authorization header", "request headers: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x; Accept: */*", "request headers: Authorization: Bearer <redacted>; Accept: */*"},
		{"basic auth header", "authorization=Basic dXNlcjpwYXNz", "authorization=Basic <redacted>"},
		{"API key header", "X-Api-Key: k-123456", "X-Api-Key: <redacted>"},
		{"JSON echo", `{"error":"denied","request":{"headers":{"Authorization":"Bearer zzzzzzzz"},"api_key":"vast-key-1"}}`,
			`{"error":"denied","request":{"headers":{"Authorization":"Bearer <redacted>"},"api_key":"<redacted>"}}`},
		{"bearer alone", "token rejected: bearer abcdef123456", "token rejected: bearer <redacted>"},
		{"DSN password", "connect postgres://gp:pa55word@db:5432/gp?sslmode=disable password=pa55word", "connect postgres://gp:pa55word@db:5432/gp?sslmode=disable password=<redacted>"},
		{"short secret left", "abc is fine", "abc is fine"},
		{"words that look like keys", "monkey=1 sort_key=2 keys: 3", "monkey=1 sort_key=2 keys: 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Scrub(tt.in); got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
	if got := NewScrubber([]string{"pa55word"}).Scrub("postgres://gp:pa55word@db/gp"); got != "postgres://gp:<redacted>@db/gp" {
		t.Errorf("DSN with its password configured: %s", got)
	}
	var nilScrubber *Scrubber
	if got := nilScrubber.Scrub("?api_key=x1"); got != "?api_key=<redacted>" {
		t.Errorf("nil scrubber: %s", got)
	}
}

func TestScrubError(t *testing.T) {
	s := NewScrubber([]string{canary})
	he := &HTTPError{Method: "GET", URL: "https://x/api", StatusCode: 401, Body: "bad key " + canary}
	err := s.Error(fmt.Errorf("list offers: %w", he))
	if strings.Contains(err.Error(), canary) || !strings.Contains(err.Error(), "bad key <redacted>") {
		t.Errorf("error text %q", err)
	}
	var got *HTTPError
	if !errors.As(err, &got) || Reason(err) != "http_4xx" {
		t.Errorf("the scrubbed error lost its kind: %v", Reason(err))
	}
	long := s.Error(errors.New(strings.Repeat("é", 2000)))
	if n := len(long.Error()); n > MaxErrorLen+40 || !strings.HasSuffix(long.Error(), "… (2976 more bytes)") {
		t.Errorf("truncated to %d bytes: %q", n, long.Error()[len(long.Error())-30:])
	}
	if s.Error(nil) != nil {
		t.Error("nil error scrubbed to non-nil")
	}
}

func TestScrubHandler(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(NewScrubber([]string{canary}).Handler(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &sync.Mutex{}}, nil)))
	logger = logger.With("url", "https://x/?api_key="+canary)
	logger.Warn("provider said "+canary, "err", errors.New("echo: Authorization: Bearer "+canary), "body", canary,
		slog.Group("req", "q", "token="+canary))
	out := buf.String()
	if strings.Contains(out, canary) || strings.Contains(out, "s3cr3t") || strings.Count(out, "<redacted>") != 5 {
		t.Errorf("logged: %s", out)
	}
}
