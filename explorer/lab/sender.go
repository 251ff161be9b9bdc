package lab

import (
	"fmt"
	"strings"

	"github.com/emersion/go-smtp"
)

// Sender ownership on the submission ports. RFC 6409 §6.1 lets a
// submission server refuse a MAIL FROM "not authorized with the
// authentication used"; real ones do (Postfix reject_sender_login_mismatch,
// Exchange's Send As check). A lab user owns one address: NAME@DOMAIN, the
// one the lab and its classroom sheet hand out. Matching ignores case in
// both parts, as the lab's delivery does (mailboxFor), and an absolute
// domain ("postlab.test.") is the same name. The host name form
// (alice@mail.postlab.test) reaches alice's mailbox but is not her address:
// it would not get a DKIM signature either (d= is the domain).
//
// The null reverse-path <> is allowed after AUTH, as in Postfix: it claims
// nobody's address, a mail client sends it for read receipts (RFC 8098 asks
// for it), and the Received field still names the login.

// ownsAddress reports whether addr (local@domain, as go-smtp hands it over,
// quotes removed) is user's own address in domain.
func ownsAddress(user, domain, addr string) bool {
	local, d, ok := cutLastAt(addr)
	if !ok || user == "" {
		return false
	}
	d = strings.TrimSuffix(d, ".")
	return strings.EqualFold(local, user) && strings.EqualFold(d, domain)
}

// errSenderNotOwned is RFC 5321 §3.3's 553 "mailbox name not allowed" with
// RFC 3463's X.7.1 (delivery not authorized): Postfix's reply, shortened.
func errSenderNotOwned(from, user string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: fmt.Sprintf("<%s>: sender address not owned by user %s", from, user)}
}

// checkSender applies the rule to a MAIL FROM of an authenticated session
// and tells the trace what it decided when that is not the plain case.
func (s *session) checkSender(from string) error {
	l := s.cs.lab
	own := s.user + "@" + l.cfg.Domain
	switch {
	case from == "":
		s.cs.tr.note("MAIL FROM:<> (the null reverse-path of notifications, RFC 5321 section 4.5.5) accepted from %s: it claims no address, and mail clients send it for read receipts (RFC 8098)", s.user)
		return nil
	case ownsAddress(s.user, l.cfg.Domain, from):
		return nil
	}
	s.cs.tr.noteErr("MAIL FROM refused: %s is logged in and owns only <%s>; a submission server may refuse a sender its login does not own (RFC 6409 section 6.1), as Postfix's reject_sender_login_mismatch does. Use MAIL FROM:<%s>", s.user, own, own)
	return errSenderNotOwned(from, s.user)
}

// dkimFromOwner checks that every From: address is user's own (ownsAddress):
// a signature with d=DOMAIN on mail from another user's address would let
// one user pass DMARC as another (RFC 7489 section 3.1.1). The message is
// still delivered, unsigned: RFC 5321 leaves the header to the author.
func dkimFromOwner(addrs []string, user, domain string) (why string) {
	for _, a := range addrs {
		if !ownsAddress(user, domain, a) {
			return fmt.Sprintf("its From: <%s> is not the address of the logged-in user %s (%s@%s); the lab signs only a user's own mail, or one user could send DMARC-aligned mail as another (RFC 7489 section 3.1.1). It is delivered unsigned: RFC 5321 leaves header fields to the author",
				a, user, user, domain)
		}
	}
	return ""
}
