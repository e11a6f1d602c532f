package gcp

// machine is the shape of one Compute Engine machine type with bundled GPUs:
// what its price is the sum of.
type machine struct {
	name string // machine type, the quotes' instance_type
	// family is the billing family of its core, RAM and slice SKUs: the
	// first word of "A3 Instance Core", or a3-megagpu for "A3Plus".
	family      string
	vCPUs       int
	memoryGiB   float64
	accelerator string // accelerator type of its GPUs
	gpus        int
	// localSSDGiB is the local SSD every instance of the type comes with
	// (375 GiB partitions), billed on top of the machine.
	localSSDGiB int
}

// machineShapes are the machine types that bundle GPUs. The Compute Engine
// API lists them too (machineTypes: guestCpus, memoryMb, accelerators,
// bundledLocalSsds), but only with OAuth credentials and a project, while
// prices need neither; so the shapes are a table, kept by hand.
//
// Sources: Google Cloud documentation, "Accelerator-optimized machine
// family" (https://cloud.google.com/compute/docs/accelerator-optimized-machines:
// vCPUs, memory, GPU count and bundled local SSD of the A2, A3, A4 and G2
// machine types) and "Arm VMs on Compute"
// (https://cloud.google.com/compute/docs/instances/arm-on-compute: A4X and
// A4X Max, 12,000 GiB of local SSD); "GPU machine types"
// (https://cloud.google.com/compute/docs/gpus: the accelerator type of
// each series). The documentation's memory "GB" are GiB, as the API's
// memoryMb shows (a2-highgpu-1g: 87040 MiB = 85 GiB). Local SSD sizes agree
// with dstackai/gpuhunt's table of bundled local SSD.
//
// N1 machines take attachable GPUs (T4, V100, P100, P4) in many
// combinations; those GPUs are exported per GPU only (instance_type = the
// accelerator type), as are the G4 series' RTX PRO 6000.
var machineShapes = []machine{
	// A2 Standard: A100 40GB.
	{"a2-highgpu-1g", "a2", 12, 85, "nvidia-tesla-a100", 1, 0},
	{"a2-highgpu-2g", "a2", 24, 170, "nvidia-tesla-a100", 2, 0},
	{"a2-highgpu-4g", "a2", 48, 340, "nvidia-tesla-a100", 4, 0},
	{"a2-highgpu-8g", "a2", 96, 680, "nvidia-tesla-a100", 8, 0},
	{"a2-megagpu-16g", "a2", 96, 1360, "nvidia-tesla-a100", 16, 0},
	// A2 Ultra: A100 80GB with local SSD.
	{"a2-ultragpu-1g", "a2", 12, 170, "nvidia-a100-80gb", 1, 375},
	{"a2-ultragpu-2g", "a2", 24, 340, "nvidia-a100-80gb", 2, 750},
	{"a2-ultragpu-4g", "a2", 48, 680, "nvidia-a100-80gb", 4, 1500},
	{"a2-ultragpu-8g", "a2", 96, 1360, "nvidia-a100-80gb", 8, 3000},
	// A3 High and Edge: H100 80GB. A3 Mega: H100 Mega (its own "A3Plus"
	// core and RAM SKUs). A3 Ultra: H200, priced with the A3 core and RAM
	// SKUs, as gpuhunt does.
	{"a3-highgpu-1g", "a3", 26, 234, "nvidia-h100-80gb", 1, 750},
	{"a3-highgpu-2g", "a3", 52, 468, "nvidia-h100-80gb", 2, 1500},
	{"a3-highgpu-4g", "a3", 104, 936, "nvidia-h100-80gb", 4, 3000},
	{"a3-highgpu-8g", "a3", 208, 1872, "nvidia-h100-80gb", 8, 6000},
	{"a3-edgegpu-8g", "a3", 208, 1872, "nvidia-h100-80gb", 8, 6000},
	{"a3-megagpu-8g", "a3-megagpu", 208, 1872, "nvidia-h100-mega-80gb", 8, 6000},
	{"a3-ultragpu-8g", "a3", 224, 2952, "nvidia-h200-141gb", 8, 12000},
	// A4: B200; A4X: GB200; A4X Max: GB300. The catalog prices these per
	// "(1 gpu slice)" of the whole machine.
	{"a4-highgpu-8g", "a4", 224, 3968, "nvidia-b200", 8, 12000},
	{"a4x-highgpu-4g", "a4x", 140, 884, "nvidia-gb200", 4, 12000},
	{"a4x-maxgpu-4g-metal", "a4x-max", 144, 960, "nvidia-gb300", 4, 12000},
	// G2: L4.
	{"g2-standard-4", "g2", 4, 16, "nvidia-l4", 1, 0},
	{"g2-standard-8", "g2", 8, 32, "nvidia-l4", 1, 0},
	{"g2-standard-12", "g2", 12, 48, "nvidia-l4", 1, 0},
	{"g2-standard-16", "g2", 16, 64, "nvidia-l4", 1, 0},
	{"g2-standard-24", "g2", 24, 96, "nvidia-l4", 2, 0},
	{"g2-standard-32", "g2", 32, 128, "nvidia-l4", 1, 0},
	{"g2-standard-48", "g2", 48, 192, "nvidia-l4", 4, 0},
	{"g2-standard-96", "g2", 96, 384, "nvidia-l4", 8, 0},
}
