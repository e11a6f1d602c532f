// Package all registers every provider collector. Import it for its side
// effects; adding a provider adds one line here.
package all

import (
	_ "github.com/gpuprice/gpuprice/collectors/azure"  // azure
	_ "github.com/gpuprice/gpuprice/collectors/vastai" // vastai
)
