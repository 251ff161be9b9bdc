package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"
)

// readPassword returns the password from POSTLAB_PASSWORD or, on a terminal,
// a prompt without echo. Passwords never come from argv.
func readPassword(prompt string) (string, error) {
	if p, ok := os.LookupEnv("POSTLAB_PASSWORD"); ok {
		return p, nil
	}
	f, err := os.Open("/dev/tty")
	if err != nil {
		return "", usageErrorf("no password: set POSTLAB_PASSWORD or run on a terminal to be prompted")
	}
	defer f.Close()
	fmt.Fprint(f, prompt)
	if term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(f)
		if err != nil {
			return "", usageErrorf("reading password: %v", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return "", usageErrorf("reading password: %v", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
