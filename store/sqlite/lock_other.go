//go:build !unix

package sqlite

import "os"

// lockDir is a no-op where flock does not exist; run one process per store.
func lockDir(path string) (*os.File, error) { return nil, nil }
