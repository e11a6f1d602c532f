// Package benchmem measures the peak of the Go heap during a benchmark
// iteration, for the store benchmarks' "memory does not grow with the
// history" figures.
package benchmem

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// Peak starts sampling the heap (live objects and the garbage not yet
// collected: what the process holds) every 2ms, and returns the function
// that stops it and returns the peak above the heap at the start, in bytes.
// It collects garbage first, so that the start is the live heap.
func Peak() (stop func() uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base, peak := read(), uint64(0)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				peak = max(peak, read())
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		peak = max(peak, read())
		if peak < base {
			return 0
		}
		return peak - base
	}
}
