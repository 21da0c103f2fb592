package rpc

import (
	"context"

	"github.com/drover/drover/internal/version"
	"github.com/drover/drover/internal/xmlrpc"
)

// addUpgradeMethods adds drover.getVersion, and drover.upgrade when the
// daemon can upgrade in place (docs/upgrade.md).
func (h *handler) addUpgradeMethods(m map[string]*method) {
	m["drover.getVersion"] = &method{result: "struct",
		help: "Get the build of the running Drover (getSupervisorVersion answers the Supervisor version it is compatible with)\n\n" +
			"@return struct result  build: the build, images: how many images the daemon process has run (1 + its upgrades), " +
			"upgrade_failed: why the last upgrade accepted did not switch (\"\" if it did not fail)",
		call: func(context.Context, []any) (any, error) {
			failed := ""
			if h.upgrade != nil {
				failed = h.upgrade.Failure()
			}
			return xmlrpc.Struct{{Name: "build", Value: version.Build}, {Name: "images", Value: h.images},
				{Name: "upgrade_failed", Value: failed}}, nil
		}}
	if h.upgrade == nil {
		return
	}
	m["drover.upgrade"] = &method{result: "struct",
		help: "Upgrade the daemon in place: exec the binary now on disk, handing over every process, pipe and socket; " +
			"no program restarts. Returns once the new binary passed its dry run; the switch follows\n\n" +
			"@return struct result  from: the running build, to: the new build",
		call: func(context.Context, []any) (any, error) {
			to, err := h.upgrade.Start()
			if err != nil {
				return nil, toFault(err, "")
			}
			return xmlrpc.Struct{{Name: "from", Value: version.Build}, {Name: "to", Value: to}, {Name: "images", Value: h.images}}, nil
		}}
}
