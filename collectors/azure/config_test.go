package azure

import (
	"testing"

	"github.com/gpuprice/gpuprice/config/configtest"
)

func TestConfigErrors(t *testing.T) {
	configtest.FileErrors(t, map[string]string{
		"bad-region.yml": `testdata/config/bad-region.yml:5: providers.azure.regions[1]: "west europe" is not an Azure region name`,
	})
}
