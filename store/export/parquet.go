package export

import (
	"context"
	"io"
	"math"

	"github.com/parquet-go/parquet-go"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/query"
)

// parquetRow is one row of the Parquet export: the columns of Header.
// Labels are dictionary-encoded (a few distinct values per column), time
// is a TIMESTAMP(MILLIS) in UTC, delta-encoded, and the prices are null for
// a withdrawal (and the per-GPU price when the GPU count is unknown).
// gpu_memory_gb and gpu_count are numbers, 0 when absent. Every column is
// Snappy-compressed: zstd compresses better, but its encoders hold several
// megabytes per column (about 90 MB for the export against 23 MB).
type parquetRow struct {
	Provider      string   `parquet:"provider,dict,snappy"`
	InstanceType  string   `parquet:"instance_type,dict,snappy"`
	Region        string   `parquet:"region,dict,snappy"`
	Zone          string   `parquet:"zone,dict,snappy"`
	Geo           string   `parquet:"geo,dict,snappy"`
	PricingModel  string   `parquet:"pricing_model,dict,snappy"`
	GPUModel      string   `parquet:"gpu_model,dict,snappy"`
	GPUForm       string   `parquet:"gpu_form,dict,snappy"`
	GPUMemoryGB   float64  `parquet:"gpu_memory_gb,snappy"`
	GPUCount      float64  `parquet:"gpu_count,snappy"`
	GPURaw        string   `parquet:"gpu_raw,dict,snappy"`
	Currency      string   `parquet:"currency,dict,snappy"`
	Time          int64    `parquet:"time,timestamp(millisecond),delta,snappy"`
	USDPerHour    *float64 `parquet:"usd_per_hour,optional,snappy"`
	GPUUSDPerHour *float64 `parquet:"gpu_usd_per_hour,optional,snappy"`
	Withdrawn     bool     `parquet:"withdrawn,snappy"`
	// CurrencyPerHour is the instance price in Currency; null for USD.
	CurrencyPerHour *float64 `parquet:"currency_per_hour,optional,snappy"`
}

// labelRow is the row of l's labels, every other column zero. Its columns
// are price.Labels (TestParquetLabels holds them together).
func labelRow(l *price.Quote) parquetRow {
	return parquetRow{
		Provider: l.Provider, InstanceType: l.InstanceType, Region: l.Region, Zone: l.Zone, Geo: l.Geo,
		PricingModel: string(l.PricingModel), GPUModel: l.GPUModel, GPUForm: l.GPUForm,
		GPUMemoryGB: l.GPUMemoryGB, GPUCount: l.GPUCount, GPURaw: l.GPURaw, Currency: l.Currency,
	}
}

// parquetRowGroup is the rows per row group: the writer buffers one row
// group before it writes it out, so this bounds its memory.
const parquetRowGroup = 64 << 10

// parquetBatch is how many rows are handed to the writer at once.
const parquetBatch = 4096

func writeParquet(ctx context.Context, src query.Source, w io.Writer, req Request) (Result, error) {
	pw := parquet.NewGenericWriter[parquetRow](w,
		parquet.MaxRowsPerRowGroup(parquetRowGroup),
		parquet.CreatedBy("gpuprice", "", ""),
	)
	var res Result
	batch := make([]parquetRow, 0, parquetBatch)
	// prices holds the batch's non-null prices, which the rows point to.
	// Its capacity is never exceeded (three prices a row at most), so the
	// pointers stay valid.
	prices := make([]float64, 0, 3*parquetBatch)
	flush := func() error {
		_, err := pw.Write(batch)
		res.Samples += len(batch)
		batch, prices = batch[:0], prices[:0]
		return err
	}
	err := each(ctx, src, &req, &res, func(s *store.Series) error {
		res.Series++
		l := &s.Labels
		base := labelRow(l)
		for _, p := range s.Points {
			row := base
			row.Time = p.Time.UnixMilli()
			row.Withdrawn = p.Withdrawn
			if !p.Withdrawn {
				prices = append(prices, p.USDPerHour)
				row.USDPerHour = &prices[len(prices)-1]
				if gpu := query.PerGPU.Of(p.USDPerHour, l.GPUCount); !math.IsNaN(gpu) {
					prices = append(prices, gpu)
					row.GPUUSDPerHour = &prices[len(prices)-1]
				}
				if p.CurrencyPerHour != 0 {
					prices = append(prices, p.CurrencyPerHour)
					row.CurrencyPerHour = &prices[len(prices)-1]
				}
			}
			batch = append(batch, row)
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return res, err
	}
	return res, pw.Close()
}
