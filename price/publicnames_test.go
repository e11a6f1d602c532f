package price

import (
	"maps"
	"slices"
	"testing"
)

// publicName is a raw GPU name a provider's public documentation or
// public code uses, and the catalog model it must map to; model "" means
// the name stays unknown on purpose, and why says why.
type publicName struct {
	raw, model, why string
}

// publicNames lists, per provider, every raw GPU name found in the
// sources named above each list. A new name from a provider goes here and
// into catalog.yaml together.
var publicNames = map[string][]publicName{
	// Runpod: every gpuTypes id and displayName in runpod/docs
	// references/gpu-types.mdx over its history (tables generated 2025-04
	// to 2026-02), the ids of Runpod's REST GPU type enum in public SDK code
	// (A100-SXM4-40GB, A100-PCIE-40GB, V100-PCIE-32GB, Tesla T4), and the
	// ids the demo fake and issue 12 name (RTX 3060, RTX PRO 4000).
	"runpod": {
		{raw: "AMD Instinct MI300X OAM", model: "MI300X"},
		{raw: "MI300X", model: "MI300X"},
		{raw: "NVIDIA A100 80GB PCIe", model: "A100"},
		{raw: "A100 PCIe", model: "A100"},
		{raw: "NVIDIA A100-SXM4-80GB", model: "A100"},
		{raw: "A100 SXM", model: "A100"},
		{raw: "NVIDIA A30", model: "A30"},
		{raw: "A30", model: "A30"},
		{raw: "NVIDIA A40", model: "A40"},
		{raw: "A40", model: "A40"},
		{raw: "NVIDIA B200", model: "B200"},
		{raw: "B200", model: "B200"},
		{raw: "NVIDIA B300 SXM6 AC", model: "B300"},
		{raw: "B300", model: "B300"},
		{raw: "NVIDIA GeForce RTX 3070", model: "RTX3070"},
		{raw: "RTX 3070", model: "RTX3070"},
		{raw: "NVIDIA GeForce RTX 3080", model: "RTX3080"},
		{raw: "RTX 3080", model: "RTX3080"},
		{raw: "NVIDIA GeForce RTX 3080 Ti", model: "RTX3080TI"},
		{raw: "RTX 3080 Ti", model: "RTX3080TI"},
		{raw: "NVIDIA GeForce RTX 3090", model: "RTX3090"},
		{raw: "RTX 3090", model: "RTX3090"},
		{raw: "NVIDIA GeForce RTX 3090 Ti", model: "RTX3090TI"},
		{raw: "RTX 3090 Ti", model: "RTX3090TI"},
		{raw: "NVIDIA GeForce RTX 4070 Ti", model: "RTX4070TI"},
		{raw: "RTX 4070 Ti", model: "RTX4070TI"},
		{raw: "NVIDIA GeForce RTX 4080", model: "RTX4080"},
		{raw: "RTX 4080", model: "RTX4080"},
		{raw: "NVIDIA GeForce RTX 4080 SUPER", model: "RTX4080S"},
		{raw: "RTX 4080 SUPER", model: "RTX4080S"},
		{raw: "NVIDIA GeForce RTX 4090", model: "RTX4090"},
		{raw: "RTX 4090", model: "RTX4090"},
		{raw: "NVIDIA GeForce RTX 5080", model: "RTX5080"},
		{raw: "RTX 5080", model: "RTX5080"},
		{raw: "NVIDIA GeForce RTX 5090", model: "RTX5090"},
		{raw: "RTX 5090", model: "RTX5090"},
		{raw: "NVIDIA H100 80GB HBM3", model: "H100"},
		{raw: "H100 SXM", model: "H100"},
		{raw: "NVIDIA H100 NVL", model: "H100NVL"},
		{raw: "H100 NVL", model: "H100NVL"},
		{raw: "NVIDIA H100 PCIe", model: "H100"},
		{raw: "H100 PCIe", model: "H100"},
		{raw: "NVIDIA H200", model: "H200"},
		{raw: "H200 SXM", model: "H200"},
		{raw: "NVIDIA H200 NVL", model: "H200NVL"},
		{raw: "NVIDIA L4", model: "L4"},
		{raw: "L4", model: "L4"},
		{raw: "NVIDIA L40", model: "L40"},
		{raw: "L40", model: "L40"},
		{raw: "NVIDIA L40S", model: "L40S"},
		{raw: "L40S", model: "L40S"},
		{raw: "NVIDIA RTX 2000 Ada Generation", model: "RTX2000ADA"},
		{raw: "RTX 2000 Ada", model: "RTX2000ADA"},
		{raw: "NVIDIA RTX 4000 Ada Generation", model: "RTX4000ADA"},
		{raw: "RTX 4000 Ada", model: "RTX4000ADA"},
		{raw: "NVIDIA RTX 4000 SFF Ada Generation", model: "RTX4000SFFADA"},
		{raw: "RTX 4000 Ada SFF", model: "RTX4000SFFADA"},
		{raw: "NVIDIA RTX 5000 Ada Generation", model: "RTX5000ADA"},
		{raw: "RTX 5000 Ada", model: "RTX5000ADA"},
		{raw: "NVIDIA RTX 6000 Ada Generation", model: "RTX6000ADA"},
		{raw: "RTX 6000 Ada", model: "RTX6000ADA"},
		{raw: "NVIDIA RTX A2000", model: "A2000"},
		{raw: "RTX A2000", model: "A2000"},
		{raw: "NVIDIA RTX A4000", model: "A4000"},
		{raw: "RTX A4000", model: "A4000"},
		{raw: "NVIDIA RTX A4500", model: "A4500"},
		{raw: "RTX A4500", model: "A4500"},
		{raw: "NVIDIA RTX A5000", model: "A5000"},
		{raw: "RTX A5000", model: "A5000"},
		{raw: "NVIDIA RTX A6000", model: "A6000"},
		{raw: "RTX A6000", model: "A6000"},
		{raw: "NVIDIA RTX PRO 4500 Blackwell", model: "RTXPRO4500"},
		{raw: "RTX PRO 4500", model: "RTXPRO4500"},
		{raw: "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", model: "RTXPRO6000"},
		{raw: "RTX PRO 6000 MaxQ", model: "RTXPRO6000"},
		{raw: "NVIDIA RTX PRO 6000 Blackwell Server Edition", model: "RTXPRO6000"},
		{raw: "RTX PRO 6000", model: "RTXPRO6000"},
		{raw: "RTX PRO 6000 Server", model: "RTXPRO6000"},
		{raw: "NVIDIA RTX PRO 6000 Blackwell Server Edition MIG", why: "an older id without the slice size: its fraction of a GPU is unknown"},
		{raw: "RTX PRO 6000 MIG", why: "an older displayName shared by both slice sizes"},
		{raw: "NVIDIA RTX PRO 6000 Blackwell Server Edition MIG 1g.24gb", model: "RTXPRO6000"},
		{raw: "PRO 6000 MIG 24GB", model: "RTXPRO6000"},
		{raw: "NVIDIA RTX PRO 6000 Blackwell Server Edition MIG 2g.48gb", model: "RTXPRO6000"},
		{raw: "PRO 6000 MIG 48GB", model: "RTXPRO6000"},
		{raw: "NVIDIA RTX PRO 6000 Blackwell Workstation Edition", model: "RTXPRO6000"},
		{raw: "RTX PRO 6000 WK", model: "RTXPRO6000"},
		{raw: "RTX PRO 6000 Workstation", model: "RTXPRO6000"},
		{raw: "Tesla V100-FHHL-16GB", model: "V100"},
		{raw: "V100 FHHL", model: "V100"},
		{raw: "Tesla V100-PCIE-16GB", model: "V100"},
		{raw: "Tesla V100", model: "V100"},
		{raw: "Tesla V100-SXM2-16GB", model: "V100"},
		{raw: "V100 SXM2", model: "V100"},
		{raw: "Tesla V100-SXM2-32GB", model: "V100"},
		{raw: "V100 SXM2 32GB", model: "V100"},
		{raw: "NVIDIA A100-SXM4-40GB", model: "A100"},
		{raw: "NVIDIA A100-PCIE-40GB", model: "A100"},
		{raw: "Tesla V100-PCIE-32GB", model: "V100"},
		{raw: "Tesla T4", model: "T4"},
		{raw: "NVIDIA GeForce RTX 3060", model: "RTX3060"},
		{raw: "NVIDIA RTX PRO 4000 Blackwell", model: "RTXPRO4000"},
	},
	// Vast.ai: every gpu_name constant of vast-ai/vast-cli
	// vastai/data/query.py (2026-05), taken from Vast's own gpulist.json.
	"vastai": {
		{raw: "A10", model: "A10"},
		{raw: "A10g", model: "A10G"},
		{raw: "A16", model: "A16"},
		{raw: "A30", model: "A30"},
		{raw: "A40", model: "A40"},
		{raw: "A100 PCIE", model: "A100"},
		{raw: "A100 SXM4", model: "A100"},
		{raw: "A100 SXM", model: "A100"},
		{raw: "A100X", model: "A100"},
		{raw: "A800 PCIE", model: "A800"},
		{raw: "B200", model: "B200"},
		{raw: "GH200 SXM", model: "GH200"},
		{raw: "H100 PCIE", model: "H100"},
		{raw: "H100 SXM", model: "H100"},
		{raw: "H100 NVL", model: "H100NVL"},
		{raw: "H200", model: "H200"},
		{raw: "H200 NVL", model: "H200NVL"},
		{raw: "L4", model: "L4"},
		{raw: "L40", model: "L40"},
		{raw: "L40S", model: "L40S"},
		{raw: "Tesla K20c", model: "K20C"},
		{raw: "Tesla K80", model: "K80"},
		{raw: "Tesla M40", model: "M40"},
		{raw: "Tesla P4", model: "P4"},
		{raw: "Tesla P6", model: "P6"},
		{raw: "Tesla P40", model: "P40"},
		{raw: "Tesla P100", model: "P100"},
		{raw: "Tesla T4", model: "T4"},
		{raw: "Tesla V100", model: "V100"},
		{raw: "GeForce 970", model: "GTX970"},
		{raw: "GTX 750 Ti", model: "GTX750TI"},
		{raw: "GTX 1050", model: "GTX1050"},
		{raw: "GTX 1050 Ti", model: "GTX1050TI"},
		{raw: "GTX 1060", model: "GTX1060"},
		{raw: "GTX 1070", model: "GTX1070"},
		{raw: "GTX 1070 Ti", model: "GTX1070TI"},
		{raw: "GTX 1080", model: "GTX1080"},
		{raw: "GTX 1080 Ti", model: "GTX1080TI"},
		{raw: "GTX 1650", model: "GTX1650"},
		{raw: "GTX 1650 S", model: "GTX1650S"},
		{raw: "GTX 1650 Ti", model: "GTX1650TI"},
		{raw: "GTX 1660", model: "GTX1660"},
		{raw: "GTX 1660 S", model: "GTX1660S"},
		{raw: "GTX 1660 Ti", model: "GTX1660TI"},
		{raw: "GTX TITAN X", model: "GTXTITANX"},
		{raw: "RTX 2060", model: "RTX2060"},
		{raw: "RTX 2060S", model: "RTX2060S"},
		{raw: "RTX 2070", model: "RTX2070"},
		{raw: "RTX 2070S", model: "RTX2070S"},
		{raw: "RTX 2080", model: "RTX2080"},
		{raw: "RTX 2080S", model: "RTX2080S"},
		{raw: "RTX 2080 Ti", model: "RTX2080TI"},
		{raw: "RTX 3050", model: "RTX3050"},
		{raw: "RTX 3060", model: "RTX3060"},
		{raw: "RTX 3060 laptop", model: "RTX3060LAPTOP"},
		{raw: "RTX 3060 Ti", model: "RTX3060TI"},
		{raw: "RTX 3070", model: "RTX3070"},
		{raw: "RTX 3070 laptop", model: "RTX3070LAPTOP"},
		{raw: "RTX 3070 Ti", model: "RTX3070TI"},
		{raw: "RTX 3080", model: "RTX3080"},
		{raw: "RTX 3080 Ti", model: "RTX3080TI"},
		{raw: "RTX 3090", model: "RTX3090"},
		{raw: "RTX 3090 Ti", model: "RTX3090TI"},
		{raw: "RTX 4060", model: "RTX4060"},
		{raw: "RTX 4060 laptop", model: "RTX4060LAPTOP"},
		{raw: "RTX 4060 Ti", model: "RTX4060TI"},
		{raw: "RTX 4070", model: "RTX4070"},
		{raw: "RTX 4070 laptop", model: "RTX4070LAPTOP"},
		{raw: "RTX 4070S", model: "RTX4070S"},
		{raw: "RTX 4070S Ti", model: "RTX4070TIS"},
		{raw: "RTX 4070 Ti", model: "RTX4070TI"},
		{raw: "RTX 4080", model: "RTX4080"},
		{raw: "RTX 4080 laptop", model: "RTX4080LAPTOP"},
		{raw: "RTX 4080S", model: "RTX4080S"},
		{raw: "RTX 4090", model: "RTX4090"},
		{raw: "RTX 4090D", model: "RTX4090D"},
		{raw: "RTX 4090 Ti", why: "no such product"},
		{raw: "RTX 5060", model: "RTX5060"},
		{raw: "RTX 5060 Ti", model: "RTX5060TI"},
		{raw: "RTX 5070", model: "RTX5070"},
		{raw: "RTX 5070 Ti", model: "RTX5070TI"},
		{raw: "RTX 5080", model: "RTX5080"},
		{raw: "RTX 5090", model: "RTX5090"},
		{raw: "RTX 5090 Ti", why: "no such product"},
		{raw: "Titan RTX", model: "TITANRTX"},
		{raw: "Titan V", model: "TITANV"},
		{raw: "TITAN V CEO", model: "TITANVCEO"},
		{raw: "Titan X", model: "TITANX"},
		{raw: "Titan Xp", model: "TITANXP"},
		{raw: "Quadro K620", model: "K620"},
		{raw: "Quadro K2200", model: "K2200"},
		{raw: "Quadro P2000", model: "P2000"},
		{raw: "Quadro P4000", model: "P4000"},
		{raw: "Quadro P5000", model: "P5000"},
		{raw: "Quadro P6000", model: "P6000"},
		{raw: "Quadro GP100", model: "GP100"},
		{raw: "Quadro GV100", model: "GV100"},
		{raw: "Q RTX 4000", model: "RTX4000"},
		{raw: "Q RTX 5000", model: "RTX5000"},
		{raw: "Q RTX 6000", model: "RTX6000"},
		{raw: "Q RTX 8000", model: "RTX8000"},
		{raw: "RTX A2000", model: "A2000"},
		{raw: "RTX A4000", model: "A4000"},
		{raw: "RTX A4500", model: "A4500"},
		{raw: "RTX A5000", model: "A5000"},
		{raw: "RTX A6000", model: "A6000"},
		{raw: "RTX 2000Ada", model: "RTX2000ADA"},
		{raw: "RTX 4000Ada", model: "RTX4000ADA"},
		{raw: "RTX 4500Ada", model: "RTX4500ADA"},
		{raw: "RTX 5000Ada", model: "RTX5000ADA"},
		{raw: "RTX 5880Ada", model: "RTX5880ADA"},
		{raw: "RTX 6000Ada", model: "RTX6000ADA"},
		{raw: "RTX PRO 4000", model: "RTXPRO4000"},
		{raw: "RTX PRO 4000 Mobile", model: "RTXPRO4000LAPTOP"},
		{raw: "RTX PRO 4500", model: "RTXPRO4500"},
		{raw: "RTX PRO 5000", model: "RTXPRO5000"},
		{raw: "RTX PRO 6000", model: "RTXPRO6000"},
		{raw: "RTX PRO 6000 S", model: "RTXPRO6000"},
		{raw: "RTX PRO 6000 WS", model: "RTXPRO6000"},
		{raw: "RTX PRO 6000 Max-Q", model: "RTXPRO6000"},
		{raw: "CMP 50HX", model: "CMP50HX"},
		{raw: "CMP 170HX", model: "CMP170HX"},
		{raw: "P104-100", model: "P104100"},
		{raw: "P106-100", model: "P106100"},
		{raw: "InstinctMI50", model: "MI50"},
		{raw: "InstinctMI100", model: "MI100"},
		{raw: "InstinctMI210", model: "MI210"},
		{raw: "InstinctMI250X", model: "MI250X"},
		{raw: "PRO W6800", model: "W6800"},
		{raw: "PRO W7800", model: "W7800"},
		{raw: "PRO W7900", model: "W7900"},
		{raw: "Pro V620", model: "V620"},
		{raw: "Radeon VII", model: "RADEONVII"},
		{raw: "Radeon Pro VII", model: "RADEONPROVII"},
		{raw: "RX 6800", model: "RX6800"},
		{raw: "RX 6800 XT", model: "RX6800XT"},
		{raw: "RX 6900 XT", model: "RX6900XT"},
		{raw: "RX 6950 XT", model: "RX6950XT"},
		{raw: "RX 7600", model: "RX7600"},
		{raw: "RX 7700 XT", model: "RX7700XT"},
		{raw: "RX 7800 XT", model: "RX7800XT"},
		{raw: "RX 7900 GRE", model: "RX7900GRE"},
		{raw: "RX 7900 XT", model: "RX7900XT"},
		{raw: "RX 7900 XTX", model: "RX7900XTX"},
	},
	// Lambda: gpu_description values (dstackai/gpuhunt lambdalabs.py,
	// public clients and fixtures recording /instance-types answers:
	// brevdev/gotoni's CUDA table and instance map), then instance type
	// names with their count left out (gpu_8x_h100_sxm5 → gpu_Nx_h100_sxm5),
	// which the collector falls back to when an answer has no
	// gpu_description it knows (types from Lambda's price list as public
	// clients record it: gpu_1x_a10 ... gpu_8x_v100_n).
	"lambda": {
		{raw: "B200 (180 GB SXM6)", model: "B200"},
		{raw: "GH200 (96 GB)", model: "GH200"},
		{raw: "H100 (80 GB SXM5)", model: "H100"},
		{raw: "H100 (80 GB PCIe)", model: "H100"},
		{raw: "A100 (80 GB SXM4)", model: "A100"},
		{raw: "A100 (40 GB SXM4)", model: "A100"},
		{raw: "A100 (40 GB PCIe)", model: "A100"},
		{raw: "A10 (24 GB PCIe)", model: "A10"},
		{raw: "A6000 (48 GB)", model: "A6000"},
		{raw: "RTX 6000 (24 GB)", model: "RTX6000"},
		{raw: "Tesla V100 (16 GB)", model: "V100"},
		{raw: "H100 (80 GB HBM3)", model: "H100"},
		{raw: "H100 NVL", why: "in a third-party CUDA table only; no Lambda type sells it"},
		{raw: "A100 (80 GB PCIe)", model: "A100"},
		{raw: "A5000 (24 GB)", model: "A5000"},
		{raw: "A4000 (16 GB)", model: "A4000"},
		{raw: "RTX 6000 Ada (48 GB)", model: "RTX6000ADA"},
		{raw: "RTX 5000 Ada (32 GB)", model: "RTX5000ADA"},
		{raw: "RTX 4000 Ada (20 GB)", model: "RTX4000ADA"},
		{raw: "L40 (48 GB)", model: "L40"},
		{raw: "L40S (48 GB)", model: "L40S"},
		{raw: "Tesla V100 (32 GB)", model: "V100"},
		{raw: "A10 (24 GB)", model: "A10"},
		{raw: "B200 (108 GB SXM6)", why: "a third-party typo of B200 (180 GB SXM6)"},
		{raw: "A100 (80 GB SXM4) v2", model: "A100"},
		{raw: "gpu_Nx_a10", model: "A10"},
		{raw: "gpu_Nx_a10_pcie", model: "A10"},
		{raw: "gpu_Nx_a100", model: "A100"},
		{raw: "gpu_Nx_a100_pcie", model: "A100"},
		{raw: "gpu_Nx_a100_sxm4", model: "A100"},
		{raw: "gpu_Nx_a100_80gb_sxm4", model: "A100"},
		{raw: "gpu_Nx_a100_sxm4_v2", model: "A100"},
		{raw: "gpu_Nx_a6000", model: "A6000"},
		{raw: "gpu_Nx_b200_sxm6", model: "B200"},
		{raw: "gpu_Nx_gh200", model: "GH200"},
		{raw: "gpu_Nx_h100_pcie", model: "H100"},
		{raw: "gpu_Nx_h100_sxm5", model: "H100"},
		{raw: "gpu_Nx_rtx6000", model: "RTX6000"},
		{raw: "gpu_Nx_v100", model: "V100"},
		{raw: "gpu_Nx_v100_n", model: "V100"},
	},
	// AWS: "<Manufacturer> <Name>" of DescribeInstanceTypes GpuInfo for
	// every GPU family in aws/karpenter-provider-aws's instance-types
	// reference (2026-08), the older p2/g3 families, and p6e-gb200.
	"aws": {
		{raw: "NVIDIA A100", model: "A100"},
		{raw: "NVIDIA A10G", model: "A10G"},
		{raw: "NVIDIA B200", model: "B200"},
		{raw: "NVIDIA B300", model: "B300"},
		{raw: "NVIDIA H100", model: "H100"},
		{raw: "NVIDIA H200", model: "H200"},
		{raw: "NVIDIA L40S", model: "L40S"},
		{raw: "NVIDIA L4", model: "L4"},
		{raw: "NVIDIA T4g", model: "T4G"},
		{raw: "NVIDIA T4", model: "T4"},
		{raw: "NVIDIA V100", model: "V100"},
		{raw: "AMD Radeon Pro V520", model: "V520"},
		{raw: "NVIDIA RTX PRO 4500", model: "RTXPRO4500"},
		{raw: "NVIDIA RTX PRO Server 6000", model: "RTXPRO6000"},
		{raw: "NVIDIA K80", model: "K80"},
		{raw: "NVIDIA M60", model: "M60"},
		{raw: "NVIDIA GB200", model: "GB200"},
		{raw: "NVIDIA NVIDIA", why: "the p5en.48xlarge data bug, fixed in collectors/aws/facts.go"},
	},
	// GCP: the accelerator types of Google Cloud's GPU machine types
	// documentation, their -vws (virtual workstation) variants, and the
	// names the collector derives from billing SKU descriptions where they
	// differ (gpuhunt's renames).
	"gcp": {
		{raw: "nvidia-gb300", model: "GB300"},
		{raw: "nvidia-gb200", model: "GB200"},
		{raw: "nvidia-b200", model: "B200"},
		{raw: "nvidia-h200-141gb", model: "H200"},
		{raw: "nvidia-h100-mega-80gb", model: "H100"},
		{raw: "nvidia-h100-80gb", model: "H100"},
		{raw: "nvidia-a100-80gb", model: "A100"},
		{raw: "nvidia-tesla-a100", model: "A100"},
		{raw: "nvidia-rtx-pro-6000", model: "RTXPRO6000"},
		{raw: "nvidia-l4", model: "L4"},
		{raw: "nvidia-tesla-t4", model: "T4"},
		{raw: "nvidia-tesla-v100", model: "V100"},
		{raw: "nvidia-tesla-p100", model: "P100"},
		{raw: "nvidia-tesla-p4", model: "P4"},
		{raw: "nvidia-tesla-k80", model: "K80"},
		{raw: "nvidia-l4-vws", model: "L4"},
		{raw: "nvidia-tesla-t4-vws", model: "T4"},
		{raw: "nvidia-tesla-p100-vws", model: "P100"},
		{raw: "nvidia-tesla-p4-vws", model: "P4"},
		{raw: "nvidia-rtx-pro-6000-vws", model: "RTXPRO6000"},
		{raw: "nvidia-tesla-a100-80gb", model: "A100"},
		{raw: "nvidia-h100-80gb-mega", model: "H100"},
		{raw: "nvidia-h100-80gb-plus", model: "H100"},
	},
	// Azure: every NC, ND, NG and NV size of the Microsoft Learn
	// GPU-accelerated size pages (MicrosoftDocs/azure-compute-docs
	// articles/virtual-machines/sizes/gpu-accelerated), the NC A10 v4 sizes
	// the Retail Prices API lists without a size page, and the sizes
	// SkyPilot's fetch_azure.py and Azure/AgentBaker see in the SKU API
	// (ND96is_H100_v5, ND96is_MI300X_v5, ND96is_H200_v5, ND96isrf_H200_v5).
	"azure": {
		{raw: "Standard_NC6s_v3", model: "V100"},
		{raw: "Standard_NC12s_v3", model: "V100"},
		{raw: "Standard_NC24s_v3", model: "V100"},
		{raw: "Standard_NC24rs_v3", model: "V100"},
		{raw: "Standard_ND40rs_v2", model: "V100"},
		{raw: "Standard_NC4as_T4_v3", model: "T4"},
		{raw: "Standard_NC8as_T4_v3", model: "T4"},
		{raw: "Standard_NC16as_T4_v3", model: "T4"},
		{raw: "Standard_NC64as_T4_v3", model: "T4"},
		{raw: "Standard_NC24ads_A100_v4", model: "A100"},
		{raw: "Standard_NC48ads_A100_v4", model: "A100"},
		{raw: "Standard_NC96ads_A100_v4", model: "A100"},
		{raw: "Standard_ND96asr_v4", model: "A100"},
		{raw: "Standard_ND96amsr_A100_v4", model: "A100"},
		{raw: "Standard_NC40ads_H100_v5", model: "H100NVL"},
		{raw: "Standard_NC80adis_H100_v5", model: "H100NVL"},
		{raw: "Standard_NCC40ads_H100_v5", model: "H100NVL"},
		{raw: "Standard_ND96isr_H100_v5", model: "H100"},
		{raw: "Standard_ND96is_H100_v5", model: "H100"},
		{raw: "Standard_ND96isr_H200_v5", model: "H200"},
		{raw: "Standard_ND96is_H200_v5", model: "H200"},
		{raw: "Standard_ND96isrf_H200_v5", model: "H200"},
		{raw: "Standard_ND128isr_NDR_GB200_v6", model: "GB200"},
		{raw: "Standard_ND128isr_GB300_v6", model: "GB300"},
		{raw: "Standard_ND128isrG5_GB300_v6", model: "GB300"},
		{raw: "Standard_ND96isr_MI300X_v5", model: "MI300X"},
		{raw: "Standard_ND96is_MI300X_v5", model: "MI300X"},
		{raw: "Standard_NC128ds_xl_RTXPRO6000BSE_v6", model: "RTXPRO6000"},
		{raw: "Standard_NC256ds_xl_RTXPRO6000BSE_v6", model: "RTXPRO6000"},
		{raw: "Standard_NC320ds_xl_RTXPRO6000BSE_v6", model: "RTXPRO6000"},
		{raw: "Standard_NC128lds_xl_RTXPRO6000BSE_v6", model: "RTXPRO6000"},
		{raw: "Standard_NC256lds_xl_RTXPRO6000BSE_v6", model: "RTXPRO6000"},
		{raw: "Standard_NC320lds_xl_RTXPRO6000BSE_v6", model: "RTXPRO6000"},
		{raw: "Standard_NC8ads_A10_v4", model: "A10"},
		{raw: "Standard_NC16ads_A10_v4", model: "A10"},
		{raw: "Standard_NC32ads_A10_v4", model: "A10"},
		{raw: "Standard_NV6ads_A10_v5", model: "A10"},
		{raw: "Standard_NV12ads_A10_v5", model: "A10"},
		{raw: "Standard_NV18ads_A10_v5", model: "A10"},
		{raw: "Standard_NV36ads_A10_v5", model: "A10"},
		{raw: "Standard_NV36adms_A10_v5", model: "A10"},
		{raw: "Standard_NV72ads_A10_v5", model: "A10"},
		{raw: "Standard_NV12s_v3", model: "M60"},
		{raw: "Standard_NV24s_v3", model: "M60"},
		{raw: "Standard_NV48s_v3", model: "M60"},
		{raw: "Standard_NV6", model: "M60"},
		{raw: "Standard_NV12", model: "M60"},
		{raw: "Standard_NV24", model: "M60"},
		{raw: "Standard_ND6s", model: "P40"},
		{raw: "Standard_ND12s", model: "P40"},
		{raw: "Standard_ND24s", model: "P40"},
		{raw: "Standard_ND24rs", model: "P40"},
		{raw: "Standard_NV4as_v4", model: "MI25"},
		{raw: "Standard_NV8as_v4", model: "MI25"},
		{raw: "Standard_NV16as_v4", model: "MI25"},
		{raw: "Standard_NV32as_v4", model: "MI25"},
		{raw: "Standard_NG8ads_V620_v1", model: "V620"},
		{raw: "Standard_NG16ads_V620_v1", model: "V620"},
		{raw: "Standard_NG32ads_V620_v1", model: "V620"},
		{raw: "Standard_NG32adms_V620_v1", model: "V620"},
		{raw: "Standard_NV4ads_V710_v5", model: "V710"},
		{raw: "Standard_NV8ads_V710_v5", model: "V710"},
		{raw: "Standard_NV12ads_V710_v5", model: "V710"},
		{raw: "Standard_NV24ads_V710_v5", model: "V710"},
		{raw: "Standard_NV28adms_V710_v5", model: "V710"},
	},
}

