package labdns_test

import (
	"context"
	"fmt"
	"net"

	"github.com/miekg/dns"

	"postlab/explorer/lab/labdns"
)

func Example() {
	s := labdns.NewServer(labdns.Zone{
		Domain: "postlab.test",
		Ports:  labdns.Ports{SMTP: 2525, Submission: 2587, Submissions: 2465, POP3: 2110},
		Faults: []string{"dmarc-none"},
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go s.ServeUDP(pc)
	defer s.Shutdown(context.Background())

	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"postlab.test.", dns.TypeMX},
		{"_pop3s._tcp.postlab.test.", dns.TypeSRV},
		{"_dmarc.postlab.test.", dns.TypeTXT},
		{"www.postlab.test.", dns.TypeA},
	} {
		m := new(dns.Msg).SetQuestion(q.name, q.qtype)
		r, err := dns.Exchange(m, pc.LocalAddr().String())
		if err != nil {
			panic(err)
		}
		fmt.Println(dns.RcodeToString[r.Rcode], r.Answer)
	}
	// Output:
	// NOERROR [postlab.test.	300	IN	MX	10 mail.postlab.test.]
	// NOERROR [_pop3s._tcp.postlab.test.	300	IN	SRV	0 0 0 .]
	// NOERROR [_dmarc.postlab.test.	300	IN	TXT	"v=DMARC1; p=none; rua=mailto:postmaster@postlab.test"]
	// NXDOMAIN []
}
