package collectors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestRows(t *testing.T) {
	type row struct {
		Name  string  `json:"name"`
		Price float64 `json:"price"`
	}
	type doc struct {
		Rows Rows[row] `json:"rows"`
	}
	for _, tc := range []struct {
		name           string
		json           string
		wantNames      string
		wantBad        int
		wantSet        bool
		wantAllBad     bool
		wantErr        string // of json.Unmarshal
		wantRowErrPart string // of Rows.Err
	}{
		{name: "every row good", json: `{"rows": [{"name": "a", "price": 1}, {"name": "b", "price": 2}]}`, wantNames: "a b", wantSet: true},
		{name: "one bad row", json: `{"rows": [{"name": "a", "price": 1}, {"name": "b", "price": "2"}, {"name": "c", "price": 3}]}`,
			wantNames: "a c", wantBad: 1, wantSet: true, wantRowErrPart: "cannot unmarshal string"},
		{name: "a row that is not an object", json: `{"rows": [{"name": "a", "price": 1}, 7, null]}`, wantNames: "a ", wantBad: 1, wantSet: true},
		{name: "every row bad", json: `{"rows": [{"price": "1"}, {"name": 2}]}`, wantBad: 2, wantSet: true, wantAllBad: true},
		{name: "empty", json: `{"rows": []}`, wantSet: true},
		{name: "null", json: `{"rows": null}`},
		{name: "missing", json: `{}`},
		{name: "an object, not a list", json: `{"rows": {"a": {"name": "a"}}}`, wantErr: "cannot unmarshal object"},
	} {
		for _, way := range []string{"json.Unmarshal", "DecodeJSON", "DecodeJSON with Each"} {
			t.Run(tc.name+"/"+way, func(t *testing.T) {
				var d doc
				var each []row
				var err error
				switch way {
				case "json.Unmarshal":
					err = json.Unmarshal([]byte(tc.json), &d)
				case "DecodeJSON":
					err = DecodeJSON(strings.NewReader(tc.json), &d)
				default:
					d.Rows.Each = func(r *row) { each = append(each, *r) }
					err = DecodeJSON(strings.NewReader(tc.json), &d)
					if d.Rows.Items != nil {
						t.Errorf("Items %v kept with Each", d.Rows.Items)
					}
					d.Rows.Items = each
				}
				if tc.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("err %v, want %q", err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, r := range d.Rows.Items {
					names = append(names, r.Name)
				}
				r := &d.Rows
				if got := strings.Join(names, " "); got != tc.wantNames || r.Bad != tc.wantBad || r.Set != tc.wantSet || r.AllBad() != tc.wantAllBad {
					t.Errorf("rows %q, bad %d, set %v, all bad %v; want %q, %d, %v, %v", got, r.Bad, r.Set, r.AllBad(), tc.wantNames, tc.wantBad, tc.wantSet, tc.wantAllBad)
				}
				if (r.Bad > 0) != (r.Err != nil) || (tc.wantRowErrPart != "" && !strings.Contains(r.Err.Error(), tc.wantRowErrPart)) {
					t.Errorf("row error %v with %d bad rows, want one containing %q", r.Err, r.Bad, tc.wantRowErrPart)
				}
				if r.Good != len(r.Items) {
					t.Errorf("Good %d, %d rows", r.Good, len(r.Items))
				}
			})
		}
	}
}

// TestDecodeJSON checks that DecodeJSON decodes what json.Decoder.Decode
// does, the answer's shapes of every collector included, and fails where
// it fails.
func TestDecodeJSON(t *testing.T) {
	type row struct {
		Name  string  `json:"name"`
		Price float64 `json:"price"`
	}
	type page struct {
		Items Rows[row] `json:"Items"`
		Next  string    `json:"NextPageLink"`
		Count int
		Links struct {
			Pages struct {
				Next string `json:"next"`
			} `json:"pages"`
		} `json:"links"`
		Data *struct {
			Types Rows[row] `json:"gpuTypes"`
		} `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
		skipped string
	}
	for _, tc := range []struct {
		name, json string
		wantErr    string // "": none, and the same answer as json.Decoder.Decode
	}{
		{name: "every field", json: `{"Items": [{"name": "a", "price": 1}], "NextPageLink": "n", "Count": 1,
			"links": {"pages": {"next": "p"}}, "data": {"gpuTypes": [{"name": "g"}]}, "errors": [{"message": "m"}]}`},
		{name: "keys in another case", json: `{"items": [{"NAME": "a"}], "nextpagelink": "n", "count": 2, "DATA": {"GPUTYPES": []}}`},
		{name: "unknown fields skipped", json: `{"BillingCurrency": "USD", "x": {"a": [1, {"b": [[], {}]}], "c": null}, "Items": [{"name": "a", "extra": [1, 2]}], "y": [true, "s"]}`},
		{name: "nulls", json: `{"Items": null, "NextPageLink": null, "links": null, "data": null, "errors": null}`},
		{name: "data null after data", json: `{"data": {"gpuTypes": [{"name": "g"}]}, "data": null}`},
		{name: "last of two keys wins", json: `{"Items": [{"name": "a"}], "Items": [{"name": "b"}], "Count": 1, "Count": 2}`},
		{name: "trailing data ignored", json: `{"Count": 1} {"Count": 2}`},
		{name: "a field of the wrong type", json: `{"Count": "1", "Items": [{"name": "a"}]}`, wantErr: "cannot unmarshal string into Go struct field"},
		{name: "an object of the wrong type", json: `{"links": [1, 2], "Items": [{"name": "a"}]}`, wantErr: "cannot unmarshal array"},
		{name: "rows of the wrong type", json: `{"Items": {"a": {"name": "a"}}}`, wantErr: "cannot unmarshal object"},
		{name: "not an object", json: `[1, 2]`, wantErr: "cannot unmarshal array"},
		{name: "truncated in a row", json: `{"Items": [{"name": "a"}, {"name": "b`, wantErr: "unexpected EOF"},
		{name: "truncated between rows", json: `{"Items": [{"name": "a"},`, wantErr: "EOF"},
		{name: "truncated in an unknown field", json: `{"x": [1, 2`, wantErr: "EOF"},
		{name: "a syntax error in a row", json: `{"Items": [{"name": "a"}, {"name" "b"}]}`, wantErr: "invalid character"},
		{name: "empty", json: ``, wantErr: "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got page
			err := DecodeJSON(strings.NewReader(tc.json), &got)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want page
			if err := json.NewDecoder(strings.NewReader(tc.json)).Decode(&want); err != nil {
				t.Fatal(err)
			}
			if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); !equalPages(got.Items, want.Items) || got.Next != want.Next ||
				got.Count != want.Count || got.Links != want.Links || (got.Data == nil) != (want.Data == nil) ||
				(got.Data != nil && !equalPages(got.Data.Types, want.Data.Types)) || fmt.Sprint(got.Errors) != fmt.Sprint(want.Errors) {
				t.Errorf("DecodeJSON\n%s\njson.Decoder\n%s", g, w)
			}
		})
	}
}

func equalPages[T any](a, b Rows[T]) bool {
	return fmt.Sprintf("%+v %d %v", a.Items, a.Bad, a.Set) == fmt.Sprintf("%+v %d %v", b.Items, b.Bad, b.Set)
}

// TestDecodeJSONTopLevelRows: an answer that is the array itself.
func TestDecodeJSONTopLevelRows(t *testing.T) {
	var r Rows[struct {
		N int `json:"n"`
	}]
	if err := DecodeJSON(strings.NewReader(`[{"n": 1}, {"n": "x"}, {"n": 3}]`), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Items) != 2 || r.Items[1].N != 3 || r.Bad != 1 {
		t.Errorf("%+v", r)
	}
}

// TestDecodeJSONStops: a body read past its limit fails at the limit, not
// after the whole answer was read, and says so.
func TestDecodeJSONStops(t *testing.T) {
	row := `{"name": "` + strings.Repeat("x", 100) + `"},`
	endless := io.MultiReader(strings.NewReader(`{"Items": [`), &repeat{s: row})
	var rows int
	var d struct {
		Items Rows[struct {
			Name string `json:"name"`
		}] `json:"Items"`
	}
	d.Items.Each = func(*struct {
		Name string `json:"name"`
	}) {
		rows++
	}
	body := LimitBody(io.NopCloser(endless), 1<<20)
	err := DecodeJSON(body, &d)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v, want ErrTooLarge", err)
	}
	if want := (1 << 20) / len(row); rows < want-2 || rows > want {
		t.Errorf("%d rows before the limit, want ~%d", rows, want)
	}
}

// repeat reads s over and over.
type repeat struct {
	s   string
	off int
}

func (r *repeat) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.s[r.off:])
		n += c
		r.off = (r.off + c) % len(r.s)
	}
	return n, nil
}

