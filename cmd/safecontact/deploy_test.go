package main

// These tests keep what a landlord's IT team deploys and watches with
// (the Dockerfile, deploy/ and its alerts and dashboard) true to the
// code: every metric an alert or a panel names is one the service
// exposes, with the labels and label values it really has; every setting
// the compose file, the Kubernetes manifests and deploy/env.example name
// is in README.md's Settings table, and the ones a Redis deployment
// needs are named. Rename a metric, a label, a route or a setting and
// they fail, naming the file to change.

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/seal"
)

// deployRepoFile reads a file by its path from the repository's root.
func deployRepoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// deployExposed is what /metrics serves: each metric family's name, its
// labels and the label values seen.
type deployExposed struct {
	labels     map[string]map[string]map[string]bool // metric -> label -> values
	histograms map[string]bool
}

// deployAnyValue are labels whose values the deploy files may name
// freely: Prometheus's target labels, the histogram's buckets, the build.
var deployAnyValue = map[string]bool{
	"job": true, "instance": true, "le": true,
	"version": true, "commit": true, "goversion": true,
}

// deployExposedMetrics builds the metrics as serve does and makes every
// series appear: the queue's gauges and the dead jobs (which need Redis)
// through the collectors themselves, primed with empty figures; a card of each priority,
// an alert of each kind and an undelivered text of each kind through the
// functions the service calls; and a request to the SMS and web chat
// routes through the routes serve answers, so their route labels are the
// real ones (the Slack routes need Slack, so the deploy files may not
// match them by exact value).
func deployExposedMetrics(t *testing.T) deployExposed {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	m := newMetrics(log)
	qc := &queueCollector{log: log, every: time.Hour, read: true, up: true, at: time.Now()}
	m.reg.MustRegister(qc)
	m.reg.MustRegister(&jobsCollector{sources: []jobSource{outboxJobs{}}, log: log, every: time.Hour,
		last: map[string]int64{outboxJobs{}.Kind(): 0}, at: time.Now()})
	for p := bot.Standard; p <= bot.Urgent; p++ {
		m.posted(handoff.JobCard, &handoff.Case{Priority: p}, "")
	}
	for _, a := range []handoff.Alert{handoff.AlertOnCall, handoff.AlertWarn, handoff.AlertRemind, handoff.AlertDue,
		handoff.AlertDutyWarn, handoff.AlertDutyDue, handoff.AlertNoCard, handoff.AlertDanger} {
		m.posted(handoff.JobAlert, nil, a)
	}
	m.textUndelivered(true)
	m.textUndelivered(false)

	// The routes as serve wires them, on the in-memory store.
	cfg, err := loadConfig(func(string) string { return "" }, flag.NewFlagSet("serve", flag.ContinueOnError), nil)
	if err != nil {
		t.Fatal(err)
	}
	mn, err := NewMain(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mn.Close() })
	h := mn.routes()
	for _, r := range []struct{ method, path string }{
		{http.MethodPost, sms.InboundPath}, {http.MethodPost, sms.StatusPath}, {http.MethodGet, "/chat/"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(r.method, r.path, strings.NewReader("")))
	}

	ex := deployExposed{labels: map[string]map[string]map[string]bool{}, histograms: map[string]bool{}}
	for _, g := range []prometheus.Gatherer{m.reg, mn.met.reg} {
		fams, err := g.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			ls := ex.labels[f.GetName()]
			if ls == nil {
				ls = map[string]map[string]bool{}
				ex.labels[f.GetName()] = ls
			}
			if f.GetType().String() == "HISTOGRAM" {
				ex.histograms[f.GetName()] = true
			}
			for _, s := range f.GetMetric() {
				for _, lp := range s.GetLabel() {
					if ls[lp.GetName()] == nil {
						ls[lp.GetName()] = map[string]bool{}
					}
					ls[lp.GetName()][lp.GetValue()] = true
				}
			}
		}
	}

	// The queue collector's Descs name the same metrics it collected.
	ch := make(chan *prometheus.Desc, 8)
	go func() { qc.Describe(ch); close(ch) }()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		sm := fqName.FindStringSubmatch(d.String())
		if sm == nil {
			t.Fatalf("no fqName in %s", d)
		}
		if ex.labels[sm[1]] == nil {
			t.Errorf("the queue collector describes %s but did not collect it", sm[1])
		}
	}

	return ex
}

