package fakecloud

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

// The recorded offers look like Vast's: storage_cost is dollars per
// GB-month in the range hosts ask (0.05–0.5), bandwidth is priced per GB,
// and dph_total − dph_base is the storage of the default 5 GB.
func TestVastAIRecordedPricesAreRealistic(t *testing.T) {
	fake := NewVastAI(VastAIOptions{})
	status, body := vastPost(t, fake, "/api/v0/bundles/", `{"limit": 1000}`)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var a vastAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Offers) != fake.Len() {
		t.Fatalf("%d offers, want all %d", len(a.Offers), fake.Len())
	}
	for _, o := range a.Offers {
		if o.StorageCost < 0.05 || o.StorageCost > 0.5 {
			t.Errorf("offer %d: storage_cost %v $/GB-month, want 0.05–0.5", o.ID, o.StorageCost)
		}
		if o.InetUpCost <= 0 || o.InetUpCost > 0.05 || o.InetDownCost <= 0 || o.InetDownCost > 0.05 {
			t.Errorf("offer %d: bandwidth %v/%v $/GB, want above 0 and at most 0.05", o.ID, o.InetUpCost, o.InetDownCost)
		}
		if o.DPHBase == nil || o.DPHTotal == nil {
			continue
		}
		if got, want := round4(*o.DPHTotal-*o.DPHBase), round4(o.StorageCost*5/720); got != want {
			t.Errorf("offer %d: dph_total − dph_base = %v, want storage_cost × 5 GB / 720 h = %v", o.ID, got, want)
		}
	}
}

// Stale offers are matched against rentable and rented as they were
// listed, and answered as they are now.
func TestVastAIStaleIndex(t *testing.T) {
	const query = `{"rentable":{"eq":true},"rented":{"eq":false},"type":"on-demand","limit":10}`
	tests := []struct {
		name  string
		opts  VastAIOptions
		query string
		want  []int64
	}{
		{"index up to date", VastAIOptions{Data: []byte(vastFixture)}, query, []int64{1, 2, 5}},
		{"rented and unrentable offers still indexed", VastAIOptions{Data: []byte(vastFixture), StaleIDs: []int64{3, 4}}, query, []int64{1, 2, 3, 4, 5}},
		// Asking for what the index says they were finds them; asking for
		// what they are now does not.
		{"found by their old state only", VastAIOptions{Data: []byte(vastFixture), StaleIDs: []int64{3, 4}}, `{"rented":{"eq":true}}`, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := vastPost(t, NewVastAI(tt.opts), "/api/v0/bundles/", tt.query)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			var a vastAnswer
			if err := json.Unmarshal(body, &a); err != nil {
				t.Fatal(err)
			}
			ids := []int64{}
			for _, o := range a.Offers {
				ids = append(ids, o.ID)
				if o.ID == 3 && !o.Rented || o.ID == 4 && o.Rentable {
					t.Errorf("offer %d answered as rentable %v, rented %v: the answer must show its current state", o.ID, o.Rentable, o.Rented)
				}
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("ids %v, want %v", ids, tt.want)
			}
		})
	}
}

// The recorded offers include stale ones, among them the cheapest of
// their shape, and so do their synthesized variations.
func TestVastAIRecordedHasStaleOffers(t *testing.T) {
	const query = `{"rentable":{"eq":true},"rented":{"eq":false},"type":"on-demand","limit":100000}`
	for _, n := range []int{0, 3000} {
		fake := NewVastAI(VastAIOptions{Synthesize: n})
		_, body := vastPost(t, fake, "/api/v0/bundles/", query)
		var a vastAnswer
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		stale := 0
		for _, o := range a.Offers {
			if !o.Rentable || o.Rented {
				stale++
			}
		}
		if len(a.Offers) != fake.Len() || stale < 4 || stale > fake.Len()/10 {
			t.Errorf("synthesize %d: %d of %d offers answered, %d of them not rentable or rented; want all, a few stale", n, len(a.Offers), fake.Len(), stale)
		}
	}
}
