package export

import (
	"bufio"
	"context"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/query"
)

// writeCSV writes Header, then one row per point. Each series' label
// fields are encoded once; a row adds its time and prices to them.
func writeCSV(ctx context.Context, src query.Source, w io.Writer, req Request) (Result, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	var res Result
	bw.WriteString(strings.Join(Header, ",") + "\n")
	var prefix, row []byte
	err := each(ctx, src, &req, &res, func(s *store.Series) error {
		res.Series++
		prefix = prefix[:0]
		for i := range price.Labels {
			prefix = csvField(prefix, price.Labels[i].Value(&s.Labels))
			prefix = append(prefix, ',')
		}
		count := s.Labels.GPUCount
		for _, p := range s.Points {
			row = append(row[:0], prefix...)
			row = p.Time.UTC().AppendFormat(row, time.RFC3339Nano)
			if p.Withdrawn {
				row = append(row, ",,,true,\n"...)
			} else {
				row = append(row, ',')
				row = strconv.AppendFloat(row, p.USDPerHour, 'f', -1, 64)
				row = append(row, ',')
				if gpu := query.PerGPU.Of(p.USDPerHour, count); !math.IsNaN(gpu) {
					row = strconv.AppendFloat(row, gpu, 'f', -1, 64)
				}
				row = append(row, ",false,"...)
				if p.CurrencyPerHour != 0 {
					row = strconv.AppendFloat(row, p.CurrencyPerHour, 'f', -1, 64)
				}
				row = append(row, '\n')
			}
			if _, err := bw.Write(row); err != nil {
				return err
			}
			res.Samples++
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	return res, bw.Flush()
}
