//go:build !linux

package lab

import (
	"errors"
	"os"
)

var errNoAnon = errors.New("unnamed files need Linux O_TMPFILE")

func openAnon(dir string) (*os.File, error) { return nil, errNoAnon }
func linkAnon(f *os.File, dst string) error { return errNoAnon }
