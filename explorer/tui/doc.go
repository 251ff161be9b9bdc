// Package tui is postlab's terminal app (tview): the Session screen, where a
// learner runs a real SMTP (RFC 5321) or POP3 (RFC 1939) conversation and
// sees every line explained; the lab's Mailboxes and Server log; Diagnose;
// Lessons, where a step of the course sits beside the same session and its
// check marks appear as the student acts; and Troubleshoot, which explains a
// pasted reply line (RFC 3463 codes), bounce (RFC 3464) or message header
// (RFC 5321 §4.4 Received, RFC 8601 Authentication-Results, RFC 8617 ARC).
//
// Screens are thin: they render models (TraceModel, CommandModel,
// ComposeModel, lessons.Runner...) that hold the state and are tested
// without a screen, and they reach the rest of postlab through small
// interfaces (Dialer, Session, MailboxSource, TraceSource, Diagnoser, Lab)
// so that cmd/postlab wires the real packages and tests wire fakes. Network
// work runs in goroutines and reaches the UI only through
// Application.QueueUpdateDraw; text that came from a server, a lesson or a
// pasted message is drawn verbatim or passed through tview.Escape, so
// "EHLO [127.0.0.1]" keeps its brackets.
//
// In a classroom (postlab serve --classroom) students point the app at the
// teacher's lab (Options.LabHost, or the connect form's "Teacher's lab…"):
// no lab runs locally, the presets use the lab's default ports on that host,
// and only the student's own password, typed in a masked field, is used.
package tui
