package lab

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// openAnon opens an unnamed file in dir (O_TMPFILE, Linux 3.11): it has
// no directory entry until linkAnon gives it one, so a crash leaves
// nothing behind, and it costs one directory update instead of a create
// in tmp/ and a rename into new/.
func openAnon(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), filepath.Join(dir, "(unnamed)")), nil
}

// linkAnon names an unnamed file. linkat with AT_EMPTY_PATH needs
// CAP_DAC_READ_SEARCH; the /proc/self/fd path works for any user.
func linkAnon(f *os.File, dst string) error {
	err := unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", f.Fd()), unix.AT_FDCWD, dst, unix.AT_SYMLINK_FOLLOW)
	if err != nil {
		return &os.LinkError{Op: "linkat", Old: f.Name(), New: dst, Err: err}
	}
	return nil
}
