package postgres

import (
	"testing"

	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/postgres/pgtest"
	"github.com/gpuprice/gpuprice/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openTest opens the store in the schema derived from name.
func openTest(t testing.TB, name string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), pgtest.Get(t).Schema(t, name), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// TestContract runs the store contract suite, each of its stores in a
// schema of its own (named after the suite's directory).
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		return openTest(t, dir, Options{})
	})
}

// TestContractSmallBatches runs the suite with one point per backfill
// transaction, so that series spanning batches are exercised.
func TestContractSmallBatches(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		return openTest(t, dir, Options{BackfillBatch: 1, MaxConns: 2})
	})
}
