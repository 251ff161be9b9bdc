//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris

package lab

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// haveFlock: lockFile excludes other Stores and processes on the data dir.
const haveFlock = true

// lockFile opens path and takes an exclusive flock(2) on it without
// waiting. ok is false when another open file holds the lock: another lab
// process on the same data dir, or another Store in this one. The kernel
// releases the lock when f is closed or the process dies, so a crash
// leaves no stale lock (the file itself stays; its presence means nothing).
func lockFile(path string) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	rc, err := f.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) {
			for {
				err = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
				if err != unix.EINTR {
					return
				}
			}
		})
		if cerr != nil {
			err = cerr
		}
	}
	if err == nil {
		return f, true, nil
	}
	f.Close()
	if errors.Is(err, unix.EWOULDBLOCK) {
		return nil, false, nil
	}
	return nil, false, err
}
