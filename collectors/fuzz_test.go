package collectors

import (
	"net/http"
	"testing"
	"time"
)

// FuzzRetryAfter: any Retry-After header value gives a wait between 0 and
// maxRetryAfter, never a negative or overflowed one.
func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, s := range []string{"", "0", "1", "120", " 30 ", "-1", "9223372036854775807", "99999999999", "1.5",
		now.Add(time.Minute).Format(http.TimeFormat), "Fri, 31 Dec 1999 23:59:59 GMT", "Mon, 02 Jan 2006 15:04:05 MST", "soon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := parseRetryAfter(v, now)
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %s", v, d)
		}
	})
}
