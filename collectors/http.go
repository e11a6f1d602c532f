package collectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/fx"
	"golang.org/x/time/rate"
)

// DefaultMaxResponseBytes bounds one response body unless HTTPOptions says
// otherwise. A provider answer larger than this is an error, not an
// out-of-memory kill.
const DefaultMaxResponseBytes = 256 << 20

// ErrTooLarge is returned (wrapped in *DecodeError) when reading a response
// body past HTTPOptions.MaxResponseBytes, or for a body whose
// Content-Length says it is larger: the error names the limit.
var ErrTooLarge = errors.New("response body too large")

// tooLargeError is ErrTooLarge with the limit passed.
type tooLargeError struct {
	limit, length int64 // length: the Content-Length announced, or -1
}

func (e *tooLargeError) Error() string {
	msg := fmt.Sprintf("%v: over the limit of %s", ErrTooLarge, formatBytes(e.limit))
	if e.length >= 0 {
		msg += fmt.Sprintf(" (Content-Length %s, refused before reading)", formatBytes(e.length))
	}
	return msg
}

func (e *tooLargeError) Is(target error) bool { return target == ErrTooLarge }

// formatBytes writes n in MiB, KiB or bytes, whichever is round.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// HTTPError is a non-2xx answer from a provider.
type HTTPError struct {
	Method     string
	URL        string // query string removed: it may carry a key
	StatusCode int
	// RetryAfter is the server's Retry-After, or 0.
	RetryAfter time.Duration
	// Body is the start of the response body, for the log.
	Body string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.URL, e.StatusCode)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// DecodeError is a response that could not be decoded: truncated, not the
// expected format, or of the wrong types.
type DecodeError struct {
	What string
	Err  error
}

func (e *DecodeError) Error() string { return "decode " + e.What + ": " + e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// ErrEmpty is returned (wrapped) by the Runner when a provider's answer held
// no prices at all; a price list does not become empty overnight, so this is
// treated as a failure rather than withdrawing every series.
var ErrEmpty = errors.New("provider returned no prices")

// Reason classifies an error for gpuprice_collector_errors_total{reason}.
func Reason(err error) string {
	var he *HTTPError
	var de *DecodeError
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrEmpty):
		return "empty"
	case errors.Is(err, fx.ErrStale), errors.Is(err, fx.ErrNoRate):
		return "fx"
	case errors.As(err, &de):
		return "decode"
	case errors.As(err, &he):
		switch {
		case he.StatusCode == http.StatusTooManyRequests:
			return "http_429"
		case he.StatusCode >= 500:
			return "http_5xx"
		default:
			return "http_4xx"
		}
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF):
		return "network"
	}
	return "other"
}

// RetryAfter returns the server-requested delay carried by err, or 0.
func RetryAfter(err error) time.Duration {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.RetryAfter
	}
	return 0
}

