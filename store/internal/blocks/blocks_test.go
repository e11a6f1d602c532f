package blocks

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

func TestRoundTrip(t *testing.T) {
	var b Builder
	b.Add(1000, 2.5, false, 0, false)
	b.Add(2000, 0, true, 0, false)
	b.Add(3000, 3.25, false, 0, false)
	pts, amts := b.Values()
	if len(pts) != 3*PointSize || amts != nil {
		t.Fatalf("values of %d and %d bytes, want %d and none", len(pts), len(amts), 3*PointSize)
	}
	got, err := AppendRange(nil, pts, amts, 2000, 3000)
	want := []store.Point{{Time: last.FromMS(2000), Withdrawn: true}, {Time: last.FromMS(3000), USDPerHour: 3.25}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("AppendRange [2000, 3000] = %v, %v; want %v", got, err, want)
	}

	b.Reset()
	b.Add(5000, 1.1, false, 1, true)
	b.Add(6000, 1.2, false, 0, false)
	pts, amts = b.Values()
	got, err = AppendRange(nil, pts, amts, 0, 1<<62)
	want = []store.Point{{Time: last.FromMS(5000), USDPerHour: 1.1, CurrencyPerHour: 1}, {Time: last.FromMS(6000), USDPerHour: 1.2}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("AppendRange with amounts = %v, %v; want %v", got, err, want)
	}
	if _, err := AppendRange(nil, pts[:20], nil, 0, 1); err == nil {
		t.Error("a value cut inside a point was read")
	}
	if _, err := AppendRange(nil, pts, amts[:8], 0, 1); err == nil {
		t.Error("amounts of another length than the points were read")
	}
}

func TestOf(t *testing.T) {
	if SpanSQL != strconv.FormatInt(Span, 10) {
		t.Errorf("SpanSQL %s is not Span %d", SpanSQL, Span)
	}
	for _, c := range []struct{ ts, block int64 }{{0, 0}, {Span - 1, 0}, {Span, 1}, {3*Span + 5, 3}} {
		if got := Of(c.ts); got != c.block {
			t.Errorf("Of(%d) = %d, want %d", c.ts, got, c.block)
		}
	}
}
