package fakecloud

import (
	"fmt"
	"net/http"
	"time"
)

// ECBPath is the path of the ECB's daily reference rates file.
const ECBPath = "/stats/eurofxref/eurofxref-daily.xml"

// ECBOptions configures NewECB.
type ECBOptions struct {
	// Day returns the date the rates are of (default: today, UTC).
	Day func() time.Time
	// USD is how many US dollars a euro is worth (default 1.08).
	USD float64
}

// ECB is a fake of the ECB's eurofxref-daily.xml: one day of reference
// rates, a euro's value in USD, GBP, JPY and CHF, in the file's XML
// format (gesmes envelope, Cube elements).
type ECB struct {
	oneAPI
	opts ECBOptions
}

// NewECB returns the fake.
func NewECB(opts ECBOptions) *ECB {
	if opts.Day == nil {
		opts.Day = func() time.Time { return time.Now().UTC() }
	}
	if opts.USD == 0 {
		opts.USD = 1.08
	}
	e := &ECB{opts: opts}
	e.handler = e.Faults.Wrap(http.HandlerFunc(e.serve), func(status int, msg string) (string, []byte) {
		return "text/html", []byte("<html><body>" + msg + "</body></html>")
	})
	return e
}

func (e *ECB) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != ECBPath {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender>
		<gesmes:name>European Central Bank</gesmes:name>
	</gesmes:Sender>
	<Cube>
		<Cube time='%s'>
			<Cube currency='USD' rate='%.4f'/>
			<Cube currency='JPY' rate='162.53'/>
			<Cube currency='GBP' rate='0.85630'/>
			<Cube currency='CHF' rate='0.9402'/>
		</Cube>
	</Cube>
</gesmes:Envelope>
`, e.opts.Day().Format(time.DateOnly), e.opts.USD)
}
