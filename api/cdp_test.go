package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file drives a headless Chromium for the web UI's tests with the
// Chrome DevTools Protocol over --remote-debugging-pipe: the browser reads
// JSON commands, each ended by a NUL byte, on its file descriptor 3 and
// writes answers and events on 4. A pipe needs neither a port nor a
// websocket client, so the test adds no dependency.

// findChromium returns the Chromium binary, or skips the test when there
// is none unless GPUPRICE_REQUIRE_INTEGRATION is set.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("GPUPRICE_REQUIRE_INTEGRATION") != "" {
		t.Fatal("chromium not found and GPUPRICE_REQUIRE_INTEGRATION is set (apt-get install -y chromium)")
	}
	t.Skip("chromium not installed")
	return ""
}

// cdpMessage is a command, its answer, or an event.
type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    any             `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// browser is a running Chromium. Its methods are safe for concurrent use.
type browser struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	out    *os.File // the browser's fd 3
	in     *os.File // the browser's fd 4
	exited chan struct{}

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpMessage
	pages   map[string]*page // by session
	gone    bool             // the browser closed its end
}

// launchChromium starts a headless Chromium with a fresh profile and no
// network of its own: without the background-networking flags it tries
// to reach Google's services, which a closed network refuses noisily.
func launchChromium(t *testing.T) *browser {
	t.Helper()
	bin := findChromium(t)
	cmdIn, out, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	in, cmdOut, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{
		stderr: &syncBuffer{}, out: out, in: in, exited: make(chan struct{}),
		pending: map[int]chan cdpMessage{}, pages: map[string]*page{},
	}
	b.cmd = exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	b.cmd.ExtraFiles = []*os.File{cmdIn, cmdOut}
	b.cmd.Stdout, b.cmd.Stderr = b.stderr, b.stderr
	// Chromium's helper processes may hold its output open for a moment
	// after it exits.
	b.cmd.WaitDelay = 5 * time.Second
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	cmdIn.Close()
	cmdOut.Close()
	go func() {
		b.cmd.Wait()
		close(b.exited)
	}()
	go b.read()
	t.Cleanup(func() { b.close(t) })
	return b
}

// read dispatches answers to their callers and events to their pages
// until the browser closes its end.
func (b *browser) read() {
	r := bufio.NewReaderSize(b.in, 1<<20)
	for {
		raw, err := r.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.gone = true
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m struct {
			cdpMessage
			Params json.RawMessage `json:"params"`
		}
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch, ok := b.pending[m.ID]; ok {
				ch <- m.cdpMessage
				delete(b.pending, m.ID)
			}
		} else if p := b.pages[m.SessionID]; p != nil {
			p.event(m.Method, m.Params)
		}
		b.mu.Unlock()
	}
}

// call sends a command (to a page's session, or to the browser when
// session is empty) and decodes its result into result, if not nil.
func (b *browser) call(ctx context.Context, session, method string, params, result any) error {
	if params == nil {
		params = struct{}{}
	}
	ch := make(chan cdpMessage, 1)
	b.mu.Lock()
	if b.gone {
		b.mu.Unlock()
		return fmt.Errorf("%s: the browser closed the connection", method)
	}
	b.nextID++
	msg := cdpMessage{ID: b.nextID, SessionID: session, Method: method, Params: params}
	b.pending[msg.ID] = ch
	raw, err := json.Marshal(msg)
	if err == nil {
		_, err = b.out.Write(append(raw, 0))
	}
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	case m, ok := <-ch:
		switch {
		case !ok:
			return fmt.Errorf("%s: the browser closed the connection", method)
		case m.Error != nil:
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		case result != nil:
			return json.Unmarshal(m.Result, result)
		}
		return nil
	}
}

func (b *browser) close(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.call(ctx, "", "Browser.close", nil, nil)
	b.out.Close()
	select {
	case <-b.exited:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		<-b.exited
	}
	b.in.Close()
	if t.Failed() {
		t.Logf("chromium's output:\n%s", b.stderr.String())
	}
}

// page is one tab. It collects the console errors, uncaught exceptions
// and failed loads the page reports.
type page struct {
	b       *browser
	session string

	mu       sync.Mutex // guards problems; event runs under b.mu
	problems []string
}

// newPage opens a blank tab of width×height CSS pixels; with scripts
// false, JavaScript is off in it.
func (b *browser) newPage(ctx context.Context, width, height int, scripts bool) (*page, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	p := &page{b: b, session: attached.SessionID}
	b.mu.Lock()
	b.pages[p.session] = p
	b.mu.Unlock()
	for _, c := range []struct {
		method string
		params any
	}{
		{"Runtime.enable", nil},
		{"Log.enable", nil},
		{"Page.enable", nil},
		{"Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}},
		{"Emulation.setScriptExecutionDisabled", map[string]any{"value": !scripts}},
	} {
		if err := b.call(ctx, p.session, c.method, c.params, nil); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// event records what a page reports as going wrong.
func (p *page) event(method string, params json.RawMessage) {
	var problem string
	switch method {
	case "Runtime.consoleAPICalled":
		var e struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		if json.Unmarshal(params, &e) == nil && (e.Type == "error" || e.Type == "assert") {
			var parts []string
			for _, a := range e.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, fmt.Sprint(a.Value))
				}
			}
			problem = "console." + e.Type + ": " + strings.Join(parts, " ")
		}
	case "Runtime.exceptionThrown":
		var e struct {
			Details struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		json.Unmarshal(params, &e)
		problem = "uncaught: " + e.Details.Text + " " + e.Details.Exception.Description
	case "Log.entryAdded": // failed loads, CSP violations, ...
		var e struct {
			Entry struct {
				Level, Source, Text, URL string
			} `json:"entry"`
		}
		if json.Unmarshal(params, &e) == nil && e.Entry.Level == "error" {
			problem = fmt.Sprintf("%s error: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
		}
	}
	if problem != "" {
		p.mu.Lock()
		p.problems = append(p.problems, problem)
		p.mu.Unlock()
	}
}

// Problems returns what the page reported as going wrong so far.
func (p *page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// navigate opens url; it returns once the navigation is committed, not
// when the page is loaded (wait for that with waitFor).
func (p *page) navigate(ctx context.Context, url string) error {
	var res struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.b.call(ctx, p.session, "Page.navigate", map[string]any{"url": url}, &res); err != nil {
		return err
	}
	if res.ErrorText != "" {
		return fmt.Errorf("navigate to %s: %s", url, res.ErrorText)
	}
	return nil
}

// eval evaluates a JavaScript expression in the page, awaiting it if it is
// a promise, and decodes its JSON value into out (if not nil).
func (p *page) eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.b.call(ctx, p.session, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true,
	}, &res)
	if err != nil {
		return err
	}
	if e := res.ExceptionDetails; e != nil {
		return fmt.Errorf("evaluate %q: %s %s", expr, e.Text, e.Exception.Description)
	}
	if out == nil || len(res.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(res.Result.Value, out)
}

// waitFor evaluates cond, a JavaScript expression, every 25ms until it is
// true. Errors are retried: while a page loads, it may have no context to
// evaluate in.
func (p *page) waitFor(ctx context.Context, what, cond string) error {
	var last error
	for {
		var ok bool
		last = p.eval(ctx, "!!("+cond+")", &ok)
		if last == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last evaluation: %v)", what, ctx.Err(), last)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// screenshot writes a PNG of the whole page to w.
func (p *page) screenshot(ctx context.Context, w io.Writer) error {
	var shot struct {
		Data string `json:"data"`
	}
	var metrics struct {
		Content struct {
			Width  float64 `json:"width"`
			Height float64 `json:"height"`
		} `json:"cssContentSize"`
	}
	if err := p.b.call(ctx, p.session, "Page.getLayoutMetrics", nil, &metrics); err != nil {
		return err
	}
	clip := map[string]any{"x": 0, "y": 0, "width": metrics.Content.Width, "height": metrics.Content.Height, "scale": 1}
	if err := p.b.call(ctx, p.session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true, "clip": clip}, &shot); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		return err
	}
	_, err = w.Write(png)
	return err
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
