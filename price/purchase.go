package price

import (
	"fmt"
	"math"
)

// checkPurchase checks a catalog GPU's purchase price: a finite number, not
// negative, and never without its source (nor a source without a price):
// a default the owned provider and the planner show must be traceable.
func checkPurchase(g GPU) error {
	d := describe(g.Model, g.Form, g.MemoryGB)
	switch {
	case math.IsNaN(g.PurchaseUSD) || math.IsInf(g.PurchaseUSD, 0) || g.PurchaseUSD < 0:
		return fmt.Errorf("gpu %s: purchase_usd %g is not a price", d, g.PurchaseUSD)
	case g.PurchaseUSD > 0 && g.PurchaseSource == "":
		return fmt.Errorf("gpu %s: purchase_usd needs a purchase_source", d)
	case g.PurchaseUSD == 0 && g.PurchaseSource != "":
		return fmt.Errorf("gpu %s: purchase_source without a purchase_usd", d)
	}
	return nil
}

// Find returns the catalog GPUs of model that also match form and memGB
// where those are given (not empty, not zero), in GPUs() order.
func (c *Catalog) Find(model, form string, memGB float64) []GPU {
	var out []GPU
	for _, g := range c.gpus {
		if g.Model == model && (form == "" || g.Form == form) && (memGB == 0 || g.MemoryGB == memGB) {
			out = append(out, g)
		}
	}
	return out
}
