package helm

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const (
	chartDir = "gpuprice"
	repoRoot = "../.."
	release  = "prices"
)

// valueSets are the values the chart is rendered and linted with: each
// must render, decode strictly and give a configuration check-config
// accepts, or fail with wantErr.
var valueSets = []struct {
	name    string
	values  string
	wantErr string
	check   func(t *testing.T, m *manifests)
}{
	{
		name: "defaults",
		check: func(t *testing.T, m *manifests) {
			d := m.deployment(t)
			if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("replicas %d, strategy %s; want 1, Recreate (SQLite)", *d.Spec.Replicas, d.Spec.Strategy.Type)
			}
			if m.pvc == nil {
				t.Fatal("no PersistentVolumeClaim")
			}
			if claim := volume(t, d, "data").PersistentVolumeClaim; claim == nil || claim.ClaimName != m.pvc.Name {
				t.Errorf("data volume %+v, want the claim %s", volume(t, d, "data"), m.pvc.Name)
			}
			if m.secret != nil || m.serviceMonitor != nil || m.prometheusRule != nil {
				t.Error("a Secret, ServiceMonitor or PrometheusRule rendered without being asked for")
			}
		},
	},
	{
		name: "keys and owned hardware",
		values: `
config:
  providers:
    lambda: {enabled: true, interval: 5m, api_key_file: secrets/lambda}
    gcp: {enabled: true, api_key_file: secrets/gcp}
  owned:
    - {name: lab-h100, gpu_model: H100, gpu_memory_gb: 80, gpu_count: 8, purchase_usd: 1200000,
       amortization: 3y, power_watts: 10200, usd_per_kwh: 0.12, utilization: 0.7}
  static:
    - {provider: campus, gpu_model: A100, gpu_memory_gb: 40, usd_per_hour: 0, pricing_model: fixed, region: ca-qc}
secrets:
  keys: {lambda: secret_abc, gcp: AIzaXYZ}
storage:
  persistence: {storageClass: fast, size: 20Gi}
extraArgs: [--log.level=debug]
`,
		check: func(t *testing.T, m *manifests) {
			if m.secret == nil || string(m.secret.Data["lambda"]) != "secret_abc" {
				t.Fatalf("Secret %+v, want the lambda key", m.secret)
			}
			var items []string
			for _, src := range volume(t, m.deployment(t), "config").Projected.Sources {
				if src.Secret != nil {
					for _, it := range src.Secret.Items {
						items = append(items, it.Key+"→"+it.Path)
					}
				}
			}
			if want := []string{"gcp→secrets/gcp", "lambda→secrets/lambda"}; !slices.Equal(items, want) {
				t.Errorf("secret items %v, want %v", items, want)
			}
			if got := m.deployment(t).Spec.Template.Spec.Containers[0].Args; !slices.Equal(got, []string{"--log.level=debug"}) {
				t.Errorf("args %v", got)
			}
			if sc := m.pvc.Spec.StorageClassName; sc == nil || *sc != "fast" {
				t.Errorf("storage class %v, want fast", sc)
			}
		},
	},
	{
		name: "existing secret",
		values: `
config:
  providers:
    lambda: {enabled: true, api_key_file: secrets/lambda}
secrets: {existingSecret: my-keys, existingSecretKeys: [lambda]}
storage:
  persistence: {existingClaim: my-history}
`,
		check: func(t *testing.T, m *manifests) {
			if m.secret != nil || m.pvc != nil {
				t.Error("the chart made a Secret or claim of its own")
			}
			if v := volume(t, m.deployment(t), "data"); v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "my-history" {
				t.Errorf("data volume %+v, want my-history", v)
			}
		},
	},
	{
		name: "postgres, 3 replicas, Prometheus Operator",
		values: `
replicas: 3
storage:
  postgres: {enabled: true, dsnSecret: {name: gpuprice-db}}
serviceMonitor: {enabled: true, labels: {release: kube-prometheus-stack}}
prometheusRule: {enabled: true}
`,
		check: func(t *testing.T, m *manifests) {
			d := m.deployment(t)
			if *d.Spec.Replicas != 3 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
				t.Errorf("replicas %d, strategy %s", *d.Spec.Replicas, d.Spec.Strategy.Type)
			}
			env := d.Spec.Template.Spec.Containers[0].Env
			if len(env) != 1 || env[0].Name != "GPUPRICE_STORAGE_DSN" || env[0].ValueFrom.SecretKeyRef.Name != "gpuprice-db" || env[0].ValueFrom.SecretKeyRef.Key != "dsn" {
				t.Errorf("env %+v, want the DSN from gpuprice-db", env)
			}
			if m.pvc != nil {
				t.Error("a PersistentVolumeClaim with PostgreSQL")
			}
			sm := m.serviceMonitor
			if sm == nil || sm.Labels["release"] != "kube-prometheus-stack" || len(sm.Spec.Endpoints) != 1 {
				t.Fatalf("ServiceMonitor %+v", sm)
			}
			ep := sm.Spec.Endpoints[0]
			if ep.Port != "http" || ep.Path != "/metrics" || len(ep.RelabelConfigs) != 1 || ep.RelabelConfigs[0].TargetLabel != "job" || *ep.RelabelConfigs[0].Replacement != "gpuprice" {
				t.Errorf("endpoint %+v, want port http, /metrics, job=gpuprice", ep)
			}
			if !mapsContain(sm.Spec.Selector.MatchLabels, m.service.Spec.Selector) {
				t.Errorf("ServiceMonitor selects %v, Service has %v", sm.Spec.Selector.MatchLabels, m.service.Labels)
			}
			checkRules(t, m.prometheusRule)
		},
	},
	{
		name:    "replicas without postgres",
		values:  "replicas: 2",
		wantErr: "replicas: 2 needs storage.postgres.enabled with a DSN secret",
	},
	{
		name:    "postgres without its secret",
		values:  "storage: {postgres: {enabled: true}}",
		wantErr: "storage.postgres.enabled needs storage.postgres.dsnSecret.name",
	},
	{
		name:    "storage in config",
		values:  "config: {storage: {driver: sqlite}}",
		wantErr: "config.storage is set by the chart",
	},
	{
		name:    "misspelt value",
		values:  "replica: 2",
		wantErr: "additional properties 'replica' not allowed",
	},
	{
		name:    "existing secret without its keys",
		values:  "secrets: {existingSecret: mine}",
		wantErr: "secrets.existingSecret needs secrets.existingSecretKeys",
	},
}

