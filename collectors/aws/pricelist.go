package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"

	"golang.org/x/sync/errgroup"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// maxProductPages bounds one instance type's GetProducts walk: its Linux
// shared on-demand rows in every region fit in one page of 100.
const maxProductPages = 100

// odKey is an instance type in a region.
type odKey struct {
	instanceType, region string
}

// onDemand returns the on-demand quote of every GPU instance type in every
// region offering it, from the configured source, and how many rows of
// the source could not be read. A type the source does not price gets no
// on-demand quote (its spot quotes remain).
func (c *Collector) onDemand(ctx context.Context, cfg *aws.Config, facts map[string]gpuFacts, offered map[string][]string) ([]price.Quote, int, error) {
	var (
		prices map[odKey]float64
		bad    int
		err    error
	)
	if c.cfg.OnDemandSource == OnDemandBulk {
		prices, _, bad, err = c.bulkPrices(ctx, regionsOf(offered), func(t string) bool { _, ok := facts[t]; return ok })
	} else {
		prices, bad, err = c.priceList(ctx, cfg, facts, offered)
	}
	if err != nil {
		return nil, 0, err
	}
	var out []price.Quote
	for name, regions := range offered {
		f := facts[name]
		for _, r := range regions {
			if usd, ok := prices[odKey{name, r}]; ok {
				out = append(out, f.quote(name, r, "", price.OnDemand, usd))
			}
		}
	}
	return out, bad, nil
}