// base is the metric a series name belongs to: a histogram's _bucket,
// _sum and _count are its own.
func (ex deployExposed) base(name string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if b, ok := strings.CutSuffix(name, suffix); ok && ex.histograms[b] {
			return b
		}
	}
	return name
}

var (
	deployMetricName = regexp.MustCompile(`\bsafecontact_[a-zA-Z0-9_]*[a-zA-Z0-9]`)
	deploySelector   = regexp.MustCompile(`\b(safecontact_[a-zA-Z0-9_]+)\s*\{([^}]*)\}`)
	deployMatcher    = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)
	deployGrouping   = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
)

// checkText reports each safecontact_ name in text that the service does
// not expose.
func (ex deployExposed) checkText(t *testing.T, where, text string) []string {
	t.Helper()
	var names []string
	for _, n := range deployMetricName.FindAllString(text, -1) {
		b := ex.base(n)
		if ex.labels[b] == nil {
			t.Errorf("%s names %s, which safecontact does not expose (cmd/safecontact/metrics.go)", where, n)
			continue
		}
		names = append(names, n)
	}
	return names
}

// checkExpr checks a PromQL expression: its metrics, the labels its
// selectors match and group by, and the values it matches exactly.
func (ex deployExposed) checkExpr(t *testing.T, where, expr string) []string {
	t.Helper()
	names := ex.checkText(t, where, expr)
	labels := map[string]bool{}
	for l := range deployAnyValue {
		labels[l] = true
	}
	for _, n := range names {
		for l := range ex.labels[ex.base(n)] {
			labels[l] = true
		}
	}
	for _, sel := range deploySelector.FindAllStringSubmatch(expr, -1) {
		name := ex.base(sel[1])
		have := ex.labels[name]
		if have == nil {
			continue // reported above
		}
		for _, mt := range deployMatcher.FindAllStringSubmatch(sel[2], -1) {
			label, op, value := mt[1], mt[2], mt[3]
			if deployAnyValue[label] && (label != "le" || strings.HasSuffix(sel[1], "_bucket")) {
				continue
			}
			values, ok := have[label]
			if !ok {
				t.Errorf("%s: %s has no label %q (it has %s)", where, name, label, deployKeys(have))
				continue
			}
			if op == "=" && label == "code" {
				if !regexp.MustCompile(`^[1-5][0-9][0-9]$`).MatchString(value) {
					t.Errorf("%s: %s{code=%q} is not a status code", where, name, value)
				}
				continue
			}
			if op == "=" && !values[value] {
				t.Errorf("%s: %s{%s=%q}: safecontact never sets %s to %q (it sets %s)", where, name, label, value, label, value, deployKeys(values))
			}
		}
	}
	for _, g := range deployGrouping.FindAllStringSubmatch(expr, -1) {
		for l := range strings.SplitSeq(g[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !labels[l] {
				t.Errorf("%s: groups by %q, a label none of its metrics has", where, l)
			}
		}
	}
	return names
}

func deployKeys[V any](m map[string]V) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

type deployAlertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// Every metric, label and label value the alerts use is one safecontact
// exposes, and every alert tells on-call what it is and what to check.
func TestDeployAlertsUseRealMetrics(t *testing.T) {
	ex := deployExposedMetrics(t)
	var rules deployAlertRules
	dec := yaml.NewDecoder(strings.NewReader(deployRepoFile(t, "deploy/monitoring/alerts.yaml")))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatal("deploy/monitoring/alerts.yaml: ", err)
	}
	used := map[string]bool{}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			where := "deploy/monitoring/alerts.yaml: " + r.Alert + r.Record
			if r.Expr == "" {
				t.Errorf("%s: no expr", where)
			}
			for _, name := range ex.checkExpr(t, where, r.Expr) {
				used[ex.base(name)] = true
			}
			if r.Alert == "" {
				continue
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: wants a summary and a description for on-call", where)
			}
			if r.Labels["severity"] == "" {
				t.Errorf("%s: no severity label", where)
			}
			for k, a := range r.Annotations {
				ex.checkText(t, where+" "+k, a)
			}
		}
	}
	if n == 0 {
		t.Fatal("deploy/monitoring/alerts.yaml: no rules")
	}
	// The queue's health, its urgent cases, a missed contact deadline,
	// Slack's backlog, the SMS webhook's latency, undelivered texts, jobs
	// given up and errors.
	for _, want := range []string{
		"safecontact_queue_up", "safecontact_cases_open", "safecontact_cases_contact_due_timestamp_seconds",
		"safecontact_board_jobs_waiting", "safecontact_http_request_duration_seconds",
		"safecontact_texts_undelivered_total", "safecontact_jobs_dead", "safecontact_http_requests_total",
	} {
		if !used[want] {
			t.Errorf("deploy/monitoring/alerts.yaml: no rule watches %s", want)
		}
	}
}

