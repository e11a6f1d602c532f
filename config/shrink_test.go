package config

import "testing"

// TestShrinkGuardKeys: min_quote_ratio and accept_drop_after default per
// provider, and out-of-range values name their key, line and range.
func TestShrinkGuardKeys(t *testing.T) {
	cfg, err := Load([]byte("providers:\n  alpha:\n    min_quote_ratio: 0.2\n    accept_drop_after: 5\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	a, b := testSections(cfg)
	if a.MinQuoteRatio != 0.2 || a.AcceptDropAfter != 5 || b.MinQuoteRatio != DefaultMinQuoteRatio || b.AcceptDropAfter != DefaultAcceptDropAfter {
		t.Errorf("alpha %g/%d, beta %g/%d", a.MinQuoteRatio, a.AcceptDropAfter, b.MinQuoteRatio, b.AcceptDropAfter)
	}
	for _, tc := range []struct{ text, want string }{
		{"providers:\n  beta:\n    min_quote_ratio: 1.5\n", `x.yml:3: providers.beta.min_quote_ratio: 1.5 is out of range: allowed (0, 1] (a share of the last good refresh's quotes)`},
		{"providers:\n  beta:\n    min_quote_ratio: -0.5\n", `x.yml:3: providers.beta.min_quote_ratio: -0.5 is out of range: allowed (0, 1] (a share of the last good refresh's quotes)`},
		{"providers:\n  beta:\n    accept_drop_after: -1\n", `x.yml:3: providers.beta.accept_drop_after: -1 is out of range: allowed [1, 1000] refreshes (1: accept every drop at once)`},
	} {
		if _, err := Load([]byte(tc.text), "x.yml"); err == nil || err.Error() != tc.want {
			t.Errorf("error\n got: %v\nwant: %s", err, tc.want)
		}
	}
}
