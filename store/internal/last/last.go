// Package last is what the SQL stores (store/sqlite, store/postgres) share
// above their SQL: the in-memory state of every series' last point, the
// diff of a refresh against it, the checks of what Record and Backfill are
// given, the write order of a backfill, and the series table's columns as
// the price label table names them.
//
// A store keeps every series' last point in memory, loaded when it opens
// and updated only after a commit succeeds, so that a refresh is diffed
// without reading the database and writes only the changes.
package last

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// Series is one series' row and last point as the store knows them.
type Series struct {
	ID     int64 // 0 until inserted
	Key    price.SeriesKey
	Labels Labels

	HasPoint  bool
	TS        int64 // last point, unix ms
	USD       float64
	Amount    float64 // the same in the series' currency; 0 for USD
	Withdrawn bool

	seen uint64 // generation of the last Diff that listed the series
}

// The series table's columns: the key labels, then the others
// (ValueLabels), each named after its label.
var (
	ValueLabels = slices.DeleteFunc(slices.Clone(price.Labels), func(l price.Label) bool { return l.Key() })
	Columns     = append(slices.Clone(price.KeyLabels), ValueLabels...)
)

// ColumnList is the names of the columns ls, each prefixed with prefix.
func ColumnList(ls []price.Label, prefix string) string {
	names := price.LabelNames(ls)
	for i := range names {
		names[i] = prefix + names[i]
	}
	return strings.Join(names, ", ")
}

// ColumnArgs are q's values of the columns ls, numbers as float64.
func ColumnArgs(ls []price.Label, q *price.Quote) []any {
	args := make([]any, len(ls), len(ls)+1)
	for i := range ls {
		if ls[i].Numeric() {
			args[i] = ls[i].Number(q)
		} else {
			args[i] = ls[i].Value(q)
		}
	}
	return args
}

// LabelFields are pointers to q's fields of Columns, for Scan.
func LabelFields(q *price.Quote) []any {
	out := make([]any, len(Columns))
	for i := range Columns {
		out[i] = Columns[i].Field(q)
	}
	return out
}

// Labels are the values of a series' ValueLabels, as label values, so
// that re-mapping a GPU is detected without reading the row.
type Labels []string

// Same reports whether q carries the labels l. It is LabelsOf(q) == l
// without allocating: Diff calls it for every quote of every refresh.
func (l Labels) Same(q *price.Quote) bool {
	for i := range ValueLabels {
		if !ValueLabels[i].Is(q, l[i]) {
			return false
		}
	}
	return true
}

// LabelsOf returns q's ValueLabels.
func LabelsOf(q *price.Quote) Labels {
	l := make(Labels, len(ValueLabels))
	for i := range ValueLabels {
		l[i] = ValueLabels[i].Value(q)
	}
	return l
}

// SetLabels sets q to the labels of the series with key k and labels l,
// every other field zero; numbers are rounded as their label values are.
// It fills the caller's quote because the label table's accessors make a
// quote of its own escape to the heap.
func SetLabels(q *price.Quote, k price.SeriesKey, l Labels) {
	*q = k.Labels()
	for i := range ValueLabels {
		ValueLabels[i].SetValue(q, l[i])
	}
}

// Number parses a formatted label value back into the number stored for
// it. The empty string (absent) is 0.
func Number(label string) float64 {
	if label == "" {
		return 0
	}
	v, _ := strconv.ParseFloat(label, 64) // produced by price.FormatNumber
	return v
}

