package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"
)

// openTTY opens the terminal for the password prompt; tests replace it.
var openTTY = func() (*os.File, error) { return os.Open("/dev/tty") }

// passwordSet reports whether POSTLAB_PASSWORD holds a password: an empty
// one counts as not set (it is never sent as the password).
func passwordSet() bool { return os.Getenv("POSTLAB_PASSWORD") != "" }

// readPassword returns the password from POSTLAB_PASSWORD or, on a terminal,
// a prompt without echo. Passwords never come from argv. An empty
// POSTLAB_PASSWORD means a prompt, and an error where there is no terminal.
func readPassword(prompt string) (string, error) {
	p, err := readPasswordRaw(prompt)
	if err == nil && strings.ContainsAny(p, "\r\n\x00") {
		// Sent as a line (PASS) or inside one: a CR or LF would end it and
		// run the rest as a command (RFC 1939 §3, RFC 5321 §2.3.8).
		return "", usageErrorf("the password contains a line break or NUL: it cannot be sent on a command line; check POSTLAB_PASSWORD")
	}
	return p, err
}

func readPasswordRaw(prompt string) (string, error) {
	p, set := os.LookupEnv("POSTLAB_PASSWORD")
	if p != "" {
		return p, nil
	}
	f, err := openTTY()
	if err != nil {
		if set {
			return "", usageErrorf("POSTLAB_PASSWORD is empty: set it to the password, or unset it and run on a terminal to be prompted")
		}
		return "", usageErrorf("no password: set POSTLAB_PASSWORD or run on a terminal to be prompted")
	}
	defer f.Close()
	if term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(f, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(f)
		if err != nil {
			return "", usageErrorf("reading password: %v", err)
		}
		return string(b), nil
	}
	if set {
		return "", usageErrorf("POSTLAB_PASSWORD is empty and there is no terminal to prompt on: set it to the password")
	}
	fmt.Fprint(f, prompt)
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return "", usageErrorf("reading password: %v", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
