package postgres

import (
	"context"

	"github.com/gpuprice/gpuprice/store"
)

var _ store.Scanner = (*Store)(nil)

// HistoryScan implements store.Scanner: HistoryEach, whose series are
// the caller's anyway.
func (r *reader) HistoryScan(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	return r.HistoryEach(ctx, q, fn)
}