// TestDecodeJSONRecursiveType: a type that holds itself is planned once,
// its inner occurrences decoded whole.
func TestDecodeJSONRecursiveType(t *testing.T) {
	type node struct {
		Items Rows[struct {
			N int `json:"n"`
		}] `json:"items"`
		Next *node `json:"next"`
	}
	var got node
	if err := DecodeJSON(strings.NewReader(`{"items": [{"n": 1}, {"n": "x"}], "next": {"items": [{"n": 2}], "next": null}}`), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Items.Items) != 1 || got.Items.Bad != 1 || got.Next == nil || len(got.Next.Items.Items) != 1 || got.Next.Next != nil {
		t.Errorf("%+v", got)
	}
}

// TestNoRowsNoneUsable: an answer without rows is empty, one whose rows
// all fail to decode a decoding failure, and so is one whose readable rows
// priced nothing while others did not decode.
func TestNoRowsNoneUsable(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		json                 string
		noRows, noneUsable   string // the errors' texts
		noRowsReason, reason string
	}{
		{name: "no rows", json: `[]`, noRows: "read x: provider returned no prices", noRowsReason: "empty",
			noneUsable: "read x: nothing priced: provider returned no prices", reason: "empty"},
		{name: "every row bad", json: `[1]`, noRows: "decode x.example: none of 1 rows could be read: json: cannot unmarshal", noRowsReason: "decode",
			noneUsable: "decode x.example: 1 rows could not be read: json: cannot unmarshal", reason: "decode"},
		{name: "a good and a bad row", json: `[{}, 1]`, noneUsable: "decode x.example: 1 rows could not be read", reason: "decode"},
		{name: "good rows", json: `[{}]`, noneUsable: "read x: nothing priced: provider returned no prices", reason: "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Rows[struct{}]
			if err := json.Unmarshal([]byte(tc.json), &r); err != nil {
				t.Fatal(err)
			}
			err := r.NoRows("x.example", "rows", "read x")
			if tc.noRows == "" && err != nil || tc.noRows != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.noRows) || Reason(err) != tc.noRowsReason) {
				t.Errorf("NoRows: %v (reason %s), want %q (%s)", err, Reason(err), tc.noRows, tc.noRowsReason)
			}
			err = r.NoneUsable("x.example", "rows could not be read", "read x: nothing priced")
			if err == nil || !strings.HasPrefix(err.Error(), tc.noneUsable) || Reason(err) != tc.reason {
				t.Errorf("NoneUsable: %v (reason %s), want %q (%s)", err, Reason(err), tc.noneUsable, tc.reason)
			}
		})
	}
}