// Filter turns q's labels into a WHERE clause (" WHERE ..." or "") over
// series whose columns are named with prefix; param renders the
// placeholder of the n-th argument (from 1), as the driver wants it.
func Filter(q store.Query, prefix string, param func(n int) string) (string, []any) {
	var (
		conds []string
		args  []any
	)
	add := func(col string, v any) {
		args = append(args, v)
		conds = append(conds, prefix+col+" = "+param(len(args)))
	}
	want := q.Labels()
	for i := range price.SeriesLabels {
		l := &price.SeriesLabels[i]
		v := l.Value(&want)
		switch {
		case v == "": // any
		case l.Numeric():
			add(l.Name, Number(v))
		default:
			add(l.Name, v)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// MS is t in the stores' resolution: unix milliseconds.
func MS(t time.Time) int64 { return t.UnixMilli() }

// MSRange is [start, end] in the stores' milliseconds, a zero bound open
// (math.MinInt64, math.MaxInt64); ok is false when the range is empty.
func MSRange(start, end time.Time) (lo, hi int64, ok bool) {
	lo, hi = math.MinInt64, math.MaxInt64
	if !start.IsZero() {
		lo = MS(start)
	}
	if !end.IsZero() {
		hi = MS(end)
	}
	return lo, hi, hi >= lo
}

// FromMS is the inverse of MS, in UTC.
func FromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// OKPoll is a provider's last successful refresh, in unix ms.
type OKPoll struct{ Start, End int64 }

// Point is a point to write.
type Point struct {
	S         *Series
	TS        int64
	USD       float64
	Amount    float64 // currency_per_hour; 0 for a USD price
	Withdrawn bool
}

// Value is the point's usd_per_hour: nil (NULL) for a withdrawal.
func (p Point) Value() any {
	if p.Withdrawn {
		return nil
	}
	return p.USD
}

// AmountValue is the point's currency_per_hour: nil (NULL) for a
// withdrawal and for a USD price.
func (p Point) AmountValue() any { return AmountValue(p.Amount, p.Withdrawn) }

// AmountValue is a stored currency_per_hour: nil (NULL) for a withdrawal
// and for a USD price (amount 0).
func AmountValue(amount float64, withdrawn bool) any {
	if withdrawn || amount == 0 {
		return nil
	}
	return amount
}

// Relabel is new labels of an existing series.
type Relabel struct {
	S *Series
	L Labels
}

// Change is what one write transaction changes in the in-memory state:
// planned from that state before the transaction, applied to it only once
// the transaction has committed.
type Change struct {
	Fresh    []*Series // new series; the store sets their IDs as it inserts them
	Relabels []Relabel
	// Points holds every point a Record writes, and only the newest one
	// per series that a backfill batch writes.
	Points []Point
	// OKProvider, when set, had the successful refresh OK.
	OKProvider string
	OK         OKPoll
}

// State is the in-memory state of a store. Writers (Diff, Apply, Lookup
// and New on the write path) must be serialized by the store, which holds
// its write lock from Diff to Apply; readers (LastKnown, LastPoints, IDs)
// may run concurrently with them.
type State struct {
	gen uint64 // Diff generation, for Series.seen; writers only

	// mu guards the maps against readers while a writer applies a
	// committed change. Writers read the maps without it: only writers
	// modify them.
	mu         sync.RWMutex
	byKey      map[price.SeriesKey]*Series
	byProvider map[string][]*Series
	lastOK     map[string]OKPoll
}

// NewState returns an empty state.
func NewState() *State {
	return &State{byKey: map[price.SeriesKey]*Series{}, byProvider: map[string][]*Series{}, lastOK: map[string]OKPoll{}}
}

// Load adds a committed series while the store opens.
func (s *State) Load(sr *Series) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(sr)
}

// LoadOK sets provider's last successful refresh while the store opens.
func (s *State) LoadOK(provider string, ok OKPoll) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastOK[provider] = ok
}

// ReplaceProvider replaces what the state knows of provider, read again
// from the database (another process wrote it): its series and its last
// successful refresh (nil: none). It is a writer.
func (s *State) ReplaceProvider(provider string, series []*Series, ok *OKPoll) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sr := range s.byProvider[provider] {
		delete(s.byKey, sr.Key)
	}
	delete(s.byProvider, provider)
	for _, sr := range series {
		s.add(sr)
	}
	if ok != nil {
		s.lastOK[provider] = *ok
	} else {
		delete(s.lastOK, provider)
	}
}

func (s *State) add(sr *Series) {
	s.byKey[sr.Key] = sr
	s.byProvider[sr.Key.Provider] = append(s.byProvider[sr.Key.Provider], sr)
}

// Len is the number of series.
func (s *State) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byKey)
}

// Lookup returns the series with key k, nil if there is none; for writers.
func (s *State) Lookup(k price.SeriesKey) *Series { return s.byKey[k] }

// Apply brings the state up to a committed change. A point older than its
// series' last one (a refresh older than backfilled history) leaves the
// last point as it is.
func (s *State) Apply(c *Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sr := range c.Fresh {
		s.add(sr)
	}
	for _, rl := range c.Relabels {
		rl.S.Labels = rl.L
	}
	for _, p := range c.Points {
		if sr := p.S; !sr.HasPoint || p.TS >= sr.TS {
			sr.HasPoint, sr.TS, sr.USD, sr.Amount, sr.Withdrawn = true, p.TS, p.USD, p.Amount, p.Withdrawn
		}
	}
	if c.OKProvider != "" {
		if prev, found := s.lastOK[c.OKProvider]; !found || c.OK.Start >= prev.Start {
			s.lastOK[c.OKProvider] = c.OK
		}
	}
}

