package collectors

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxErrorLen bounds the text of an error that leaves a collector: a
// provider's error page, a decoder's quote of a huge line.
const MaxErrorLen = 1024

// minSecretLen is the shortest secret value scrubbed verbatim: a shorter
// one would blank out ordinary words. Real keys are far longer; the
// patterns below still catch a short key after api_key= or Bearer.
const minSecretLen = 4

// Redacted replaces a secret in scrubbed text.
const Redacted = "<redacted>"

// Scrubber removes credentials from every text that leaves a collector —
// refresh errors (logs, /api/v1/providers last_error, the web UI, the
// store's poll log, `gpuprice collect`) and the collector's own log lines
// — because upstream errors echo what they were sent: Runpod repeats
// ?api_key= in some errors, proxies repeat headers. It removes every
// configured secret (verbatim and URL-escaped) and the values of
// api_key=, key=, token= and the like, Authorization and API-key headers,
// and Bearer tokens, and truncates errors to MaxErrorLen. A nil *Scrubber
// still applies the patterns and the truncation. It is safe for
// concurrent use.
type Scrubber struct {
	secrets []string // longest first, so that no secret is cut by a shorter one inside it
}

// NewScrubber returns a Scrubber of the given secret values
// (config.Config.Secrets).
func NewScrubber(secrets []string) *Scrubber {
	s := &Scrubber{}
	for _, v := range secrets {
		if len(v) < minSecretLen {
			continue
		}
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			if !slices.Contains(s.secrets, form) {
				s.secrets = append(s.secrets, form)
			}
		}
	}
	slices.SortFunc(s.secrets, func(a, b string) int { return len(b) - len(a) })
	return s
}

var credentialPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	// key=value in URLs, forms and DSNs: api_key=..., key=..., token=...
	{regexp.MustCompile(`(?i)\b((?:api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|secret[_-]?access[_-]?key|access[_-]?token|refresh[_-]?token|id[_-]?token|token|key|secret|client[_-]?secret|password|passwd|pwd|signature|sig|credential|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-api-key)=)[^&\s"'<>;,)]+`), "${1}" + Redacted},
	// Headers, also quoted in JSON: Authorization: Bearer ..., X-Api-Key: ...
	{regexp.MustCompile(`(?i)\b((?:proxy-)?authorization|x-api-key|api-key|x-goog-api-key|x-amz-security-token|cookie|set-cookie)("?\s*[:=]\s*"?)((?:bearer|basic|token|digest|aws4-hmac-sha256)\s+)?[^\s",;}]+`), "${1}${2}${3}" + Redacted},
	// JSON fields: "api_key": "...", "token": "..."
	{regexp.MustCompile(`(?i)("(?:api[_-]?key|apikey|access[_-]?token|token|secret|client[_-]?secret|password)"\s*:\s*")[^"]*"`), "${1}" + Redacted + `"`},
	// A bearer token anywhere else.
	{regexp.MustCompile(`(?i)\b(bearer)\s+[a-z0-9._~+/=-]{6,}`), "${1} " + Redacted},
}

// Scrub returns text without the configured secrets and credential
// values. It does not truncate.
func (s *Scrubber) Scrub(text string) string {
	if s != nil {
		for _, v := range s.secrets {
			text = strings.ReplaceAll(text, v, Redacted)
		}
	}
	for _, p := range credentialPatterns {
		text = p.re.ReplaceAllString(text, p.repl)
	}
	return text
}

// Error returns err with a scrubbed and truncated text; errors.Is and
// errors.As still see err (its kind decides the refresh's reason), but
// its text is never printed unscrubbed. nil stays nil.
func (s *Scrubber) Error(err error) error {
	if err == nil {
		return nil
	}
	return &scrubbedError{msg: truncate(s.Scrub(err.Error()), MaxErrorLen), err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// truncate cuts text to at most max bytes, on a rune boundary, saying how
// much was cut.
func truncate(text string, max int) string {
	if len(text) <= max {
		return text
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", text[:cut], len(text)-cut)
}

// Handler returns a slog.Handler that scrubs every message and string or
// error attribute before passing the record to h, truncating errors to
// MaxErrorLen: a collector's own log lines leave it scrubbed too.
func (s *Scrubber) Handler(h slog.Handler) slog.Handler { return &scrubHandler{s: s, h: h} }

type scrubHandler struct {
	s *Scrubber
	h slog.Handler
}

func (sh *scrubHandler) Enabled(ctx context.Context, l slog.Level) bool { return sh.h.Enabled(ctx, l) }

func (sh *scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, sh.s.Scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(sh.attr(a))
		return true
	})
	return sh.h.Handle(ctx, out)
}

func (sh *scrubHandler) WithAttrs(as []slog.Attr) slog.Handler {
	scrubbed := make([]slog.Attr, len(as))
	for i, a := range as {
		scrubbed[i] = sh.attr(a)
	}
	return &scrubHandler{s: sh.s, h: sh.h.WithAttrs(scrubbed)}
}

func (sh *scrubHandler) WithGroup(name string) slog.Handler {
	return &scrubHandler{s: sh.s, h: sh.h.WithGroup(name)}
}

func (sh *scrubHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, sh.s.Scrub(v.String()))
	case slog.KindGroup:
		group := v.Group()
		out := make([]slog.Attr, len(group))
		for i, g := range group {
			out[i] = sh.attr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.Any(a.Key, sh.s.Error(x))
		case fmt.Stringer:
			return slog.String(a.Key, sh.s.Scrub(x.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
