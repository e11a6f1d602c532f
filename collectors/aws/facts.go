package aws

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// gpuFamilies are the instance-type patterns of the GPU families (p2 to
// p6, g3 to g7, gr6, g6f, ...). Trainium and Inferentia (trn, inf) report
// NeuronInfo rather than GpuInfo and are not GPUs here; types matching
// these patterns without GpuInfo are dropped, unless a fix-up knows them.
var gpuFamilies = []string{"p*", "g*"}

// maxTypePages bounds one region's DescribeInstanceTypes walk: the GPU
// types fit in one or two pages of 100.
const maxTypePages = 50

// gpuFacts is what a quote needs to know about an instance type's GPUs.
type gpuFacts struct {
	raw   string // Manufacturer + " " + Name, after fix-ups
	model string
	form  string
	memGB float64
	count float64
	// The instance's vCPUs and RAM (GiB, shown as GB), 0 when unknown.
	vcpus, ramGB float64
}

// fixup corrects what DescribeInstanceTypes says about an instance type
// or a whole family (the part of the type before the dot).
type fixup struct {
	// raw replaces the GPU's raw name when the API's is missing or just
	// the manufacturer; with mib it also fills a missing GpuInfo.
	raw string
	mib int32
	// count, when set, is the GPU count, whatever the API says.
	count int32
	// fractionOfMiB: the API reports one GPU with a fraction of its
	// memory; the GPU count is the reported MiB over this full size.
	fractionOfMiB float64
}

// fixups are AWS's known GpuInfo bugs, by instance type or family
// (sources: dstackai/gpuhunt aws.py, skypilot-org/skypilot fetch_aws.py;
// see also the aws alias table of price/catalog.yaml). The L4, A10G and
// L40S memory bug (22888 and 45776 MiB reported for 24 and 48 GB) is
// fixed by the catalog, whose aliases for these names carry the marketed
// size.
var fixups = map[string]fixup{
	// p4de.24xlarge came without GpuInfo: 8x A100 80GB.
	"p4de": {raw: "NVIDIA A100", mib: 81920, count: 8},
	// p5en.48xlarge was reported with Name "NVIDIA": 8x H200.
	"p5en": {raw: "NVIDIA H200"},
	// p5.4xlarge is one H100 (SkyPilot forces its count to 1).
	"p5.4xlarge": {count: 1},
	// g6f and gr6f are fractions of an L4 reported as Count 1 with a
	// share of its 22888 MiB; newer answers say gpuPartitionSize, which
	// wins when present.
	"g6f":  {fractionOfMiB: 22888},
	"gr6f": {fractionOfMiB: 22888},
}

func family(instanceType string) string {
	f, _, _ := strings.Cut(instanceType, ".")
	return f
}

// fixupOf returns the fix-up of an instance type, or of its family.
func fixupOf(instanceType string) fixup {
	if f, ok := fixups[instanceType]; ok {
		return f
	}
	return fixups[family(instanceType)]
}

// instanceTypes returns the GPU instance types region offers, with their
// GPU facts. Its first request is the region's probe: few retries, so
// that a dead endpoint is found quickly.
func (c *Collector) instanceTypes(ctx context.Context, client *ec2.Client, region string) (map[string]gpuFacts, error) {
	out := map[string]gpuFacts{}
	in := &ec2.DescribeInstanceTypesInput{
		Filters:    []types.Filter{{Name: aws.String("instance-type"), Values: gpuFamilies}},
		MaxResults: aws.Int32(100),
	}
	for page := 0; ; page++ {
		if page == maxTypePages {
			return nil, &collectors.DecodeError{What: "aws DescribeInstanceTypes in " + region,
				Err: fmt.Errorf("endless pagination: nextToken still present after %d pages", page)}
		}
		resp, err := client.DescribeInstanceTypes(ctx, in, func(o *ec2.Options) {
			if page == 0 {
				o.RetryMaxAttempts = probeAttempts
			}
		})
		if err != nil {
			return nil, apiError("DescribeInstanceTypes", region, err)
		}
		for i := range resp.InstanceTypes {
			if f, ok := c.facts(&resp.InstanceTypes[i]); ok {
				out[string(resp.InstanceTypes[i].InstanceType)] = f
			}
		}
		next := aws.ToString(resp.NextToken)
		if next == "" {
			return out, nil
		}
		if in.NextToken != nil && *in.NextToken == next {
			return nil, &collectors.DecodeError{What: "aws DescribeInstanceTypes in " + region,
				Err: fmt.Errorf("endless pagination: nextToken repeats")}
		}
		in.NextToken = aws.String(next)
	}
}