// Diff compares a successful refresh with the state: new series, changed
// labels, changed prices, and withdrawals of the provider's live series
// that snap does not list. Should a snapshot list one series twice, its
// first quote counts.
func (s *State) Diff(snap *price.Snapshot) (Change, store.Result) {
	var (
		c       Change
		res     store.Result
		ts      = MS(snap.Time)
		pending map[price.SeriesKey]bool // series new in this snapshot
	)
	s.gen++
	for i := range snap.Quotes {
		q := &snap.Quotes[i]
		key := q.Key()
		sr := s.byKey[key]
		if sr == nil {
			if pending[key] {
				continue
			}
			if pending == nil {
				pending = map[price.SeriesKey]bool{}
			}
			pending[key] = true
			sr = &Series{Key: key, Labels: LabelsOf(q)}
			c.Fresh = append(c.Fresh, sr)
			c.Points = append(c.Points, Point{S: sr, TS: ts, USD: q.USDPerHour, Amount: q.CurrencyPerHour})
			continue
		}
		if sr.seen == s.gen {
			continue
		}
		sr.seen = s.gen
		if !sr.Labels.Same(q) {
			c.Relabels = append(c.Relabels, Relabel{sr, LabelsOf(q)})
		}
		if !sr.HasPoint || sr.Withdrawn || sr.USD != q.USDPerHour || sr.Amount != q.CurrencyPerHour {
			c.Points = append(c.Points, Point{S: sr, TS: ts, USD: q.USDPerHour, Amount: q.CurrencyPerHour})
		}
	}
	res.NewSeries, res.Points = len(c.Fresh), len(c.Points)
	for _, sr := range s.byProvider[snap.Provider] {
		if sr.seen != s.gen && sr.HasPoint && !sr.Withdrawn {
			c.Points = append(c.Points, Point{S: sr, TS: ts, Withdrawn: true})
			res.Withdrawals++
		}
	}
	return c, res
}

// LastKnown implements store.Store's LastKnown from the state: a snapshot
// for every provider with a live series or a successful poll, sorted by
// provider, quotes sorted by series key; each quote's ObservedAt is the
// snapshot's Time. Marketplace aggregates (offer counts, quantiles) are not
// stored and come back zero.
func (s *State) LastKnown() []*price.Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*price.Snapshot
	for p := range s.byProvider {
		if snap := s.lastKnownOf(p); snap != nil {
			out = append(out, snap)
		}
	}
	for p, ok := range s.lastOK {
		if _, done := s.byProvider[p]; !done {
			out = append(out, &price.Snapshot{Provider: p, Time: FromMS(ok.End)})
		}
	}
	slices.SortFunc(out, func(a, b *price.Snapshot) int { return strings.Compare(a.Provider, b.Provider) })
	return out
}

// LastKnownOf is provider's snapshot of LastKnown, or nil when it has
// neither live series nor a successful poll.
func (s *State) LastKnownOf(provider string) *price.Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lastKnownOf(provider)
}

// lastKnownOf is LastKnownOf; s.mu is held.
func (s *State) lastKnownOf(p string) *price.Snapshot {
	snap := &price.Snapshot{Provider: p}
	ok, found := s.lastOK[p]
	if found {
		snap.Time = FromMS(ok.End)
	}
	var live []*Series
	for _, sr := range s.byProvider[p] {
		if sr.HasPoint && !sr.Withdrawn {
			live = append(live, sr)
		}
	}
	if len(live) == 0 && !found {
		return nil
	}
	slices.SortFunc(live, func(a, b *Series) int { return a.Key.Compare(b.Key) })
	snap.Quotes = make([]price.Quote, len(live))
	for i, sr := range live {
		SetLabels(&snap.Quotes[i], sr.Key, sr.Labels)
		snap.Quotes[i].USDPerHour, snap.Quotes[i].CurrencyPerHour, snap.Quotes[i].ObservedAt = sr.USD, sr.Amount, snap.Time
	}
	return snap
}

// LastPoints implements store.Store's LastPoints from the state.
func (s *State) LastPoints(provider string) map[price.SeriesKey]time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[price.SeriesKey]time.Time, len(s.byProvider[provider]))
	for _, sr := range s.byProvider[provider] {
		if sr.HasPoint {
			out[sr.Key] = FromMS(sr.TS)
		}
	}
	return out
}

// IDs returns the ids of every series, sorted.
func (s *State) IDs() []int64 {
	s.mu.RLock()
	ids := make([]int64, 0, len(s.byKey))
	for _, sr := range s.byKey {
		ids = append(ids, sr.ID)
	}
	s.mu.RUnlock()
	slices.Sort(ids)
	return ids
}

