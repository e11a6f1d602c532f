package collectortest

import (
	"encoding/json"
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
)

// PerRow runs fn in b's loop and reports, besides the usual figures per
// run, what one row of the answer costs: ns/row, B/row and allocs/row,
// rows being how many rows (offers, items, SKUs) one run of fn decodes.
// It also reports cpu-s/op, the process's CPU time (user and system, every
// goroutine: the in-process fake's share included) per run. The memory
// figures are the whole process's too, read once before and once after
// the loop.
func PerRow(b *testing.B, rows int, fn func()) {
	b.Helper()
	b.ReportAllocs()
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		fn()
		n++
	}
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&m1)
	if n == 0 || rows == 0 {
		return
	}
	per := float64(n) * float64(rows)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/row")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/per, "B/row")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/per, "allocs/row")
	b.ReportMetric(cpu.Seconds()/float64(n), "cpu-s/op")
	b.ReportMetric(float64(rows), "rows")
}

// cpuTime is the CPU time the process has used so far, or 0 where
// getrusage is missing.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// EachDecoder runs bench as a sub-benchmark once per way of decoding an
// answer, to compare what a row costs in each: "whole" (json.Decoder's
// Decode, the answer held at once) and "stream" (collectors.DecodeJSON,
// the collectors' own).
func EachDecoder(b *testing.B, bench func(b *testing.B, decode func(io.Reader, any) error)) {
	for _, way := range []struct {
		name   string
		decode func(io.Reader, any) error
	}{
		{"whole", func(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }},
		{"stream", collectors.DecodeJSON},
	} {
		b.Run(way.name, func(b *testing.B) { bench(b, way.decode) })
	}
}
