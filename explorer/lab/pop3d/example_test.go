package pop3d_test

import (
	"context"
	"crypto/tls"
	"log"
	"net"
	"time"

	"postlab/explorer"
	"postlab/explorer/lab/pop3d"
)

// The lab runs one Server on two listeners: the plain port offers STLS, the
// other is implicit TLS because its listener comes from tls.NewListener.
func ExampleNewServer() {
	var (
		tlsConfig *tls.Config         // the lab's certificate
		users     pop3d.Authenticator // also a SecretAuthenticator: APOP on
		store     pop3d.MaildropStore // the Maildir store
	)
	srv := pop3d.NewServer(pop3d.Config{
		Hostname:  "mail.postlab.test",
		TLSConfig: tlsConfig,
		Auth:      users,
		Store:     store,
		Trace: func(session uint64, remote string, ev explorer.Event) {
			log.Printf("%d %s %s %s", session, remote, ev.Dir, ev.Line) // "PASS ****"
		},
	})
	plain, err := net.Listen("tcp", "127.0.0.1:2110")
	if err != nil {
		log.Fatal(err)
	}
	secure, err := net.Listen("tcp", "127.0.0.1:2995")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(plain)
	go srv.Serve(tls.NewListener(secure, tlsConfig))

	// On SIGTERM: stop accepting, give sessions ten seconds to QUIT.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}
