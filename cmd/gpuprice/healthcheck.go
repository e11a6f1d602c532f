package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// defaultServerURL is where the client commands find a running gpuprice.
const defaultServerURL = "http://localhost:9847"

// healthcheckOptions are the flags of `gpuprice healthcheck`.
type healthcheckOptions struct {
	server   *string
	ready    *bool
	timeout  *time.Duration
	insecure *bool
}

func healthcheckFlags(cmd *kingpin.CmdClause) healthcheckOptions {
	return healthcheckOptions{
		server:   cmd.Flag("server.url", "Base URL of the gpuprice to probe; basic auth as https://user:password@host:port.").Default(defaultServerURL).String(),
		ready:    cmd.Flag("ready", "Probe /-/ready (every provider refreshed once, or prices loaded from the store) instead of /-/healthy.").Bool(),
		timeout:  cmd.Flag("timeout", "Give up after this long.").Default("5s").Duration(),
		insecure: cmd.Flag("tls.insecure-skip-verify", "Do not verify the server's certificate (a self-signed one on localhost).").Bool(),
	}
}

// runHealthcheck probes /-/healthy (or /-/ready) of a running gpuprice and
// fails unless it answers 200: the container image's HEALTHCHECK, which
// needs no curl in a distroless image.
func runHealthcheck(ctx context.Context, o healthcheckOptions, out io.Writer) error {
	path := "/-/healthy"
	if *o.ready {
		path = "/-/ready"
	}
	base, err := url.Parse(strings.TrimSuffix(*o.server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("--server.url %q is not an http(s) URL", *o.server)
	}
	probe := base.JoinPath(path)
	ctx, cancel := context.WithTimeout(ctx, *o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, probe.String(), nil)
	if err != nil {
		return err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a probe of this host, not of whatever HTTP_PROXY reaches
	if *o.insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", probe.Redacted(), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	answer := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe %s: %s %s", probe.Redacted(), resp.Status, answer)
	}
	fmt.Fprintf(out, "%s: %s\n", probe.Redacted(), answer)
	return nil
}
