package exporter

import (
	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/version"
)

// NewSelfRegistry returns the registry of gpuprice's own metrics:
// gpuprice_build_info always, and the go_* and process_* collectors unless
// runtime is false (--web.disable-exporter-metrics).
func NewSelfRegistry(runtime bool) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "gpuprice_build_info",
		Help:        "A metric with a constant '1' value labeled by the version, revision and Go version gpuprice was built from.",
		ConstLabels: prometheus.Labels{"version": version.Version, "revision": version.GetRevision(), "goversion": version.GoVersion},
	}, func() float64 { return 1 }))
	if runtime {
		reg.MustRegister(promcollectors.NewGoCollector(), promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}))
	}
	return reg
}
