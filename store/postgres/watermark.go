package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpuprice/gpuprice/store/internal/last"
)

// Watermark returns how far the history of the remote-write target has
// been sent; zero when it never was.
func (s *Store) Watermark(ctx context.Context, target string) (time.Time, error) {
	var ts int64
	err := s.pool.QueryRow(ctx, "SELECT ts FROM remote_write_watermarks WHERE target = $1", target).Scan(&ts)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read the watermark of %s: %w", target, s.clean(err))
	}
	return last.FromMS(ts), nil
}

// SetWatermark records that the history of target up to t has been sent.
func (s *Store) SetWatermark(ctx context.Context, target string, t time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO remote_write_watermarks (target, ts) VALUES ($1, $2)
		ON CONFLICT (target) DO UPDATE SET ts = excluded.ts`, target, last.MS(t))
	if err != nil {
		return fmt.Errorf("write the watermark of %s: %w", target, s.clean(err))
	}
	return nil
}