func TestChart(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			vals := map[string]any{}
			if err := yaml.UnmarshalStrict([]byte(vs.values), &vals); err != nil {
				t.Fatal(err)
			}
			files, err := render(vals)
			if vs.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), vs.wantErr) {
					t.Fatalf("render: %v, want an error with %q", err, vs.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m, err := decode(files)
			if err != nil {
				t.Fatal(err)
			}
			checkCommon(t, m)
			checkConfig(t, m)
			if vs.check != nil {
				vs.check(t, m)
			}
			lint(t, vals)
		})
	}
}

// render renders the chart as `helm template` does.
func render(vals map[string]any) (map[string]string, error) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return nil, err
	}
	rv, err := util.ToRenderValues(ch, vals, common.ReleaseOptions{Name: release, Namespace: "gpu", IsInstall: true}, nil)
	if err != nil {
		return nil, err
	}
	return engine.Render(ch, rv)
}

// lint runs `helm lint --strict` with vals.
func lint(t *testing.T, vals map[string]any) {
	t.Helper()
	l := action.NewLint()
	l.Strict = true
	res := l.Run([]string{chartDir}, vals)
	for _, msg := range res.Messages {
		t.Logf("lint: %s", msg)
	}
	for _, err := range res.Errors {
		t.Errorf("helm lint: %v", err)
	}
}

// manifests are the decoded objects of one rendering.
type manifests struct {
	deployments    []*appsv1.Deployment
	service        *corev1.Service
	configMap      *corev1.ConfigMap
	secret         *corev1.Secret
	pvc            *corev1.PersistentVolumeClaim
	serviceAccount *corev1.ServiceAccount
	serviceMonitor *monitoringv1.ServiceMonitor
	prometheusRule *monitoringv1.PrometheusRule
}

func (m *manifests) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	if len(m.deployments) != 1 {
		t.Fatalf("%d Deployments, want 1", len(m.deployments))
	}
	return m.deployments[0]
}

// decode decodes every rendered manifest strictly into its API type: an
// unknown or misspelt field, a duplicate key or a wrong type is an error.
func decode(files map[string]string) (*manifests, error) {
	m := &manifests{}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") || strings.HasSuffix(name, ".tpl") {
			continue
		}
		for i, doc := range strings.Split(files[name], "\n---") {
			if strings.TrimSpace(doc) == "" || isComments(doc) {
				continue
			}
			if err := m.add([]byte(doc)); err != nil {
				return nil, fmt.Errorf("%s (document %d): %w\n%s", name, i, err, doc)
			}
		}
	}
	return m, nil
}