// priceList asks the Price List Query API for each GPU instance type's
// Linux, shared-tenancy, no-software, capacity-status-Used rows (one walk
// per type, all regions at once), a few types at a time.
func (c *Collector) priceList(ctx context.Context, cfg *aws.Config, facts map[string]gpuFacts, offered map[string][]string) (map[odKey]float64, int, error) {
	client := c.pricingClient(cfg)
	names := make([]string, 0, len(facts))
	for n := range facts {
		names = append(names, n)
	}
	sort.Strings(names)
	var (
		mu     sync.Mutex
		prices = map[odKey]float64{}
		bad    int
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(c.cfg.Concurrency, 1))
	for _, name := range names {
		want := map[string]bool{}
		for _, r := range offered[name] {
			want[r] = true
		}
		g.Go(func() error {
			return collectors.Safely(func() error {
				got, unread, err := c.productPrices(gctx, client, name, want)
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				bad += unread
				for r, usd := range got {
					prices[odKey{name, r}] = usd
				}
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	return prices, bad, nil
}

// onDemandFilters select the one on-demand row per instance type and
// region that a Linux user pays: shared tenancy, no pre-installed
// software, capacity status Used (not a capacity reservation's rows).
func onDemandFilters(instanceType string) []ptypes.Filter {
	f := func(field, value string) ptypes.Filter {
		return ptypes.Filter{Type: ptypes.FilterTypeTermMatch, Field: aws.String(field), Value: aws.String(value)}
	}
	return []ptypes.Filter{
		f("instanceType", instanceType),
		f("operatingSystem", "Linux"),
		f("tenancy", "Shared"),
		f("preInstalledSw", "NA"),
		f("capacitystatus", "Used"),
	}
}

// productPrices walks instanceType's products and returns its hourly
// on-demand USD price per wanted region, and how many items could not be
// read: such an item is skipped, unless not one item of the walk can be
// read (the format changed), which fails it.
func (c *Collector) productPrices(ctx context.Context, client *pricing.Client, instanceType string, want map[string]bool) (map[string]float64, int, error) {
	in := &pricing.GetProductsInput{
		ServiceCode:   aws.String("AmazonEC2"),
		FormatVersion: aws.String("aws_v1"),
		Filters:       onDemandFilters(instanceType),
		MaxResults:    aws.Int32(100),
	}
	out := map[string]float64{}
	read, bad := 0, 0
	var badErr error
	for page := 0; ; page++ {
		if page == maxProductPages {
			return nil, 0, &collectors.DecodeError{What: "aws GetProducts " + instanceType,
				Err: fmt.Errorf("endless pagination: NextToken still present after %d pages", page)}
		}
		resp, err := client.GetProducts(ctx, in)
		if err != nil {
			return nil, 0, apiError("GetProducts "+instanceType, "", err)
		}
		for _, item := range resp.PriceList {
			region, usd, ok, err := onDemandPrice(item, instanceType)
			if err != nil {
				bad++
				if badErr == nil {
					badErr = err
				}
				continue
			}
			read++
			if !ok || !want[region] {
				continue
			}
			if old, seen := out[region]; !seen || betterPrice(usd, old) {
				out[region] = usd
			}
		}
		next := aws.ToString(resp.NextToken)
		if next == "" {
			if read == 0 && bad > 0 {
				return nil, 0, &collectors.DecodeError{What: "aws price list items of " + instanceType,
					Err: fmt.Errorf("none of %d items could be read: %w", bad, badErr)}
			}
			return out, bad, nil
		}
		if in.NextToken != nil && *in.NextToken == next {
			return nil, 0, &collectors.DecodeError{What: "aws GetProducts " + instanceType,
				Err: fmt.Errorf("endless pagination: NextToken repeats")}
		}
		in.NextToken = aws.String(next)
	}
}

// betterPrice reports whether a should replace b for the same instance type
// and region: a non-zero price beats zero (which the Runner would reject),
// then the lower one wins, so the choice does not depend on order.
func betterPrice(a, b float64) bool {
	if (a > 0) != (b > 0) {
		return a > 0
	}
	return a < b
}

// product is the part of a PriceList item read here: the attributes
// checked and the on-demand terms. Every value is a string, prices
// included. The other attributes (some 40) and the Reserved terms (most of
// an item) are skipped, not decoded.
type product struct {
	Product struct {
		Attributes struct {
			InstanceType    string `json:"instanceType"`
			OperatingSystem string `json:"operatingSystem"`
			Tenancy         string `json:"tenancy"`
			PreInstalledSw  string `json:"preInstalledSw"`
			CapacityStatus  string `json:"capacitystatus"`
			LicenseModel    string `json:"licenseModel"`
			MarketOption    string `json:"marketoption"`
			RegionCode      string `json:"regionCode"`
		} `json:"attributes"`
	} `json:"product"`
	Terms struct {
		OnDemand map[string]struct {
			PriceDimensions map[string]struct {
				Unit         string            `json:"unit"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
}

// onDemandPrice decodes one PriceList item (a JSON document in a string)
// and returns its region and hourly on-demand USD price; ok is false for
// a row that is not the plain Linux on-demand price of instanceType
// (checked again here in case the API filtered less than asked: other
// operating systems, tenancies, capacity statuses, software, licence
// models and market options such as CapacityBlock), and for a
// $0.0000000000 row, which no one rents at. Term and rate codes are not
// assumed: the first hourly USD price of the OnDemand terms, in key
// order, is taken; Reserved terms (whose All Upfront hours cost $0) are
// never read. An item that does not decode, or whose price is not a
// number, is an error.
func onDemandPrice(item, instanceType string) (region string, usd float64, ok bool, err error) {
	var p product
	if err := json.Unmarshal([]byte(item), &p); err != nil {
		return "", 0, false, err
	}
	at := &p.Product.Attributes
	if !strings.EqualFold(at.InstanceType, instanceType) || at.OperatingSystem != "Linux" ||
		at.Tenancy != "Shared" || at.PreInstalledSw != "NA" || at.CapacityStatus != "Used" ||
		(at.LicenseModel != "" && at.LicenseModel != "No License required") ||
		(at.MarketOption != "" && at.MarketOption != "OnDemand") || at.RegionCode == "" {
		return "", 0, false, nil
	}
	terms := p.Terms.OnDemand
	for _, tk := range sortedKeys(terms) {
		dims := terms[tk].PriceDimensions
		for _, dk := range sortedKeys(dims) {
			d := dims[dk]
			s, has := d.PricePerUnit["USD"]
			if !has || !strings.EqualFold(d.Unit, "Hrs") {
				continue
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v < 0 {
				return "", 0, false, fmt.Errorf("price %q of %s: %v", s, dk, err)
			}
			return at.RegionCode, v, v > 0, nil
		}
	}
	return "", 0, false, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
