package collectors

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// FuzzDecodeJSON: DecodeJSON never panics, and wherever json.Decoder
// decodes an answer (the decoder before streaming), DecodeJSON decodes it
// too, to the same rows, bad-row counts and fields.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"Items": [{"name": "a", "price": 1}, {"name": "b", "price": "2"}], "NextPageLink": "n", "data": {"gpuTypes": [{"name": "g"}]}}`,
		`{"items": null, "DATA": null, "x": [1, {"y": [true, null]}]}`,
		`{"Items": {"a": 1}}`, `[{"name": "a"}]`, `{"Items": [{"name": "a"},`, `{"Items": [7, null, "s", [], {}]}`,
		`{"Items": [{"name": "a"}], "Items": [], "Count": "1"}`, `{"data": {"gpuTypes": [{"price": 1e400}]}, "data": {}}`,
	} {
		f.Add([]byte(s))
	}
	type row struct {
		Name  string  `json:"name"`
		Price float64 `json:"price"`
	}
	type page struct {
		Items Rows[row] `json:"Items"`
		Next  string    `json:"NextPageLink"`
		Count int
		Data  *struct {
			Types Rows[row] `json:"gpuTypes"`
		} `json:"data"`
	}
	show := func(p *page) string {
		s := fmt.Sprintf("%+v %d %v %q %d", p.Items.Items, p.Items.Bad, p.Items.Set, p.Next, p.Count)
		if p.Data != nil {
			s += fmt.Sprintf(" data %+v %d %v", p.Data.Types.Items, p.Data.Types.Bad, p.Data.Types.Set)
		}
		return s
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var streamed, whole page
		errS := DecodeJSON(bytes.NewReader(b), &streamed)
		if errW := json.NewDecoder(bytes.NewReader(b)).Decode(&whole); errW != nil {
			return
		}
		if errS != nil {
			t.Fatalf("DecodeJSON: %v; json.Decoder decodes %s", errS, show(&whole))
		}
		if s, w := show(&streamed), show(&whole); s != w {
			t.Fatalf("DecodeJSON %s\njson.Decoder %s", s, w)
		}
	})
}
