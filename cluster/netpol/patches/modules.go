// Patched copy of github.com/cilium/cilium@v1.15.19 pkg/datapath/linux/modules/modules.go (sctp-e2e):
// cluster/netpol/build.sh builds from a copy of the module with this file in place: tolerate kernels without module support.
// SPDX-License-Identifier: Apache-2.0
// Copyright Authors of Cilium

package modules

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/cilium/cilium/pkg/command/exec"
	"github.com/cilium/cilium/pkg/defaults"
	"github.com/cilium/cilium/pkg/hive/cell"
	"github.com/cilium/cilium/pkg/slices"
)

// Manager stores information about loaded modules and provides a search operation.
type Manager struct {
	modulesList []string
	// allBuiltin: the kernel has no module support (CONFIG_MODULES=n, no /proc/modules), so everything
	// it has is built in and there is nothing to load. [sctp-e2e cluster/netpol patch]
	allBuiltin bool
}

func (m *Manager) Start(cell.HookContext) (err error) {
	m.modulesList, err = listModules()
	if err != nil && errors.Is(err, fs.ErrNotExist) {
		m.allBuiltin, m.modulesList = true, nil
		return nil
	}
	return err
}

// FindModules checks whether the given kernel modules are loaded and also
// returns a slice with names of modules which are not loaded.
func (m *Manager) FindModules(expectedNames ...string) (bool, []string) {
	if m.allBuiltin {
		return true, nil
	}
	return slices.SubsetOf(expectedNames, m.modulesList)
}

// FindOrLoadModules checks whether the given kernel modules are loaded and
// tries to load those which are not.
func (m *Manager) FindOrLoadModules(expectedNames ...string) error {
	found, diff := m.FindModules(expectedNames...)
	if found {
		return nil
	}
	for _, unloadedModule := range diff {
		if _, err := exec.WithTimeout(
			defaults.ExecTimeout, moduleLoader(), unloadedModule).CombinedOutput(
			nil, false); err != nil {
			return fmt.Errorf("could not load module %s: %w",
				unloadedModule, err)
		}
	}
	return nil
}

func newManager(lc cell.Lifecycle) *Manager {
	m := &Manager{}

	lc.Append(cell.Hook{OnStart: m.Start})

	return m
}
