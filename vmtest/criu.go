package vmtest

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/u-root/u-root/pkg/ldd"

	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// CRIU is where Debian's criu package puts the program; vmtest/deps.sh
// installs it for make bench, which runs it beside kcr.
const CRIU = "/usr/sbin/criu"

// CRIUFiles returns the initramfs file specs that put the host's criu and
// the shared libraries it loads at their own paths in a guest of arch.
// Only a guest of the host's own architecture can run them.
func CRIUFiles(arch Arch) ([]string, error) {
	if arch.GOARCH != runtime.GOARCH {
		return nil, fmt.Errorf("criu: the host's %s is for %s guests only, not %s", CRIU, runtime.GOARCH, arch.Name)
	}
	if _, err := os.Stat(CRIU); err != nil {
		return nil, fmt.Errorf("%w (vmtest/deps.sh installs the criu package)", err)
	}
	files, err := ldd.List(CRIU)
	if err != nil {
		return nil, fmt.Errorf("criu's libraries: %w", err)
	}
	var specs []string
	for _, f := range append([]string{CRIU}, files...) {
		// The file itself at the path the loader asks for: a symlink
		// would point into the host's tree (/lib -> usr/lib, soname
		// links) that the guest does not have.
		real, err := filepath.EvalSymlinks(f)
		if err != nil {
			return nil, err
		}
		specs = append(specs, real+":"+strings.TrimPrefix(f, "/"))
	}
	return specs, nil
}

// criuModules are the kernel modules whose features CRIU probes for when
// it starts (kerndat) or dumps (socket diagnostics): without them, it
// refuses to run at all. Those a kernel has built in are not looked for.
var criuModules = []string{
	"unix_diag", "inet_diag", "tcp_diag", "udp_diag", "raw_diag",
	"netlink_diag", "packet_diag", "tun", "veth",
	// nf_tables needs libcrc32c, whose init asks the crypto API for
	// "crc32c" (a soft dependency modinfo does not resolve): the
	// generic one, which every arch has.
	"crc32c_generic", "nf_tables",
}

// CRIUModuleFiles returns the initramfs file specs of the kernel modules
// CRIU needs on b's kernel, with the modules they depend on, in a load
// order: guestproto.CRIUModuleDir/NN-name.ko, to be loaded by name order.
func CRIUModuleFiles(b Build) ([]string, error) {
	// The kernel package's tree: .../boot/vmlinuz-VER and .../lib/modules/VER.
	ver := strings.TrimPrefix(filepath.Base(b.Kernel), "vmlinuz-")
	dir := filepath.Join(filepath.Dir(filepath.Dir(b.Kernel)), "lib", "modules", ver)
	byName := map[string]string{}
	err := filepath.WalkDir(filepath.Join(dir, "kernel"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".ko") {
			byName[strings.ReplaceAll(strings.TrimSuffix(d.Name(), ".ko"), "-", "_")] = p
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("the modules of %s: %w", b.Kernel, err)
	}
	var order []string
	seen := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		path, ok := byName[name]
		if seen[name] || !ok {
			return nil // loaded already, or built in (or not built)
		}
		seen[name] = true
		out, err := exec.Command("modinfo", "-F", "depends", path).Output()
		if err != nil {
			return fmt.Errorf("modinfo %s: %w", path, err)
		}
		for _, dep := range strings.Split(strings.TrimSpace(string(out)), ",") {
			if dep != "" {
				if err := visit(dep); err != nil {
					return err
				}
			}
		}
		order = append(order, path)
		return nil
	}
	for _, m := range criuModules {
		if err := visit(m); err != nil {
			return nil, err
		}
	}
	var specs []string
	for i, p := range order {
		specs = append(specs, fmt.Sprintf("%s:%s/%02d-%s", p, strings.TrimPrefix(guestproto.CRIUModuleDir, "/"), i, filepath.Base(p)))
	}
	return specs, nil
}
