package fakecloud

import (
	"hash/fnv"
	"strings"
)

// The data behind the fake AWS: regions with their availability zones,
// GPU instance types with the GpuInfo EC2 reports for them (including
// AWS's own data bugs), and us-east-1 on-demand prices. Spot prices are
// generated from these (see awsSpot).

// awsRegion is one region as DescribeRegions reports it.
type awsRegion struct {
	name     string
	location string // the Price List's "location"
	zones    string // AZ letters
	optIn    string // opt-in-not-required, opted-in, not-opted-in
	factor   float64
	// allGPUs regions offer every instance type; the others a
	// deterministic subset (see awsOffered).
	allGPUs bool
}

// awsRegions: 17 regions enabled by default, 3 opt-in regions the account
// enabled, and 3 it did not (listed only with AllRegions, refused with
// AuthFailure).
var awsRegions = []awsRegion{
	{"us-east-1", "US East (N. Virginia)", "abcdef", "opt-in-not-required", 1, true},
	{"us-east-2", "US East (Ohio)", "abc", "opt-in-not-required", 1, true},
	{"us-west-1", "US West (N. California)", "ac", "opt-in-not-required", 1.17, false},
	{"us-west-2", "US West (Oregon)", "abcd", "opt-in-not-required", 1, true},
	{"ca-central-1", "Canada (Central)", "abd", "opt-in-not-required", 1.1, false},
	{"sa-east-1", "South America (Sao Paulo)", "abc", "opt-in-not-required", 1.59, false},
	{"eu-west-1", "EU (Ireland)", "abc", "opt-in-not-required", 1.11, false},
	{"eu-west-2", "EU (London)", "abc", "opt-in-not-required", 1.17, false},
	{"eu-west-3", "EU (Paris)", "abc", "opt-in-not-required", 1.18, false},
	{"eu-central-1", "EU (Frankfurt)", "abc", "opt-in-not-required", 1.2, false},
	{"eu-north-1", "EU (Stockholm)", "abc", "opt-in-not-required", 1.06, false},
	{"ap-northeast-1", "Asia Pacific (Tokyo)", "acd", "opt-in-not-required", 1.29, false},
	{"ap-northeast-2", "Asia Pacific (Seoul)", "abcd", "opt-in-not-required", 1.23, false},
	{"ap-northeast-3", "Asia Pacific (Osaka)", "abc", "opt-in-not-required", 1.29, false},
	{"ap-southeast-1", "Asia Pacific (Singapore)", "abc", "opt-in-not-required", 1.22, false},
	{"ap-southeast-2", "Asia Pacific (Sydney)", "abc", "opt-in-not-required", 1.26, false},
	{"ap-south-1", "Asia Pacific (Mumbai)", "abc", "opt-in-not-required", 1.08, false},
	{"ap-east-1", "Asia Pacific (Hong Kong)", "abc", "opted-in", 1.38, false},
	{"eu-south-1", "EU (Milan)", "abc", "opted-in", 1.19, false},
	{"me-south-1", "Middle East (Bahrain)", "abc", "opted-in", 1.22, false},
	{"af-south-1", "Africa (Cape Town)", "abc", "not-opted-in", 1.31, false},
	{"me-central-1", "Middle East (UAE)", "abc", "not-opted-in", 1.21, false},
	{"il-central-1", "Israel (Tel Aviv)", "abc", "not-opted-in", 1.2, false},
}

// awsGPU is an instance type's accelerators as DescribeInstanceTypes
// reports them. An empty name means the type has no GpuInfo.
type awsGPU struct {
	name, manufacturer string
	count              int32
	mib                int32   // per GPU, as reported
	partition          float64 // gpuPartitionSize; 0 when not reported
}

// awsType is one instance type.
type awsType struct {
	name     string
	vcpus    int32
	memMiB   int64
	gpu      awsGPU
	onDemand float64 // us-east-1 Linux on-demand USD per hour; 0: not priced
	// gpuCount is the CSV's GPU column (fractional for partitions).
	gpuCount string
}

