package main

import (
	"context"

	"github.com/spf13/cobra"

	"postlab/explorer"
)

// lineConn is what the line-mode runner needs of one connected SMTP or
// POP3 session; the two session types differ only behind these funcs.
type lineConn struct {
	*explorer.Session
	quit  func(context.Context)
	line  func(context.Context, string) error
	watch func(context.Context) *explorer.IdleWatch
	// dialFailed names the stage of a failed greeting or STARTTLS/STLS,
	// and words to add to its line (or "").
	dialFailed func(err error) (stage, suffix string)
	// auto runs the automatic steps after a good dial (EHLO, the login);
	// a failure names its stage.
	auto func(ctx context.Context, pass string) (stage string, err error)
}

// runLineSession is the frame of postlab smtp and postlab pop3: read the
// password, render the trace, dial, run the automatic steps, then feed
// stdin to the server. dial returns nil when nothing connected.
func runLineSession(cmd *cobra.Command, cf *connFlags, tf *traceFlags, opts explorer.Options,
	dial func(context.Context, explorer.Options) (*lineConn, error)) error {
	var pass string
	var err error
	if cf.user != "" {
		if pass, err = readPassword("Password for " + cf.user + ": "); err != nil {
			return err
		}
	}
	r, err := newRenderer(cmd.OutOrStdout(), tf)
	if err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	err = lineSession(ctx, cmd, cf, r, pass, opts, dial)
	if ctx.Err() != nil {
		r.Interrupted()
		return errInterrupted // Ctrl-C, wherever the session stood
	}
	return err
}

func lineSession(ctx context.Context, cmd *cobra.Command, cf *connFlags, r *renderer, pass string, opts explorer.Options,
	dial func(context.Context, explorer.Options) (*lineConn, error)) error {
	opts.OnEvent = r.Event
	c, err := dial(ctx, opts)
	if c == nil {
		r.Close()
		return dialExit(err)
	}
	defer c.Close()
	// An automatic step that fails ends the session: QUIT, and one line
	// naming the stage and the reply.
	stop := func(err error, stage string) error {
		if !c.Closed() && !explorer.IsNetwork(err) {
			c.quit(ctx)
		}
		r.Close()
		return stageError(stage, err)
	}
	auto := cf.starttls || cf.user != ""
	if err != nil && (auto || explorer.IsNetwork(err) || c.Closed()) {
		stage, suffix := c.dialFailed(err)
		if suffix != "" {
			return withSuffix(stop(err, stage), suffix)
		}
		return stop(err, stage)
	}
	if err == nil {
		if stage, err := c.auto(ctx, pass); err != nil {
			return stop(err, stage)
		}
	}
	// Without automatic steps a refused or malformed greeting is the user's
	// to answer (QUIT); a malformed one still sets the exit code.
	err = interact(ctx, cmd.InOrStdin(), c.Session, c.line, c.watch, err)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	return err
}
