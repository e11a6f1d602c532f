package planner

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable renders p for a terminal: the rented prices and where they
// come from, the options with their monthly and total costs, the
// break-even utilisations, then each option's arithmetic and the notes.
// Missing values are "-", with the reason beside them.
func WriteTable(w io.Writer, p *Plan) error {
	r := &p.Request
	fmt.Fprintf(w, "Rent or buy %s: %s, over %d months.\n", describeGPU(r), p.Workload.Formula, r.Months)
	fmt.Fprintf(w, "Rented prices: the %s of the cheapest price per GPU-hour, sampled every %s over the %s up to %s.\n",
		r.Stat, r.Step, r.Window, r.End.Format(time.RFC3339))
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "Warning: %s.\n", warn)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PRICE\tUSD/GPU-H\tMIN\tMEDIAN\tLAST\tCOVERAGE\tHISTORY\tCHEAPEST MOST OFTEN\tVOLATILITY")
	for _, rp := range p.Prices {
		if rp.GPUUSDPerHour == nil && rp.Samples == 0 {
			fmt.Fprintf(tw, "%s\t-\t\t\t\t\t\t%s\t\n", rp.PricingModel, rp.Missing)
			continue
		}
		who, vol := "", ""
		if len(rp.Cheapest) > 0 {
			c := rp.Cheapest[0]
			who = fmt.Sprintf("%s (%.0f%%)", c.SeriesRef, 100*c.Share)
			if n := len(rp.Cheapest) - 1; n > 0 {
				who += fmt.Sprintf(" +%d more", n)
			}
		}
		if v := rp.Volatility; v != nil {
			vol = fmt.Sprintf("cv %s, changed %d×", opt(v.CV), v.Changes)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.0f%%\t%s\t%s\t%s\n", rp.PricingModel, opt(rp.GPUUSDPerHour), opt(rp.Min), opt(rp.Median),
			opt(rp.Last), 100*rp.Coverage, days(rp.HistoryDays), who, vol)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OPTION\tUSD/MONTH\tUSD TOTAL\tUSD/GPU-H\tNOTES")
	for i := range p.Options {
		o := &p.Options[i]
		note := o.Missing
		if o.Missing == "" && o.GPUsOwned > 0 {
			note = fmt.Sprintf("%s GPUs owned, %s busy, %s USD upfront", f(o.GPUsOwned), pct(o.Utilization), money(o.UpfrontUSD))
			if o.PaybackMonths != nil {
				note += fmt.Sprintf(", pays back in %.1f months", *o.PaybackMonths)
				if life := o.Owned.AmortizationHours / HoursPerMonth; *o.PaybackMonths > life {
					note += fmt.Sprintf(" (after its %s-month amortization)", f(life))
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Name, money(o.USDPerMonth), money(o.USDTotal), opt(o.USDPerGPUHour), note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(p.BreakEven) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "BREAK-EVEN\tVS\tRENT USD/GPU-H\tOWN USD/GPU-H (EVERY HOUR)\tBUY ABOVE\tTHIS WORKLOAD")
		for _, b := range p.BreakEven {
			verdict := "rent"
			if b.Buy {
				verdict = "buy"
			}
			above := pct(b.Utilization)
			if b.Utilization != nil && *b.Utilization > 1 {
				above += " (never)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.0f%%: %s\n", b.Owned, b.Versus, f(b.RentUSDPerGPUHour), f(b.OwnUSDPerGPUHour),
				above, 100*b.WorkloadUtilization, verdict)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if p.Cheapest != "" {
		fmt.Fprintf(w, "\nCheapest: %s.\n", p.Cheapest)
	} else {
		fmt.Fprintln(w, "\nNo option could be priced: see the reasons above.")
	}
	header := false
	for i := range p.Options {
		o := &p.Options[i]
		if o.USDPerMonth == nil {
			continue
		}
		if !header {
			fmt.Fprintln(w, "\nArithmetic (USD a month):")
			header = true
		}
		fmt.Fprintf(w, "  %s = %s\n", o.Name, money(o.USDPerMonth))
		for _, l := range o.Arithmetic {
			fmt.Fprintf(w, "    %s = %s  (%s)\n", l.Formula, money(&l.USDPerMonth), l.What)
		}
	}
	if len(p.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range p.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
	return nil
}

// opt renders an optional price, "-" when absent.
func opt(v *float64) string {
	if v == nil {
		return "-"
	}
	return f(*v)
}

// money renders an optional amount of USD with cents.
func money(v *float64) string {
	if v == nil {
		return "-"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.2f", *v), ".00")
}

// pct renders an optional share as a percentage.
func pct(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100**v)
}