func (t awsType) family() string {
	f, _, _ := strings.Cut(t.name, ".")
	return f
}

// awsTypes: about 60 GPU instance types, plus a few others that a
// GPU-only client must leave out. The GpuInfo reproduces what EC2
// reports, bugs included: L4, A10G and L40S memory far below the marketed
// size, p4de.24xlarge without GpuInfo, p5en.48xlarge named "NVIDIA", and
// g6f sizes reporting one GPU with a fraction of its memory (gr6f reports
// gpuPartitionSize, as newer answers do).
var awsTypes = []awsType{
	// NVIDIA V100
	{"p3.2xlarge", 8, 62464, awsGPU{"V100", "NVIDIA", 1, 16384, 0}, 3.06, "1"},
	{"p3.8xlarge", 32, 249856, awsGPU{"V100", "NVIDIA", 4, 16384, 0}, 12.24, "4"},
	{"p3.16xlarge", 64, 499712, awsGPU{"V100", "NVIDIA", 8, 16384, 0}, 24.48, "8"},
	{"p3dn.24xlarge", 96, 786432, awsGPU{"V100", "NVIDIA", 8, 32768, 0}, 31.212, "8"},
	// NVIDIA A100, H100, H200, B200
	{"p4d.24xlarge", 96, 1179648, awsGPU{"A100", "NVIDIA", 8, 40960, 0}, 21.9576, "8"},
	{"p4de.24xlarge", 96, 1179648, awsGPU{}, 27.447, "8"},
	{"p5.4xlarge", 16, 262144, awsGPU{"H100", "NVIDIA", 1, 81920, 0}, 6.88, "1"},
	{"p5.48xlarge", 192, 2097152, awsGPU{"H100", "NVIDIA", 8, 81920, 0}, 55.04, "8"},
	{"p5e.48xlarge", 192, 2097152, awsGPU{"H200", "NVIDIA", 8, 144384, 0}, 58.0, "8"},
	{"p5en.48xlarge", 192, 2097152, awsGPU{"NVIDIA", "NVIDIA", 8, 144384, 0}, 63.296, "8"},
	{"p6-b200.48xlarge", 192, 2097152, awsGPU{"B200", "NVIDIA", 8, 183359, 0}, 113.9328, "8"},
	// NVIDIA T4
	{"g4dn.xlarge", 4, 16384, awsGPU{"T4", "NVIDIA", 1, 15360, 0}, 0.526, "1"},
	{"g4dn.2xlarge", 8, 32768, awsGPU{"T4", "NVIDIA", 1, 15360, 0}, 0.752, "1"},
	{"g4dn.4xlarge", 16, 65536, awsGPU{"T4", "NVIDIA", 1, 15360, 0}, 1.204, "1"},
	{"g4dn.8xlarge", 32, 131072, awsGPU{"T4", "NVIDIA", 1, 15360, 0}, 2.176, "1"},
	{"g4dn.12xlarge", 48, 196608, awsGPU{"T4", "NVIDIA", 4, 15360, 0}, 3.912, "4"},
	{"g4dn.16xlarge", 64, 262144, awsGPU{"T4", "NVIDIA", 1, 15360, 0}, 4.352, "1"},
	{"g4dn.metal", 96, 393216, awsGPU{"T4", "NVIDIA", 8, 15360, 0}, 7.824, "8"},
	// AMD Radeon Pro V520
	{"g4ad.xlarge", 4, 16384, awsGPU{"Radeon Pro V520", "AMD", 1, 8192, 0}, 0.37853, "1"},
	{"g4ad.2xlarge", 8, 32768, awsGPU{"Radeon Pro V520", "AMD", 1, 8192, 0}, 0.54117, "1"},
	{"g4ad.4xlarge", 16, 65536, awsGPU{"Radeon Pro V520", "AMD", 1, 8192, 0}, 0.867, "1"},
	{"g4ad.8xlarge", 32, 131072, awsGPU{"Radeon Pro V520", "AMD", 2, 8192, 0}, 1.734, "2"},
	{"g4ad.16xlarge", 64, 262144, awsGPU{"Radeon Pro V520", "AMD", 4, 8192, 0}, 3.468, "4"},
	// NVIDIA A10G
	{"g5.xlarge", 4, 16384, awsGPU{"A10G", "NVIDIA", 1, 22888, 0}, 1.006, "1"},
	{"g5.2xlarge", 8, 32768, awsGPU{"A10G", "NVIDIA", 1, 22888, 0}, 1.212, "1"},
	{"g5.4xlarge", 16, 65536, awsGPU{"A10G", "NVIDIA", 1, 22888, 0}, 1.624, "1"},
	{"g5.8xlarge", 32, 131072, awsGPU{"A10G", "NVIDIA", 1, 22888, 0}, 2.448, "1"},
	{"g5.12xlarge", 48, 196608, awsGPU{"A10G", "NVIDIA", 4, 22888, 0}, 5.672, "4"},
	{"g5.16xlarge", 64, 262144, awsGPU{"A10G", "NVIDIA", 1, 22888, 0}, 4.096, "1"},
	{"g5.24xlarge", 96, 393216, awsGPU{"A10G", "NVIDIA", 4, 22888, 0}, 8.144, "4"},
	{"g5.48xlarge", 192, 786432, awsGPU{"A10G", "NVIDIA", 8, 22888, 0}, 16.288, "8"},
	// NVIDIA T4G (Graviton)
	{"g5g.xlarge", 4, 8192, awsGPU{"T4g", "NVIDIA", 1, 15360, 0}, 0.42, "1"},
	{"g5g.2xlarge", 8, 16384, awsGPU{"T4g", "NVIDIA", 1, 15360, 0}, 0.556, "1"},
	{"g5g.4xlarge", 16, 32768, awsGPU{"T4g", "NVIDIA", 1, 15360, 0}, 0.828, "1"},
	{"g5g.8xlarge", 32, 65536, awsGPU{"T4g", "NVIDIA", 1, 15360, 0}, 1.372, "1"},
	{"g5g.16xlarge", 64, 131072, awsGPU{"T4g", "NVIDIA", 2, 15360, 0}, 2.744, "2"},
	{"g5g.metal", 64, 131072, awsGPU{"T4g", "NVIDIA", 2, 15360, 0}, 2.744, "2"},
	// NVIDIA L4
	{"g6.xlarge", 4, 16384, awsGPU{"L4", "NVIDIA", 1, 22888, 0}, 0.8048, "1"},
	{"g6.2xlarge", 8, 32768, awsGPU{"L4", "NVIDIA", 1, 22888, 0}, 0.9776, "1"},
	{"g6.4xlarge", 16, 65536, awsGPU{"L4", "NVIDIA", 1, 22888, 0}, 1.3232, "1"},
	{"g6.8xlarge", 32, 131072, awsGPU{"L4", "NVIDIA", 1, 22888, 0}, 2.0144, "1"},
	{"g6.12xlarge", 48, 196608, awsGPU{"L4", "NVIDIA", 4, 22888, 0}, 4.6016, "4"},
	{"g6.16xlarge", 64, 262144, awsGPU{"L4", "NVIDIA", 1, 22888, 0}, 3.3968, "1"},
	{"g6.24xlarge", 96, 393216, awsGPU{"L4", "NVIDIA", 4, 22888, 0}, 6.6752, "4"},
	{"g6.48xlarge", 192, 786432, awsGPU{"L4", "NVIDIA", 8, 22888, 0}, 13.3504, "8"},
	{"gr6.4xlarge", 16, 131072, awsGPU{"L4", "NVIDIA", 1, 22888, 0}, 1.5392, "1"},
	{"gr6.8xlarge", 32, 262144, awsGPU{"L4", "NVIDIA", 1, 22888, 0}, 2.4464, "1"},
	// Fractional L4
	{"g6f.large", 2, 8192, awsGPU{"L4", "NVIDIA", 1, 2861, 0}, 0.2, "0.125"},
	{"g6f.xlarge", 4, 16384, awsGPU{"L4", "NVIDIA", 1, 2861, 0}, 0.24, "0.125"},
	{"g6f.2xlarge", 8, 32768, awsGPU{"L4", "NVIDIA", 1, 5722, 0}, 0.48, "0.25"},
	{"g6f.4xlarge", 16, 65536, awsGPU{"L4", "NVIDIA", 1, 11444, 0}, 0.96, "0.5"},
	{"gr6f.4xlarge", 16, 131072, awsGPU{"L4", "NVIDIA", 1, 11444, 0.5}, 1.13, "0.5"},
	// NVIDIA L40S
	{"g6e.xlarge", 4, 32768, awsGPU{"L40S", "NVIDIA", 1, 45776, 0}, 1.861, "1"},
	{"g6e.2xlarge", 8, 65536, awsGPU{"L40S", "NVIDIA", 1, 45776, 0}, 2.24208, "1"},
	{"g6e.4xlarge", 16, 131072, awsGPU{"L40S", "NVIDIA", 1, 45776, 0}, 3.00424, "1"},
	{"g6e.8xlarge", 32, 262144, awsGPU{"L40S", "NVIDIA", 1, 45776, 0}, 4.52856, "1"},
	{"g6e.12xlarge", 48, 393216, awsGPU{"L40S", "NVIDIA", 4, 45776, 0}, 10.49264, "4"},
	{"g6e.16xlarge", 64, 524288, awsGPU{"L40S", "NVIDIA", 1, 45776, 0}, 7.57719, "1"},
	{"g6e.24xlarge", 96, 786432, awsGPU{"L40S", "NVIDIA", 4, 45776, 0}, 15.06559, "4"},
	{"g6e.48xlarge", 192, 1572864, awsGPU{"L40S", "NVIDIA", 8, 45776, 0}, 30.13118, "8"},
	// Not GPU types: CPU-only, and Inferentia (NeuronInfo, no GpuInfo).
	{"m7i.large", 2, 8192, awsGPU{}, 0.1008, ""},
	{"c7g.xlarge", 4, 8192, awsGPU{}, 0.145, ""},
	{"inf2.xlarge", 4, 16384, awsGPU{}, 0.7582, ""},
}