func isComments(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		if l := strings.TrimSpace(line); l != "" && l != "---" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

func (m *manifests) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		d := &appsv1.Deployment{}
		m.deployments, obj = append(m.deployments, d), d
	case "v1 Service":
		m.service = &corev1.Service{}
		obj = m.service
	case "v1 ConfigMap":
		m.configMap = &corev1.ConfigMap{}
		obj = m.configMap
	case "v1 Secret":
		m.secret = &corev1.Secret{}
		obj = m.secret
	case "v1 PersistentVolumeClaim":
		m.pvc = &corev1.PersistentVolumeClaim{}
		obj = m.pvc
	case "v1 ServiceAccount":
		m.serviceAccount = &corev1.ServiceAccount{}
		obj = m.serviceAccount
	case "monitoring.coreos.com/v1 ServiceMonitor":
		m.serviceMonitor = &monitoringv1.ServiceMonitor{}
		obj = m.serviceMonitor
	case "monitoring.coreos.com/v1 PrometheusRule":
		m.prometheusRule = &monitoringv1.PrometheusRule{}
		obj = m.prometheusRule
	default:
		return fmt.Errorf("unexpected %s %s", tm.APIVersion, tm.Kind)
	}
	return yaml.UnmarshalStrict(doc, obj)
}

// TestDecodeStrict shows that the decoding catches a misspelt field.
func TestDecodeStrict(t *testing.T) {
	for name, doc := range map[string]string{
		"misspelt field":  "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {prots: [{port: 1}]}\n",
		"nested misspelt": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {template: {spec: {containers: [{name: a, livenessProbes: {}}]}}}\n",
		"wrong type":      "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: eighty}]}\n",
		"duplicate key":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nmetadata: {name: y}\n",
		"unknown kind":    "apiVersion: v1\nkind: Servise\nmetadata: {name: x}\n",
	} {
		if _, err := decode(map[string]string{"t.yaml": doc}); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// checkCommon checks what every rendering must have.
func checkCommon(t *testing.T, m *manifests) {
	t.Helper()
	d := m.deployment(t)
	if m.service == nil || m.configMap == nil || m.serviceAccount == nil {
		t.Fatal("missing Service, ConfigMap or ServiceAccount")
	}
	if !mapsContain(d.Spec.Template.Labels, m.service.Spec.Selector) || !mapsContain(d.Spec.Template.Labels, d.Spec.Selector.MatchLabels) {
		t.Errorf("pod labels %v not selected by the Service (%v) or the Deployment", d.Spec.Template.Labels, m.service.Spec.Selector)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
		want := "/-/healthy"
		if name == "readiness" {
			want = "/-/ready"
		}
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != want || p.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe %+v, want GET %s on port http", name, p, want)
		}
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 9847 || c.Ports[0].Name != "http" {
		t.Errorf("ports %+v", c.Ports)
	}
	if c.Resources.Requests.Memory().IsZero() {
		t.Error("no memory request")
	}
	// The image's entrypoint reads these paths (Dockerfile); the chart mounts them.
	mounts := map[string]string{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.MountPath] = vm.Name
	}
	if mounts["/etc/gpuprice"] != "config" || mounts["/data"] != "data" {
		t.Errorf("mounts %v, want config at /etc/gpuprice and data at /data", mounts)
	}
	dockerfile, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{`"--storage.path=/data"`, `"--config.file=/etc/gpuprice/gpuprice.yml"`, `USER 65532:65532`} {
		if !bytes.Contains(dockerfile, []byte(arg)) {
			t.Errorf("the Dockerfile has no %s, which the chart relies on", arg)
		}
	}
	var cmItems []string
	for _, src := range volume(t, d, "config").Projected.Sources {
		if src.ConfigMap != nil && src.ConfigMap.Name == m.configMap.Name {
			for _, it := range src.ConfigMap.Items {
				cmItems = append(cmItems, it.Path)
			}
		}
	}
	if !slices.Equal(cmItems, []string{"gpuprice.yml"}) {
		t.Errorf("config volume has %v of the ConfigMap, want gpuprice.yml", cmItems)
	}
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("root filesystem not read-only")
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsUser == nil || *psc.RunAsUser != 65532 || psc.FSGroup == nil {
		t.Error("pod does not run as the image's user 65532 with an fsGroup")
	}
}

func volume(t *testing.T, d *appsv1.Deployment, name string) corev1.Volume {
	t.Helper()
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %s", name)
	return corev1.Volume{}
}

func mapsContain(m, sub map[string]string) bool {
	if len(sub) == 0 {
		return false
	}
	for k, v := range sub {
		if m[k] != v {
			return false
		}
	}
	return true
}

var gpuprice = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "gpuprice-helm-test")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "gpuprice")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/gpuprice")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gpuprice: %v\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := gpuprice(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