// HTTPOptions configures NewHTTPClient.
type HTTPOptions struct {
	// RateLimit is the maximum requests per second (burst 1).
	RateLimit float64
	// MaxRetries is how many times a transient failure (network error,
	// 429, 500, 502, 503, 504) is retried; 0 means the default of 3.
	MaxRetries int
	// MinBackoff bounds the wait before the first retry; each later retry
	// may wait twice as long, up to MaxBackoff (see backoff). A server's
	// Retry-After is honoured up to MaxBackoff. Defaults: 500ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// MaxResponseBytes bounds every response body read through the
	// client (default DefaultMaxResponseBytes).
	MaxResponseBytes int64
	// Base is the transport to wrap; nil means a fresh http.Transport with
	// short connect and header timeouts.
	Base http.RoundTripper
	// Sleep waits d before a retry, or until ctx is done (then returning
	// ctx's error); nil means a timer. Tests replace it to retry at once
	// while seeing the waits the client chose (a Retry-After honoured).
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewHTTPClient returns a client for one provider: rate-limited, retrying
// transient failures with exponential backoff and jitter, honouring
// Retry-After. Each request is bounded by its context (the Runner's
// per-refresh timeout); a Retry-After beyond the context's deadline is not
// waited for.
func NewHTTPClient(o HTTPOptions) *http.Client {
	if o.MaxRetries == 0 {
		o.MaxRetries = 3
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Base == nil {
		o.Base = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}
	}
	limit := rate.Inf
	if o.RateLimit > 0 {
		limit = rate.Limit(o.RateLimit)
	}
	return &http.Client{Transport: &retryTransport{opts: o, limiter: rate.NewLimiter(limit, 1)}}
}

type retryTransport struct {
	opts    HTTPOptions
	limiter *rate.Limiter
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		if err := t.limiter.Wait(ctx); err != nil {
			if ctx.Err() == nil {
				// The limiter refuses a wait that would pass the deadline.
				err = fmt.Errorf("%w: rate limit: %v", context.DeadlineExceeded, err)
			}
			return nil, err
		}
		r := req
		if attempt > 0 && req.Body != nil {
			if req.GetBody == nil {
				return nil, fmt.Errorf("%s %s: cannot retry a request without GetBody", req.Method, Redact(req.URL))
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		resp, err := t.opts.Base.RoundTrip(r)
		if attempt >= t.opts.MaxRetries || !retryable(ctx, resp, err) {
			if resp != nil {
				resp.Body = LimitBody(resp.Body, t.opts.MaxResponseBytes)
				if resp.ContentLength > t.opts.MaxResponseBytes {
					// Announced too large: refused before a byte is read.
					resp.Body.Close()
					resp.Body = failedBody{&tooLargeError{limit: t.opts.MaxResponseBytes, length: resp.ContentLength}}
				}
			}
			return resp, err
		}
		wait := backoff(attempt+1, t.opts.MinBackoff, t.opts.MaxBackoff)
		if resp != nil {
			if ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ra > 0 {
				if ra > t.opts.MaxBackoff {
					return resp, nil // the caller sees the 429/503 and its Retry-After
				}
				wait = max(wait, ra)
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, fmt.Errorf("%s %s: giving up, next retry in %s is past the refresh deadline: %w", req.Method, Redact(req.URL), wait.Round(time.Millisecond), retryCause(resp, err))
		}
		if err := t.opts.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// LimitBody returns rc limited to n bytes: reading past them fails with
// ErrTooLarge instead of truncating silently.
func LimitBody(rc io.ReadCloser, n int64) io.ReadCloser {
	return &limitedBody{rc: rc, left: n, limit: n}
}

type limitedBody struct {
	rc          io.ReadCloser
	left, limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe for one more byte: a body of exactly the limit is fine.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, &tooLargeError{limit: b.limit, length: -1}
		}
		return b.rc.Read(p)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// failedBody is a response body that fails every read with err.
type failedBody struct{ err error }

func (b failedBody) Read([]byte) (int, error) { return 0, b.err }
func (b failedBody) Close() error             { return nil }

// retryCause describes the failed attempt behind a give-up.
func retryCause(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	return &HTTPError{Method: resp.Request.Method, URL: Redact(resp.Request.URL), StatusCode: resp.StatusCode}
}

func retryable(ctx context.Context, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		return true
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// maxRetryAfter caps a server's Retry-After: beyond a day it only says
// "not now", and seconds beyond int64 nanoseconds would overflow.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads delay-seconds or an HTTP date, at most
// maxRetryAfter; 0 if absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 64); err == nil {
		return time.Duration(min(s, uint64(maxRetryAfter/time.Second))) * time.Second
	} else if errors.Is(err, strconv.ErrRange) {
		return maxRetryAfter // digits beyond uint64: still a very long wait
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// Redact is u without its query string, which may carry an API key, and
// without user info: what errors and logs may show of a request's URL.
func Redact(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	c.User = nil
	return c.String()
}

// GetJSON sends an anonymous GET of u with ctx and decodes the answer
// into v, as DoJSON does.
func GetJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	return DoJSON(client, req, v)
}

// NewJSONRequest returns a POST of v, encoded as JSON, to u with ctx: what
// DoJSON sends to an API queried by a JSON body.
func NewJSONRequest(ctx context.Context, u string, v any) (*http.Request, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// DoJSON sends req with client and decodes a 2xx JSON answer into v. Other
// statuses become *HTTPError (with Retry-After); undecodable bodies
// (truncated, wrong types, larger than the client's limit) become
// *DecodeError.
func DoJSON(client *http.Client, req *http.Request, v any) error {
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error prints the full URL; keep only the cause and a
			// redacted URL.
			return fmt.Errorf("%s %s: %w", req.Method, Redact(req.URL), ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	if err := CheckResponse(resp); err != nil {
		return err
	}
	if err := DecodeJSON(resp.Body, v); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return &DecodeError{What: Redact(req.URL), Err: err}
	}
	return nil
}

// CheckResponse returns an *HTTPError for a non-2xx response, reading (and
// not closing) up to 512 bytes of its body.
func CheckResponse(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return &HTTPError{
		Method:     resp.Request.Method,
		URL:        Redact(resp.Request.URL),
		StatusCode: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		Body:       strings.TrimSpace(string(snippet)),
	}
}