// AWSGPUTypeCount is how many GPU instance types the fake knows (every
// one of them is offered in us-east-1).
func AWSGPUTypeCount() int {
	n := 0
	for _, t := range awsTypes {
		if t.gpu.name != "" || t.family() == "p4de" {
			n++
		}
	}
	return n
}

// awsOffered reports whether region offers t, and in which of its zones
// (a bitmask over the region's AZ letters). The big US regions offer
// every type in most zones; elsewhere the large training instances are
// rarer than the small inference ones.
func awsOffered(r *awsRegion, t *awsType) (uint32, bool) {
	if r.optIn == "not-opted-in" {
		return 0, false
	}
	fam := t.family()
	chance := uint64(70) // percent of the other regions offering the family
	switch {
	case fam == "m7i" || fam == "c7g" || fam == "g4dn" || fam == "g5":
		chance = 100
	case strings.HasPrefix(fam, "p5") || strings.HasPrefix(fam, "p6") || fam == "p4de":
		chance = 25
	case strings.HasPrefix(fam, "p"):
		chance = 45
	case strings.HasPrefix(fam, "gr6") || fam == "g6f":
		chance = 35
	}
	if !r.allGPUs && awsHash(r.name, fam)%100 >= chance {
		return 0, false
	}
	var mask uint32
	for i := range r.zones {
		// Large types sit in fewer zones.
		zoneChance := uint64(85)
		if t.vcpus >= 96 {
			zoneChance = 55
		}
		if i == 0 || awsHash(r.name, t.name, string(r.zones[i]))%100 < zoneChance {
			mask |= 1 << i
		}
	}
	return mask, true
}

// awsHash is a stable hash of its parts.
func awsHash(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	// fnv alone leaves nearby inputs close: finish with a mixer.
	return awsMix(h.Sum64())
}

// awsMix is the splitmix64 finalizer.
func awsMix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
