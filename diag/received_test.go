package diag

import (
	"testing"
	"time"
)

func TestParseReceived(t *testing.T) {
	cases := []struct {
		in                 string
		from, by, with, id string
		forAddr, ip        string
		ok                 bool
		unix               int64
	}{
		{"from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com with SMTPS id a640c23a62f3a-ab2c6d0a1e2sor123456766b.9.2025.01.06.03.10.56 for <bob@example.com> (Google Transport Security); Mon, 06 Jan 2025 03:10:57 -0800 (PST)",
			"mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])", "mx.google.com", "SMTPS", "a640c23a62f3a-ab2c6d0a1e2sor123456766b.9.2025.01.06.03.10.56", "bob@example.com", "209.85.220.41", true, 1736161857},
		{"by 2002:a05:6a20:1234 with SMTP id x; Mon, 6 Jan 2025 03:10:56 -0800", "", "2002:a05:6a20:1234", "SMTP", "x", "", "", true, 1736161856},
		{"(qmail 1234 invoked by uid 1000); 12 Mar 2025 08:59:59 -0000", "", "", "", "", "", "", true, 1741769999},
		{"from x (helo (nested (comment))) by y; garbage date", "x (helo (nested (comment)))", "y", "", "", "", "", false, 0},
		{"", "", "", "", "", "", "", false, 0},
		{"from APC01.outbound.protection.outlook.com (104.47.124.246) by HE1EUR01FT042.mail.protection.outlook.com (10.152.0.228) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384_P384) id 15.20.776.10 via Frontend Transport; Mon, 21 May 2018 05:07:58 +0000",
			"APC01.outbound.protection.outlook.com (104.47.124.246)", "HE1EUR01FT042.mail.protection.outlook.com (10.152.0.228)", "Microsoft SMTP Server", "15.20.776.10", "", "104.47.124.246", true, 1526879278},
	}
	for _, c := range cases {
		h, ok := ParseReceived(c.in)
		if ok != c.ok || h.From != c.from || h.By != c.by || h.With != c.with || h.ID != c.id || h.For != c.forAddr || h.IP != c.ip {
			t.Errorf("ParseReceived(%q) = %+v ok=%v", c.in, h, ok)
		}
		if ok && h.Time.Unix() != c.unix {
			t.Errorf("time of %q = %v (%d)", c.in, h.Time, h.Time.Unix())
		}
	}
}

func TestParseMailDateVariants(t *testing.T) {
	want := time.Date(2025, 3, 10, 10, 0, 0, 0, time.UTC)
	for _, s := range []string{"Mon, 10 Mar 2025 10:00:00 +0000", "10 Mar 2025 10:00:00 +0000 (UTC)", "Mon, 10 Mar 2025 10:00:00 GMT", "Mon, 10 Mar 2025 10:00:00 +0000 (GMT+00:00)"} {
		got, err := parseMailDate(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseMailDate(%q) = %v, %v", s, got, err)
		}
	}
}

func FuzzParseReceived(f *testing.F) {
	f.Add("from a (b [192.0.2.1]) by c with ESMTP id d for <e@f>; Mon, 10 Mar 2025 10:00:00 +0000")
	f.Add("from ((((( by ;;;")
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := ParseReceived(s)
		if ok && h.Time == nil {
			t.Fatal("ok without a time")
		}
	})
}