// Every metric, label and label value the dashboard uses is one
// safecontact exposes, and every safecontact_ metric has a panel.
func TestDeployDashboardUsesRealMetrics(t *testing.T) {
	ex := deployExposedMetrics(t)
	var dash map[string]any
	if err := json.Unmarshal([]byte(deployRepoFile(t, "deploy/monitoring/dashboard.json")), &dash); err != nil {
		t.Fatal("deploy/monitoring/dashboard.json: ", err)
	}
	if v, _ := dash["schemaVersion"].(float64); v < 36 {
		t.Errorf("deploy/monitoring/dashboard.json: schemaVersion %v, want 36 or later", dash["schemaVersion"])
	}
	used := map[string]bool{}
	exprs := 0
	// Expressions are "expr" in targets and "query" or "definition" in
	// variables; every other string (titles, descriptions) may still
	// name a metric, and then it must be a real one.
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if s, ok := c.(string); ok && (k == "expr" || k == "query" || k == "definition") {
					exprs++
					for _, name := range ex.checkExpr(t, "deploy/monitoring/dashboard.json "+path+"."+k, s) {
						used[ex.base(name)] = true
					}
					continue
				}
				walk(path+"."+k, c)
			}
		case []any:
			for i, c := range v {
				walk(path+"["+strconv.Itoa(i)+"]", c)
			}
		case string:
			ex.checkText(t, "deploy/monitoring/dashboard.json "+path, v)
		}
	}
	walk("", dash)
	if exprs == 0 {
		t.Fatal("deploy/monitoring/dashboard.json: no expressions")
	}
	for name := range ex.labels {
		if strings.HasPrefix(name, "safecontact_") && !used[name] {
			t.Errorf("deploy/monitoring/dashboard.json: no panel shows %s; add one", name)
		}
	}
	if !strings.Contains(deployRepoFile(t, "deploy/monitoring/dashboard.json"), `"type": "datasource"`) {
		t.Error("deploy/monitoring/dashboard.json: no datasource variable")
	}
}

// deploySettings is README.md's Settings table: every variable it names, and
// those it says a Redis deployment requires.
type deploySettings struct {
	all, required map[string]bool
}

func deployReadmeSettings(t *testing.T) deploySettings {
	t.Helper()
	readme := deployRepoFile(t, "README.md")
	_, table, ok := strings.Cut(readme, "\n## Settings\n")
	if !ok {
		t.Fatal("README.md: no Settings section")
	}
	if end := strings.Index(table, "\n## "); end >= 0 {
		table = table[:end]
	}
	name := regexp.MustCompile("`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`")
	s := deploySettings{all: map[string]bool{}, required: map[string]bool{"REDIS_URL": true}}
	for line := range strings.SplitSeq(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(line, -1) {
			s.all[m[1]] = true
		}
		if strings.Contains(strings.ToLower(cells[len(cells)-2]), "required with redis") {
			for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
				s.required[m[1]] = true
			}
		}
	}
	if !s.all["REDIS_URL"] || !s.required["SAFECONTACT_KEY"] {
		t.Fatalf("README.md's Settings table no longer reads as expected: found %s, required %s", deployKeys(s.all), deployKeys(s.required))
	}
	return s
}