// TestPublicNames runs every public raw GPU name through the catalog. Each
// must map to its model; the few that stay unknown are reported once, with
// their provider and raw string, as the Runner reports unknown names it
// meets.
func TestPublicNames(t *testing.T) {
	c := DefaultCatalog()
	for _, p := range slices.Sorted(maps.Keys(publicNames)) {
		names := publicNames[p]
		if len(names) < 15 {
			t.Errorf("%s: %d public names, want the provider's whole list", p, len(names))
		}
		seen := map[string]bool{}
		unknown := 0
		for _, n := range names {
			if k := normalizeRaw(n.raw); seen[k] {
				t.Errorf("%s: %q listed twice", p, n.raw)
			} else {
				seen[k] = true
			}
			a, ok := c.Lookup(p, n.raw)
			switch {
			case n.model == "" && ok:
				t.Errorf("%s: %q maps to %s, want unknown (%s)", p, n.raw, a.Model, n.why)
			case n.model == "":
				unknown++
				t.Logf("unknown GPU name: provider=%s raw=%q (%s)", p, n.raw, n.why)
			case !ok:
				t.Errorf("unknown GPU name: provider=%s raw=%q; want %s (add it to catalog.yaml)", p, n.raw, n.model)
			case a.Model != n.model:
				t.Errorf("%s: %q maps to %s, want %s", p, n.raw, a.Model, n.model)
			}
		}
		t.Logf("%s: %d public raw GPU names, %d mapped, %d unknown", p, len(names), len(names)-unknown, unknown)
	}
}

// Every Azure size the catalog knows is a documented one: the alias table
// and the public list are the same set.
func TestAzureAliasesAreDocumented(t *testing.T) {
	var documented, aliased []string
	for _, n := range publicNames["azure"] {
		documented = append(documented, normalizeRaw(n.raw))
	}
	for _, a := range DefaultCatalog().Aliases("azure") {
		aliased = append(aliased, normalizeRaw(a.Raw))
	}
	slices.Sort(documented)
	slices.Sort(aliased)
	if !slices.Equal(documented, aliased) {
		t.Errorf("azure aliases and documented sizes differ:\n aliases    %v\n documented %v", aliased, documented)
	}
}
