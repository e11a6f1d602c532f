package collectors

import (
	"encoding/json"
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
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			err := json.Unmarshal([]byte(tc.json), &d)
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
		})
	}
}
