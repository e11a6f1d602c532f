//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive lock on dir's lock file. The store keeps each
// series' last point in memory, so two processes writing one file would
// each diff against their own idea of it and write wrong history; the lock
// makes the second one fail at Open instead. The kernel drops the lock
// when the process dies, kill -9 included.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is locked: another gpuprice process is using this store", path)
		}
		return nil, err
	}
	return f, nil
}
