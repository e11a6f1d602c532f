// Package all registers every provider collector. Import it for its side
// effects; adding a provider adds one line here.
package all

import (
	_ "github.com/gpuprice/gpuprice/collectors/akash"        // akash
	_ "github.com/gpuprice/gpuprice/collectors/aws"          // aws
	_ "github.com/gpuprice/gpuprice/collectors/azure"        // azure
	_ "github.com/gpuprice/gpuprice/collectors/digitalocean" // digitalocean
	_ "github.com/gpuprice/gpuprice/collectors/gcp"          // gcp
	_ "github.com/gpuprice/gpuprice/collectors/golem"        // golem
	_ "github.com/gpuprice/gpuprice/collectors/lambda"       // lambda
	_ "github.com/gpuprice/gpuprice/collectors/oci"          // oci
	_ "github.com/gpuprice/gpuprice/collectors/ovhcloud"     // ovhcloud
	_ "github.com/gpuprice/gpuprice/collectors/owned"        // owned: list
	_ "github.com/gpuprice/gpuprice/collectors/runpod"       // runpod
	_ "github.com/gpuprice/gpuprice/collectors/scaleway"     // scaleway
	_ "github.com/gpuprice/gpuprice/collectors/static"       // static: list
	_ "github.com/gpuprice/gpuprice/collectors/vastai"       // vastai
	_ "github.com/gpuprice/gpuprice/collectors/verda"        // verda
)
