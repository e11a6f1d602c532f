// Package helm holds the tests of gpuprice's Helm chart (gpuprice/, the
// chart itself). It is a module of its own so that Helm and the Kubernetes
// API types, which only these tests need, stay out of gpuprice's go.mod:
//
//	cd deploy/helm && go test ./...
//
// The tests render the chart with Helm's own Go packages (helm.sh/helm/v4:
// the chart loader, the template engine and `helm lint`), decode every
// rendered manifest strictly into the Kubernetes API types (k8s.io/api, and
// the Prometheus Operator's for ServiceMonitor and PrometheusRule), so that
// a misspelt field fails, and check the rendered configuration with the
// real `gpuprice check-config`.
package helm