// facts maps one instance type's GpuInfo through the fix-ups and the
// catalog; ok is false for types without GPUs.
func (c *Collector) facts(it *types.InstanceTypeInfo) (gpuFacts, bool) {
	name := string(it.InstanceType)
	fix := fixupOf(name)
	var (
		f   gpuFacts
		mib float64 // per GPU
	)
	switch {
	case it.GpuInfo != nil && len(it.GpuInfo.Gpus) > 0:
		g := it.GpuInfo.Gpus[0]
		manufacturer, gname := aws.ToString(g.Manufacturer), aws.ToString(g.Name)
		f.raw = strings.TrimSpace(manufacturer + " " + gname)
		if fix.raw != "" && (gname == "" || strings.EqualFold(gname, manufacturer)) {
			f.raw = fix.raw
		}
		var n int32
		for _, d := range it.GpuInfo.Gpus {
			n += aws.ToInt32(d.Count)
		}
		f.count = float64(n)
		if g.MemoryInfo != nil {
			mib = float64(aws.ToInt32(g.MemoryInfo.SizeInMiB))
		}
		switch part := aws.ToFloat64(g.GpuPartitionSize); {
		case part > 0 && part < 1:
			f.count = part * f.count
		case fix.fractionOfMiB > 0 && mib > 0 && mib < fix.fractionOfMiB:
			f.count = roundCount(mib / fix.fractionOfMiB)
			mib = fix.fractionOfMiB
		}
	case fix.raw != "" && fix.mib > 0:
		f.raw, mib = fix.raw, float64(fix.mib)
	default:
		return gpuFacts{}, false
	}
	if fix.count > 0 {
		f.count = float64(fix.count)
	}
	if f.count <= 0 {
		// Seen on fractional types: a GPU is there, the count says 0.
		f.count = 1
	}
	if it.VCpuInfo != nil {
		f.vcpus = float64(max(aws.ToInt32(it.VCpuInfo.DefaultVCpus), 0))
	}
	if it.MemoryInfo != nil {
		f.ramGB = float64(max(aws.ToInt64(it.MemoryInfo.SizeInMiB), 0)) / 1024
	}
	a, ok := c.catalog.Lookup(Name, f.raw)
	if !ok {
		f.model, f.memGB = price.Unknown, math.Round(mib/1024)
		return f, true
	}
	f.model, f.form, f.memGB = a.Model, a.Form, a.MemoryGB
	if f.memGB == 0 {
		f.memGB = c.catalog.SnapMemory(a.Model, a.Form, mib)
	}
	return f, true
}

// roundCount keeps a GPU fraction to 4 decimals, the label's precision.
func roundCount(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// quote returns a quote of instanceType with its GPU facts filled in.
func (f *gpuFacts) quote(instanceType, region, zone string, model price.PricingModel, usd float64) price.Quote {
	return price.Quote{
		Provider:     Name,
		InstanceType: instanceType,
		Region:       region,
		Zone:         zone,
		Geo:          price.Geo(region),
		PricingModel: model,
		GPUModel:     f.model,
		GPUForm:      f.form,
		GPUMemoryGB:  f.memGB,
		GPUCount:     f.count,
		GPURaw:       f.raw,
		VCPUs:        f.vcpus,
		MemoryGB:     f.ramGB,
		USDPerHour:   usd,
	}
}