// PlanRecord is what a store writes for a refresh checked by CheckRecord:
// its change against the state (none without a snapshot), with the poll's
// span as the provider's last OK poll when it succeeded, and the result
// the writes will have. The caller holds its write lock.
func (s *State) PlanRecord(poll store.Poll, snap *price.Snapshot) (Change, store.Result) {
	var (
		c   Change
		res store.Result
	)
	if snap != nil {
		c, res = s.Diff(snap)
	}
	if poll.OK {
		start := MS(poll.Start)
		c.OKProvider, c.OK = poll.Provider, OKPoll{Start: start, End: start + poll.Duration.Milliseconds()}
	}
	return c, res
}

// CheckRecord checks what Record is given: the poll must be OK exactly
// when snap is not nil, and every quote must be of poll.Provider with a
// finite price.
func CheckRecord(poll store.Poll, snap *price.Snapshot) error {
	switch {
	case poll.Provider == "":
		return errors.New("poll has no provider")
	case poll.OK && snap == nil:
		return errors.New("successful poll without a snapshot")
	case !poll.OK && snap != nil:
		return errors.New("failed poll with a snapshot")
	case snap == nil:
		return nil
	case snap.Provider != poll.Provider:
		return fmt.Errorf("snapshot of provider %q", snap.Provider)
	case snap.Time.IsZero():
		return errors.New("snapshot has no time")
	}
	for i := range snap.Quotes {
		if err := CheckQuote(&snap.Quotes[i]); err != nil {
			return err
		}
		if p := snap.Quotes[i].Provider; p != poll.Provider {
			return fmt.Errorf("quote %s: provider %q in the snapshot of %q", snap.Quotes[i].Key(), p, poll.Provider)
		}
	}
	return nil
}

// CheckQuote rejects what the schema cannot tell apart: SQLite stores NaN
// as NULL, which would read back as a withdrawal.
func CheckQuote(q *price.Quote) error {
	if q.Provider == "" {
		return fmt.Errorf("quote %s: no provider", q.Key())
	}
	if math.IsNaN(q.USDPerHour) || math.IsInf(q.USDPerHour, 0) {
		return fmt.Errorf("quote %s: price %v", q.Key(), q.USDPerHour)
	}
	if math.IsNaN(q.CurrencyPerHour) || math.IsInf(q.CurrencyPerHour, 0) {
		return fmt.Errorf("quote %s: price %v %s", q.Key(), q.CurrencyPerHour, q.Currency)
	}
	return nil
}

// CheckBackfill checks what Backfill is given: CheckQuote, and a time.
func CheckBackfill(quotes []price.Quote) error {
	for i := range quotes {
		if err := CheckQuote(&quotes[i]); err != nil {
			return err
		}
		if quotes[i].EffectiveAt.IsZero() && quotes[i].ObservedAt.IsZero() {
			return fmt.Errorf("quote %s: no time", quotes[i].Key())
		}
	}
	return nil
}

// BackfillRow is one backfilled quote placed in write order.
type BackfillRow struct {
	Ord int64 // series order: its id, or after every id for a new series
	TS  int64
	I   int // index in the input, so that the first of two equal points wins
	S   *Series
}

// PlanBackfill places quotes in write order: by series (existing ones by
// id, then new ones in order of first appearance, as that is the order
// their ids will have), then time, then input order. New series come with
// ID 0 (a row's S is shared by every row of its series). The caller holds
// the write lock.
func (s *State) PlanBackfill(quotes []price.Quote) []BackfillRow {
	rows := make([]BackfillRow, len(quotes))
	type newSeries struct {
		s   *Series
		ord int64
	}
	var (
		fresh   map[price.SeriesKey]newSeries
		last    *Series // quotes of one series often come in runs
		lastOrd int64
	)
	for i := range quotes {
		q := &quotes[i]
		if key := q.Key(); last == nil || last.Key != key {
			if sr := s.byKey[key]; sr != nil {
				last, lastOrd = sr, sr.ID
			} else if ns, ok := fresh[key]; ok {
				last, lastOrd = ns.s, ns.ord
			} else {
				if fresh == nil {
					fresh = map[price.SeriesKey]newSeries{}
				}
				ns := newSeries{s: &Series{Key: key, Labels: LabelsOf(q)}, ord: math.MaxInt64/2 + int64(len(fresh))}
				fresh[key] = ns
				last, lastOrd = ns.s, ns.ord
			}
		}
		t := q.EffectiveAt
		if t.IsZero() {
			t = q.ObservedAt
		}
		rows[i] = BackfillRow{Ord: lastOrd, TS: MS(t), I: i, S: last}
	}
	slices.SortFunc(rows, func(a, b BackfillRow) int {
		if a.Ord != b.Ord {
			return cmp.Compare(a.Ord, b.Ord)
		}
		if a.TS != b.TS {
			return cmp.Compare(a.TS, b.TS)
		}
		return cmp.Compare(a.I, b.I)
	})
	return rows
}
