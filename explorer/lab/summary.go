package lab

import (
	"io"
	"mime"
	"net/mail"
	"strings"

	"github.com/emersion/go-message/charset"
)

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// fillSummary reads the header section (RFC 5322 §2.2) for a listing.
// Unreadable headers leave the fields empty: a listing never fails on one
// malformed message.
func fillSummary(sum *MessageSummary, r io.Reader) {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return
	}
	h := msg.Header
	dec := func(k string) string {
		v := h.Get(k)
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
			v = d
		}
		return strings.Join(strings.Fields(v), " ")
	}
	sum.From = dec("From")
	sum.To = dec("To")
	sum.Subject = dec("Subject")
	if t, err := mail.ParseDate(h.Get("Date")); err == nil {
		sum.Date = t
	}
	for _, v := range h[envelopeToHeader] {
		sum.EnvelopeTo = append(sum.EnvelopeTo, strings.Trim(strings.TrimSpace(v), "<>"))
	}
}
