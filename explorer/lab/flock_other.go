//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris)

package lab

import "os"

// haveFlock: lockFile excludes no other Store or process here.
const haveFlock = false

// lockFile has no flock(2) here: the maildrop lock holds within one Store
// only (its map of locked users), not across Stores or processes.
func lockFile(path string) (f *os.File, ok bool, err error) { return nil, true, nil }
