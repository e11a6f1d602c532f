package azure

import (
	"path/filepath"
	"testing"

	"github.com/gpuprice/gpuprice/config"
)

func TestConfigErrors(t *testing.T) {
	_, err := config.LoadFile(filepath.Join("testdata", "config", "bad-region.yml"))
	want := `testdata/config/bad-region.yml:5: providers.azure.regions[1]: "west europe" is not an Azure region name`
	if err == nil || err.Error() != want {
		t.Errorf("error\n got: %v\nwant: %s", err, want)
	}
}
