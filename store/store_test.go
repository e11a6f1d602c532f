package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// TestQueryLabels checks that Query's label fields are the series labels
// and that Labels and SetLabels carry each of them.
func TestQueryLabels(t *testing.T) {
	var want price.Quote
	for i := range price.SeriesLabels {
		switch p := price.SeriesLabels[i].Field(&want).(type) {
		case *string:
			*p = price.SeriesLabels[i].Name + " value"
		case *float64:
			*p = float64(i) + 0.25
		}
	}
	q := Query{Start: time.Unix(1, 0), End: time.Unix(2, 0)}
	q.SetLabels(&want)
	got := q.Labels()
	for i := range price.SeriesLabels {
		if l := &price.SeriesLabels[i]; l.Value(&got) != l.Value(&want) {
			t.Errorf("%s: %q after SetLabels and Labels, want %q", l.Name, l.Value(&got), l.Value(&want))
		}
	}
	// Start and End aside, every field is a label.
	if n := reflect.TypeFor[Query]().NumField() - 2; n != len(price.SeriesLabels) {
		t.Errorf("Query has %d label fields, price.SeriesLabels %d labels", n, len(price.SeriesLabels))
	}
}
