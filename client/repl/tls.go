package repl

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
)

// TLSConfig is the client TLS configuration the --tls options ask for, or nil
// without --tls.
func (o *Options) TLSConfig(host string) (*tls.Config, error) {
	if !o.TLS {
		return nil, nil
	}
	conf := &tls.Config{ServerName: host, InsecureSkipVerify: o.Insecure, MinVersion: tls.VersionTLS12}
	if o.SNI != "" {
		conf.ServerName = o.SNI
	}
	if o.CACert != "" {
		pem, err := os.ReadFile(o.CACert)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New(o.CACert + ": no PEM certificates")
		}
		conf.RootCAs = pool
	}
	if o.Cert != "" || o.Key != "" {
		cert, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, err
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}
