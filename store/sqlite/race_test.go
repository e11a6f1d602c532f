//go:build race

package sqlite

// raceEnabled: the race detector slows the transpiled SQLite some
// thirtyfold, and the longest tests take fewer rounds under it.
const raceEnabled = true
