package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gpuprice/gpuprice/store/internal/last"
)

// The remote-write watermarks live in meta, one key per target: how far
// its history has been sent, so that a restart resumes there.
func watermarkKey(target string) string { return "remote_write.watermark." + target }

// Watermark returns how far the history of the remote-write target has
// been sent; zero when it never was.
func (s *Store) Watermark(ctx context.Context, target string) (time.Time, error) {
	var v string
	err := s.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", watermarkKey(target)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read the watermark of %s: %w", target, err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("the watermark of %s is %q, not unix milliseconds", target, v)
	}
	return last.FromMS(n), nil
}

// SetWatermark records that the history of target up to t has been sent.
func (s *Store) SetWatermark(ctx context.Context, target string, t time.Time) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_, err := s.w.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		watermarkKey(target), strconv.FormatInt(last.MS(t), 10))
	if err != nil {
		return fmt.Errorf("write the watermark of %s: %w", target, err)
	}
	return nil
}
