package lab

import (
	"bufio"
	"crypto/rsa"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"path/filepath"
	"strings"

	"github.com/emersion/go-msgauth/dkim"

	"postlab/explorer/lab/labdns"
)

// DKIM signing of submitted mail (RFC 6376), with the key the lab
// publishes at DKIMSelector._domainkey.DOMAIN. As a real submission server
// does, the lab signs what its authenticated users send from their own
// address in its domain (sender.go); mail arriving on the MX port comes from outside and is stored as
// it came. The signature covers the message as the client sent it: the
// Return-Path and Received fields the lab adds go above it, unsigned.

// dkimSignedFields are the header fields signed when present: RFC 6376
// §5.4.1's list, Message-ID and Sender, and the MIME fields that decide
// how the body reads (RFC 2045).
var dkimSignedFields = []string{
	"from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id",
	"in-reply-to", "references",
	"mime-version", "content-type", "content-transfer-encoding", "content-id",
	"content-description", "content-disposition", "content-language",
	"resent-date", "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-message-id",
	"list-id", "list-help", "list-unsubscribe", "list-unsubscribe-post", "list-subscribe",
	"list-post", "list-owner", "list-archive",
}

// loadDKIMKey reads (or creates) DATA/dkim/SELECTOR.key when something
// uses it: the DNS zone publishes it and submission signs with it.
func (l *Lab) loadDKIMKey(b *bound) error {
	need := b.dnsTCP != nil
	for _, sl := range b.smtp {
		need = need || sl.submission
	}
	if !need {
		return nil
	}
	key, err := labdns.LoadOrCreateDKIMKey(filepath.Join(l.cfg.DataDir, "dkim", DKIMSelector+".key"))
	if err != nil {
		return fmt.Errorf("dkim key: %w", err)
	}
	l.dkimKey = key
	return nil
}

// dkimHeader is what signing needs from a message's header section.
type dkimHeader struct {
	fields []string // lower-case names of the fields to sign, in order, repeated as often as present
	from   []string // the From: field values
}

// readDKIMHeader reads the header section; ok is false when it does not end
// in an empty line (a verifier could not find the body either).
func readDKIMHeader(r io.Reader) (h dkimHeader, ok bool, err error) {
	signed := make(map[string]bool, len(dkimSignedFields))
	for _, f := range dkimSignedFields {
		signed[f] = true
	}
	br := bufio.NewReader(r)
	var cur *string // the From: value being unfolded
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			return h, false, nil
		}
		if err != nil {
			return h, false, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return h, true, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur != nil {
				*cur += line
			}
			continue
		}
		cur = nil
		name, value, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if signed[name] {
			h.fields = append(h.fields, name)
		}
		if name == "from" {
			h.from = append(h.from, value)
			cur = &h.from[len(h.from)-1]
		}
	}
}

// dkimFromDomain checks that the message has one From: field and that every
// address in it is in domain (RFC 5322 §3.6 allows one From:, DMARC
// (RFC 7489 §6.6.1) wants it too), and returns the addresses. why says
// what is wrong otherwise.
func dkimFromDomain(from []string, domain string) (addrs []string, why string) {
	switch len(from) {
	case 0:
		return nil, "the message has no From: field"
	case 1:
	default:
		return nil, fmt.Sprintf("the message has %d From: fields (RFC 5322 section 3.6 allows one)", len(from))
	}
	// Encoded words in other charsets stay as they are: only the
	// addresses matter here.
	p := mail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: func(_ string, in io.Reader) (io.Reader, error) { return in, nil }}}
	list, err := p.ParseList(from[0])
	if err != nil || len(list) == 0 {
		return nil, fmt.Sprintf("its From: %q is not an address", strings.TrimSpace(from[0]))
	}
	for _, a := range list {
		_, d, _ := cutLastAt(a.Address)
		if d = strings.TrimSuffix(strings.ToLower(d), "."); d != domain {
			return nil, fmt.Sprintf("its From: domain %s is not %s, the only domain the lab has a key for (a receiver's DMARC check counts a signature only when its d= is the From: domain, RFC 7489 section 3.1.1)", d, domain)
		}
		addrs = append(addrs, a.Address)
	}
	return addrs, ""
}

// dkimSign returns the DKIM-Signature field (with its CRLF) for the message
// in msg, submitted by user, or "" and why the lab does not sign it.
func dkimSign(key *rsa.PrivateKey, domain, user string, msg io.ReaderAt, size int64) (sig, why string) {
	h, ok, err := readDKIMHeader(io.NewSectionReader(msg, 0, size))
	switch {
	case err != nil:
		return "", fmt.Sprintf("reading the header: %v", err)
	case !ok:
		return "", "the message has no empty line after its header section, so no verifier could find its body"
	}
	addrs, why := dkimFromDomain(h.from, domain)
	if why == "" {
		why = dkimFromOwner(addrs, user, domain)
	}
	if why != "" {
		return "", why
	}
	s, err := dkim.NewSigner(&dkim.SignOptions{
		Domain:                 domain,
		Selector:               DKIMSelector,
		Signer:                 key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             h.fields,
	})
	if err != nil {
		return "", err.Error()
	}
	if _, err := io.Copy(s, io.NewSectionReader(msg, 0, size)); err != nil {
		s.Close()
		return "", err.Error()
	}
	if err := s.Close(); err != nil {
		return "", err.Error()
	}
	return s.Signature(), ""
}

// dkimTag returns the value of one tag of a DKIM-Signature field.
func dkimTag(sig, tag string) string {
	v := strings.TrimPrefix(sig, "DKIM-Signature:")
	v = strings.NewReplacer("\r\n", "", "\t", "", " ", "").Replace(v)
	for _, p := range strings.Split(v, ";") {
		if k, val, ok := strings.Cut(p, "="); ok && k == tag {
			return val
		}
	}
	return ""
}
