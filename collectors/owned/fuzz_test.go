package owned

import (
	"bytes"
	"math"
	"testing"

	"github.com/gpuprice/gpuprice/price"
)

// FuzzParseCSV: nvidia-smi output of any shape is parsed or refused with an
// error, never a panic, and what is parsed is usable: finite, non-negative
// numbers (or NaN for "[N/A]"), and Measure works on it.
func FuzzParseCSV(f *testing.F) {
	for _, seed := range []struct{ data, query string }{
		{"uuid, name, memory.total [MiB], power.draw [W]\nGPU-1, NVIDIA H200, 143771 MiB, 402.10 W\nGPU-2, NVIDIA H200, 143771 MiB, [N/A]\n", ""},
		{"GPU-1, NVIDIA H100 80GB HBM3, 81559, 700.1\n", "uuid,name,memory.total,power.draw"},
		{"index, name, power.draw [W]\n0, NVIDIA A100-SXM4-80GB, 250 W\n# comment\nindex, name, power.draw [W]\n0, NVIDIA A100-SXM4-80GB, 260 W\n", ""},
		{"+-----+\n| NVIDIA-SMI 550.54 |\n", ""},
		{"name,power.draw\nx,1\n", "name"},
		{"\"a\"b,c\n", "uuid,name,power.draw"},
	} {
		f.Add(seed.data, seed.query)
	}
	cat := price.DefaultCatalog()
	f.Fuzz(func(t *testing.T, data, query string) {
		samples, err := ParseCSV(bytes.NewReader([]byte(data)), query)
		if err != nil {
			return
		}
		for _, s := range samples {
			for _, v := range []float64{s.PowerDrawW, s.MemoryTotalMiB} {
				if math.IsInf(v, 0) || v < 0 {
					t.Fatalf("sample %+v: a number that is not finite and non-negative", s)
				}
			}
		}
		for _, stat := range []string{"mean", "median", "max"} {
			m, err := Measure(samples, cat, samples[0].Name, stat)
			if err == nil && (math.IsNaN(m.WattsPerGPU) || math.IsInf(m.WattsPerGPU, 0) || m.WattsPerGPU < 0) {
				t.Fatalf("Measure %s: %+v", stat, m)
			}
		}
	})
}