// checkConfig runs `gpuprice check-config` on the rendered configuration,
// laid out as in the pod: gpuprice.yml with the keys in secrets/ beside
// it, and the DSN in the environment.
func checkConfig(t *testing.T, m *manifests) {
	t.Helper()
	bin, err := gpuprice()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := m.configMap.Data["gpuprice.yml"]
	if err := os.WriteFile(filepath.Join(dir, "gpuprice.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, src := range volume(t, m.deployment(t), "config").Projected.Sources {
		if src.Secret == nil {
			continue
		}
		for _, it := range src.Secret.Items {
			value := []byte("stand-in for " + src.Secret.Name + "/" + it.Key)
			if m.secret != nil && m.secret.Name == src.Secret.Name {
				value = m.secret.Data[it.Key]
			}
			if err := os.WriteFile(filepath.Join(dir, it.Path), value, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	cmd := exec.Command(bin, "check-config", filepath.Join(dir, "gpuprice.yml"))
	cmd.Env = append(os.Environ(), "GPUPRICE_STORAGE_DSN=postgres://gpuprice@db.example/gpuprice")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("check-config of the rendered configuration: %v\n%s\n%s", err, out, cfg)
	}
}

// TestRulesInSync checks that the chart's copy of the rule files is the
// shipped one (a Helm chart cannot read files outside its directory).
func TestRulesInSync(t *testing.T) {
	shipped, _ := filepath.Glob(filepath.Join("..", "prometheus", "rules", "*.yml"))
	copied, _ := filepath.Glob(filepath.Join(chartDir, "rules", "*.yml"))
	base := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		return out
	}
	if len(shipped) == 0 || !slices.Equal(base(shipped), base(copied)) {
		t.Fatalf("chart rules %v, shipped %v: cp ../prometheus/rules/*.yml gpuprice/rules/", base(copied), base(shipped))
	}
	for i := range shipped {
		a, _ := os.ReadFile(shipped[i])
		b, _ := os.ReadFile(copied[i])
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s: cp ../prometheus/rules/*.yml gpuprice/rules/", copied[i], shipped[i])
		}
	}
}

// checkRules checks that the PrometheusRule holds every group and rule of
// the shipped files, their alert templates untouched by Helm.
func checkRules(t *testing.T, pr *monitoringv1.PrometheusRule) {
	t.Helper()
	if pr == nil {
		t.Fatal("no PrometheusRule")
	}
	var want, got []string
	paths, _ := filepath.Glob(filepath.Join("..", "prometheus", "rules", "*.yml"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Groups []monitoringv1.RuleGroup `json:"groups"`
		}
		if err := yaml.UnmarshalStrict(b, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				want = append(want, fmt.Sprintf("%s/%s%s %s %v", g.Name, r.Record, r.Alert, r.Expr.String(), r.Annotations))
			}
		}
	}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			got = append(got, fmt.Sprintf("%s/%s%s %s %v", g.Name, r.Record, r.Alert, r.Expr.String(), r.Annotations))
		}
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("PrometheusRule rules:\n%s\nwant the shipped ones:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(strings.Join(got, "\n"), "{{ $labels.gpu_model }}") {
		t.Error("alert annotations lost their templates")
	}
}

// TestReadmeValues renders the chart with every ```yaml helm-values block
// of the README, as TestChart does with its value sets.
func TestReadmeValues(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	lines := strings.Split(string(doc), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```yaml helm-values" {
			continue
		}
		start := i + 1
		var text strings.Builder
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			text.WriteString(lines[i] + "\n")
		}
		blocks++
		t.Run(fmt.Sprintf("README.md_%d", start), func(t *testing.T) {
			vals := map[string]any{}
			if err := yaml.UnmarshalStrict([]byte(text.String()), &vals); err != nil {
				t.Fatal(err)
			}
			files, err := render(vals)
			if err != nil {
				t.Fatal(err)
			}
			m, err := decode(files)
			if err != nil {
				t.Fatal(err)
			}
			checkCommon(t, m)
			checkConfig(t, m)
			lint(t, vals)
		})
	}
	if blocks == 0 {
		t.Error("no helm-values block in the README")
	}
}
