// Command postlab is a mail-protocol lab: an annotated SMTP/POP3 explorer,
// mail DNS and server diagnostics, and a local practice mail server.
//
// Each subcommand lives in its own file and registers itself with register.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes of the command-line contract.
const (
	exitOK      = 0
	exitFailed  = 1 // the thing checked failed
	exitUsage   = 2 // usage error
	exitNetwork = 3 // network or TLS failure
	// exitInterrupted is 128+SIGINT, what shells expect of a program that
	// Ctrl-C ended (smtp, pop3 and send catch it to close cleanly).
	exitInterrupted = 130
)

// exitError carries an exit code with its one-line message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, a...)}
}
func failErrorf(format string, a ...any) error {
	return &exitError{exitFailed, fmt.Errorf(format, a...)}
}
func netErrorf(format string, a ...any) error {
	return &exitError{exitNetwork, fmt.Errorf(format, a...)}
}

// errInterrupted ends a command that Ctrl-C stopped; the trace says so.
var errInterrupted = &exitError{exitInterrupted, errSilent}

// silentExit ends the program with code without printing anything more
// (the command already reported the outcome).
func silentExit(code int) error { return &exitError{code, errSilent} }

var errSilent = errors.New("")

// oneFile accepts exactly one FILE argument (or - for stdin); anything
// else is a usage error with an example, like oneHost and oneTarget.
func oneFile(what, example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch len(args) {
		case 1:
			return nil
		case 0:
			return usageErrorf("%s needs %s, or - to read it from stdin, e.g. %s (see '%s --help')", cmd.Name(), what, example, cmd.CommandPath())
		}
		return usageErrorf("%s takes one FILE, got %d arguments (%s): one message at a time, e.g. %s", cmd.Name(), len(args), strings.Join(args, " "), example)
	}
}

var commands []func() *cobra.Command

// register adds a subcommand; called from each subcommand file's init.
func register(f func() *cobra.Command) { commands = append(commands, f) }

// rootRun is what bare `postlab` does; the app file sets it.
var rootRun func(cmd *cobra.Command, args []string) error

// rootFlags lets the app file add the root's own flags (--no-lab, --data, ...).
var rootFlags func(cmd *cobra.Command)

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "postlab",
		Short:         "Learn, check and troubleshoot email protocols",
		Long:          "postlab runs annotated SMTP and POP3 sessions, diagnoses mail DNS and servers,\nfinds working mail-client settings, and bundles a practice mail server (the lab).",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
	}
	if rootFlags != nil {
		rootFlags(root)
	}
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if rootRun == nil {
			return cmd.Help()
		}
		return rootRun(cmd, args)
	}
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error { return checkLineFlags(cmd) }
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{exitUsage, fmt.Errorf("%v (see '%s --help')", err, c.CommandPath())}
	})
	for _, f := range commands {
		root.AddCommand(f())
	}
	return root
}

func main() { os.Exit(run(os.Args[1:])) }

// run executes the command line and returns the process exit code.
func run(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != errSilent {
			fmt.Fprintln(os.Stderr, "postlab: "+ee.Error())
		}
		return ee.code
	}
	// Errors from cobra itself (unknown command, bad args) are usage errors.
	fmt.Fprintln(os.Stderr, "postlab: "+err.Error())
	return exitUsage
}