// deployEnvExample is deploy/env.example's variables, set or commented out.
func deployEnvExample(t *testing.T) map[string]string {
	t.Helper()
	line := regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9]*_[A-Z0-9_]+)=(.*)$`)
	vars := map[string]string{}
	for l := range strings.SplitSeq(deployRepoFile(t, "deploy/env.example"), "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			vars[m[1]] = m[2]
		}
	}
	return vars
}

// A placeholder key must not be a usable key: nobody should run on a key
// from the repository.
func deployPlaceholderKey(t *testing.T, where, key string) {
	t.Helper()
	if key == "" {
		t.Errorf("%s: no SAFECONTACT_KEY", where)
	} else if _, err := seal.ParseKey(key); err == nil {
		t.Errorf("%s: SAFECONTACT_KEY is a usable key; use a placeholder, never a real one", where)
	}
}

// The compose file, the Kubernetes Deployment and Secret, and
// deploy/env.example name only settings README.md documents, and name
// the ones a Redis deployment requires.
func TestDeploySettings(t *testing.T) {
	s := deployReadmeSettings(t)
	documented := func(where, name string) {
		t.Helper()
		if !s.all[name] {
			t.Errorf("%s: %s is not in README.md's Settings table", where, name)
		}
	}

	// deploy/env.example documents every setting and nothing else.
	env := deployEnvExample(t)
	for name := range env {
		documented("deploy/env.example", name)
	}
	for name := range s.all {
		if _, ok := env[name]; !ok {
			t.Errorf("deploy/env.example: does not describe %s (README.md, Settings)", name)
		}
	}
	for name := range s.required {
		if strings.HasPrefix(strings.TrimSpace(env[name]), "#") || env[name] == "" {
			t.Errorf("deploy/env.example: %s is required with Redis; give it a line", name)
		}
	}
	deployPlaceholderKey(t, "deploy/env.example", env["SAFECONTACT_KEY"])

	// deploy/compose.yaml.
	var compose struct {
		Services map[string]struct {
			Build struct {
				Args map[string]string `yaml:"args"`
			} `yaml:"build"`
			Command     []string       `yaml:"command"`
			EnvFile     any            `yaml:"env_file"`
			Environment map[string]any `yaml:"environment"`
			Ports       []string       `yaml:"ports"`
			Volumes     []string       `yaml:"volumes"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	composeText := deployRepoFile(t, "deploy/compose.yaml")
	if err := yaml.Unmarshal([]byte(composeText), &compose); err != nil {
		t.Fatal("deploy/compose.yaml: ", err)
	}
	sc, ok := compose.Services["safecontact"]
	if !ok {
		t.Fatal("deploy/compose.yaml: no safecontact service")
	}
	for name := range sc.Environment {
		documented("deploy/compose.yaml", name)
	}
	for name := range s.required {
		if _, ok := sc.Environment[name]; !ok {
			t.Errorf("deploy/compose.yaml: safecontact's environment does not set %s, required with Redis", name)
		}
	}
	if f, _ := sc.EnvFile.(string); f != ".env" {
		t.Errorf("deploy/compose.yaml: env_file %v, want .env (made from deploy/env.example)", sc.EnvFile)
	}
	// ${NAME} interpolations are settings, or the build's VERSION.
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(composeText, -1) {
		if m[1] != "VERSION" {
			documented("deploy/compose.yaml", m[1])
		}
	}
	if _, ok := sc.Build.Args["VERSION"]; !ok {
		t.Error("deploy/compose.yaml: the build does not pass VERSION")
	}
	redis, ok := compose.Services["redis"]
	if !ok {
		t.Fatal("deploy/compose.yaml: no redis service")
	}
	cmd := strings.Join(redis.Command, " ")
	for _, want := range []string{"--appendonly yes", "--appendfsync everysec"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("deploy/compose.yaml: redis runs %q, want %s", cmd, want)
		}
	}
	if !slices.Contains(redis.Healthcheck.Test, "ping") || len(redis.Volumes) == 0 {
		t.Error("deploy/compose.yaml: redis wants a redis-cli ping healthcheck and a volume")
	}

	// deploy/kubernetes/deployment.yaml.
	var deploy struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Replicas int `yaml:"replicas"`
			Template struct {
				Spec struct {
					TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
					Containers                    []struct {
						Name  string `yaml:"name"`
						Ports []struct {
							ContainerPort int `yaml:"containerPort"`
						} `yaml:"ports"`
						Env []struct {
							Name      string `yaml:"name"`
							ValueFrom struct {
								SecretKeyRef struct {
									Name string `yaml:"name"`
									Key  string `yaml:"key"`
								} `yaml:"secretKeyRef"`
							} `yaml:"valueFrom"`
						} `yaml:"env"`
						EnvFrom []struct {
							SecretRef struct {
								Name string `yaml:"name"`
							} `yaml:"secretRef"`
						} `yaml:"envFrom"`
						ReadinessProbe deployProbe `yaml:"readinessProbe"`
						LivenessProbe  deployProbe `yaml:"livenessProbe"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal([]byte(deployRepoFile(t, "deploy/kubernetes/deployment.yaml")), &deploy); err != nil {
		t.Fatal("deploy/kubernetes/deployment.yaml: ", err)
	}
	if deploy.Kind != "Deployment" || len(deploy.Spec.Template.Spec.Containers) != 1 {
		t.Fatal("deploy/kubernetes/deployment.yaml: want a Deployment of one container")
	}
	c := deploy.Spec.Template.Spec.Containers[0]
	names := map[string]bool{}
	for _, e := range c.Env {
		names[e.Name] = true
		documented("deploy/kubernetes/deployment.yaml", e.Name)
		if ref := e.ValueFrom.SecretKeyRef; ref.Name != "" {
			if ref.Name != "safecontact" {
				t.Errorf("deploy/kubernetes/deployment.yaml: %s from Secret %q, want safecontact", e.Name, ref.Name)
			}
			documented("deploy/kubernetes/deployment.yaml", ref.Key)
		}
	}
	for name := range s.required {
		if !names[name] {
			t.Errorf("deploy/kubernetes/deployment.yaml: does not name %s, required with Redis", name)
		}
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef.Name != "safecontact" {
		t.Error("deploy/kubernetes/deployment.yaml: want envFrom the Secret safecontact")
	}
	if deploy.Spec.Template.Spec.TerminationGracePeriodSeconds < 15 {
		t.Error("deploy/kubernetes/deployment.yaml: terminationGracePeriodSeconds must cover serve's 10 s shutdown")
	}

	// The probes' paths answer, and the port is serve's default.
	cfg, err := loadConfig(func(string) string { return "" }, flag.NewFlagSet("serve", flag.ContinueOnError), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cfg.Addr, ":8080") || len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("deploy/kubernetes/deployment.yaml: containerPort %v, serve listens on %s", c.Ports, cfg.Addr)
	}
	mn, err := NewMain(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer mn.Close()
	for want, p := range map[string]deployProbe{"/readyz": c.ReadinessProbe, "/healthz": c.LivenessProbe} {
		if p.HTTPGet.Path != want {
			t.Errorf("deploy/kubernetes/deployment.yaml: probe on %q, want %s", p.HTTPGet.Path, want)
		}
		rec := httptest.NewRecorder()
		mn.routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.HTTPGet.Path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", p.HTTPGet.Path, rec.Code)
		}
	}

	// deploy/kubernetes/secret.example.yaml.
	var secret struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		StringData map[string]string `yaml:"stringData"`
	}
	if err := yaml.Unmarshal([]byte(deployRepoFile(t, "deploy/kubernetes/secret.example.yaml")), &secret); err != nil {
		t.Fatal("deploy/kubernetes/secret.example.yaml: ", err)
	}
	if secret.Kind != "Secret" || secret.Metadata.Name != "safecontact" {
		t.Error("deploy/kubernetes/secret.example.yaml: want the Secret safecontact")
	}
	for name := range secret.StringData {
		documented("deploy/kubernetes/secret.example.yaml", name)
	}
	for name := range s.required {
		if _, ok := secret.StringData[name]; !ok {
			t.Errorf("deploy/kubernetes/secret.example.yaml: no %s, required with Redis", name)
		}
	}
	deployPlaceholderKey(t, "deploy/kubernetes/secret.example.yaml", secret.StringData["SAFECONTACT_KEY"])
}

type deployProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
	} `yaml:"httpGet"`
}

// The Dockerfile builds this command with its version set, statically,
// and runs serve.
func TestDeployDockerfile(t *testing.T) {
	_ = version // the variable -X main.version= sets; renaming it breaks this test
	text := strings.ReplaceAll(deployRepoFile(t, "Dockerfile"), "\\\n", " ")
	var build string
	for line := range strings.SplitSeq(text, "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
			build = l
		}
	}
	if build == "" {
		t.Fatal("Dockerfile: no RUN go build")
	}
	for _, want := range []string{"./cmd/safecontact", "-X main.version=${VERSION}", "CGO_ENABLED=0", "-trimpath"} {
		if !strings.Contains(build, want) {
			t.Errorf("Dockerfile: the build does not have %s: %s", want, build)
		}
	}
	for _, want := range []string{"ARG VERSION", `ENTRYPOINT ["/safecontact"]`, `CMD ["serve"]`, "EXPOSE 8080", "USER "} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile: no %s", want)
		}
	}
}
