package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// Remote-write defaults and bounds. PromQL looks back 5 minutes for a
// sample, so every live series is sent at least once a minute.
const (
	DefaultSendInterval      = 30 * time.Second
	MaxSendInterval          = time.Minute
	DefaultRemoteTimeout     = 30 * time.Second
	DefaultMaxSamplesPerSend = 2000
	DefaultQueueCapacity     = 10000
)

// RemoteWrite is one Prometheus remote-write receiver (Prometheus with
// --web.enable-remote-write-receiver, Mimir, Thanos Receive,
// VictoriaMetrics).
type RemoteWrite struct {
	URL string `yaml:"url"`
	// Name labels the target's self-metrics and log lines; default the
	// URL's host and path.
	Name string `yaml:"name"`
	// Headers are sent with every request (e.g. X-Scope-OrgID for Mimir).
	Headers         map[string]string     `yaml:"headers"`
	BasicAuth       *promconfig.BasicAuth `yaml:"basic_auth"`
	BearerTokenFile string                `yaml:"bearer_token_file"`
	TLSConfig       promconfig.TLSConfig  `yaml:"tls_config"`
	// SendInterval is how often every live series' current value is sent.
	SendInterval  Duration         `yaml:"send_interval"`
	RemoteTimeout Duration         `yaml:"remote_timeout"`
	Queue         RemoteWriteQueue `yaml:"queue"`
	History       RemoteHistory    `yaml:"history"`
	// ReplicaLabel, when set, labels every sample with this replica's
	// name in an HA group (--cluster.instance-id): every replica sends,
	// and the receiver deduplicates on the label (Mimir's HA tracker:
	// __replica__, with a cluster label in headers or external labels;
	// VictoriaMetrics: -dedup.minScrapeInterval with the label dropped).
	ReplicaLabel string `yaml:"replica_label"`
	// ExternalLabels are added to every sample (e.g. cluster: gpuprice,
	// for Mimir's HA tracker).
	ExternalLabels map[string]string `yaml:"external_labels"`
}

// RemoteWriteQueue bounds what a target holds and sends at once.
type RemoteWriteQueue struct {
	// MaxSamplesPerSend is the most samples in one request.
	MaxSamplesPerSend int `yaml:"max_samples_per_send"`
	// Capacity is the most history samples held for sending; the history
	// pass reads the store no faster than the receiver takes them.
	Capacity int `yaml:"capacity"`
}

// RemoteHistory says how far back stored history is sent.
type RemoteHistory struct {
	// MaxAge is the oldest point sent, back from now; 0 sends live values
	// only. Set it within the receiver's out-of-order window.
	MaxAge Duration `yaml:"max_age"`
}

// TargetName is the target's name, or its URL's host and path.
func (rw *RemoteWrite) TargetName() string {
	if rw.Name != "" {
		return rw.Name
	}
	if u, err := url.Parse(rw.URL); err == nil {
		return u.Host + u.Path
	}
	return rw.URL
}

// HTTPClientConfig is the target's authentication and TLS as the HTTP
// client of prometheus/common takes them.
func (rw *RemoteWrite) HTTPClientConfig() promconfig.HTTPClientConfig {
	c := promconfig.DefaultHTTPClientConfig
	c.BasicAuth = rw.BasicAuth
	c.TLSConfig = rw.TLSConfig
	if rw.BearerTokenFile != "" {
		c.Authorization = &promconfig.Authorization{Type: "Bearer", CredentialsFile: rw.BearerTokenFile}
	}
	if len(rw.Headers) > 0 {
		h := &promconfig.Headers{Headers: map[string]promconfig.Header{}}
		for k, v := range rw.Headers {
			h.Headers[k] = promconfig.Header{Values: []string{v}}
		}
		c.HTTPHeaders = h
	}
	return c
}

// resolve fills the defaults and makes file paths relative to dir.
func (rw *RemoteWrite) resolve(dir string) {
	if rw.SendInterval == 0 {
		rw.SendInterval = Duration(DefaultSendInterval)
	}
	if rw.RemoteTimeout == 0 {
		rw.RemoteTimeout = Duration(DefaultRemoteTimeout)
	}
	if rw.Queue.MaxSamplesPerSend == 0 {
		rw.Queue.MaxSamplesPerSend = DefaultMaxSamplesPerSend
	}
	if rw.Queue.Capacity == 0 {
		rw.Queue.Capacity = DefaultQueueCapacity
	}
	if rw.BearerTokenFile != "" {
		rw.BearerTokenFile = promconfig.JoinDir(dir, rw.BearerTokenFile)
	}
	if rw.BasicAuth != nil {
		rw.BasicAuth.SetDirectory(dir)
	}
	rw.TLSConfig.SetDirectory(dir)
}

func validateRemoteWrite(targets []RemoteWrite) error {
	names := map[string]int{}
	for i := range targets {
		rw := &targets[i]
		key := func(k string) string { return fmt.Sprintf("remote_write[%d].%s", i, k) }
		if rw.URL == "" {
			return Errorf(key("url"), "must be set")
		}
		if err := CheckURL(key("url"), rw.URL); err != nil {
			return err
		}
		if j, ok := names[rw.TargetName()]; ok {
			return Errorf(key("name"), "%q is the name of remote_write[%d] too: give each target its own", rw.TargetName(), j)
		}
		names[rw.TargetName()] = i
		if d := time.Duration(rw.SendInterval); d <= 0 || d > MaxSendInterval {
			return Errorf(key("send_interval"), "%s is not between 0 and %s (PromQL looks back 5m for a sample)",
				rw.SendInterval, model.Duration(MaxSendInterval))
		}
		if rw.RemoteTimeout <= 0 {
			return Errorf(key("remote_timeout"), "must be positive")
		}
		if rw.Queue.MaxSamplesPerSend < 0 {
			return Errorf(key("queue.max_samples_per_send"), "must be positive")
		}
		if rw.Queue.Capacity < rw.Queue.MaxSamplesPerSend {
			return Errorf(key("queue.capacity"), "%d is below queue.max_samples_per_send (%d)", rw.Queue.Capacity, rw.Queue.MaxSamplesPerSend)
		}
		for name := range rw.ExternalLabels {
			if !model.LabelName(name).IsValidLegacy() || strings.HasPrefix(name, "__") && name != "__replica__" {
				return Errorf(key("external_labels."+name), "is not a label name")
			}
		}
		if rw.ReplicaLabel != "" && !model.LabelName(rw.ReplicaLabel).IsValidLegacy() {
			return Errorf(key("replica_label"), "%q is not a label name", rw.ReplicaLabel)
		}
		if rw.History.MaxAge < 0 {
			return Errorf(key("history.max_age"), "must not be negative")
		}
		if rw.BasicAuth != nil && rw.BearerTokenFile != "" {
			return Errorf(key("bearer_token_file"), "basic_auth and bearer_token_file are mutually exclusive")
		}
		c := rw.HTTPClientConfig()
		if err := c.Validate(); err != nil {
			return Errorf(fmt.Sprintf("remote_write[%d]", i), "%v", err)
		}
	}
	return nil
}
