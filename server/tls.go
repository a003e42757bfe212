package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// TLS for client connections. The listener asks for the current configuration on every
// handshake, so CONFIG SET of a tls-* setting applies to the next client, as in Redis.

var tlsSettings = []string{
	"tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-ca-cert-file", "tls-ca-cert-dir",
	"tls-auth-clients", "tls-protocols", "tls-ciphers", "tls-ciphersuites", "tls-prefer-server-ciphers",
	"tls-session-caching", "tls-session-cache-size", "tls-session-cache-timeout", "tls-dh-params-file",
}

// initTLS builds the TLS configuration when a certificate is configured, and rebuilds
// it when a tls-* setting changes. A configuration that fails to load leaves the
// previous one in force (and is reported by TLSListener when there is none).
func (s *Server) initTLS() {
	reload := func() {
		if s.cfg.TLSCertFile.Get() == "" && s.cfg.TLSKeyFile.Get() == "" {
			return
		}
		conf, err := s.buildTLSConfig()
		if err != nil {
			s.tlsErr.Store(&err)
			s.log.Warn("TLS configuration failed", "err", err)
			return
		}
		s.tlsConf.Store(conf)
	}
	reload()
	for _, name := range tlsSettings {
		s.cfg.OnChange(name, reload)
	}
}

func (s *Server) buildTLSConfig() (*tls.Config, error) {
	cfg := s.cfg
	if cfg.TLSKeyFilePass.Get() != "" {
		return nil, errors.New("tls-key-file-pass: encrypted private keys are not supported; use an unencrypted key file")
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile.Get(), cfg.TLSKeyFile.Get())
	if err != nil {
		return nil, fmt.Errorf("loading tls-cert-file/tls-key-file: %w", err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if min, max, err := tlsProtocols(cfg.TLSProtocols.Get()); err != nil {
		return nil, err
	} else if min != 0 {
		conf.MinVersion, conf.MaxVersion = min, max
	}
	if ciphers := cfg.TLSCiphers.Get(); ciphers != "" {
		ids, err := tlsCipherSuites(ciphers)
		if err != nil {
			return nil, err
		}
		conf.CipherSuites = ids
	}
	// tls-ciphersuites names TLS 1.3 suites; Go always enables all three and offers no
	// way to choose, so the setting is accepted and has no effect.
	if !cfg.TLSSessionCaching.Get() {
		conf.SessionTicketsDisabled = true
	}
	pool, err := loadCAs(cfg.TLSCACertFile.Get(), cfg.TLSCACertDir.Get())
	if err != nil {
		return nil, err
	}
	switch cfg.TLSAuthClients.Get() {
	case "no":
		conf.ClientAuth = tls.NoClientCert
	case "optional":
		conf.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if conf.ClientAuth != tls.NoClientCert {
		if pool == nil {
			return nil, errors.New("either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-auth-clients is yes or optional")
		}
		conf.ClientCAs = pool
	}
	return conf, nil
}

// tlsProtocols parses tls-protocols ("TLSv1.2 TLSv1.3"); "" means TLS 1.2 and 1.3.
func tlsProtocols(v string) (min, max uint16, err error) {
	for _, p := range strings.Fields(v) {
		var ver uint16
		switch strings.ToLower(p) {
		case "tlsv1":
			ver = tls.VersionTLS10
		case "tlsv1.1":
			ver = tls.VersionTLS11
		case "tlsv1.2":
			ver = tls.VersionTLS12
		case "tlsv1.3":
			ver = tls.VersionTLS13
		default:
			return 0, 0, fmt.Errorf("invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'")
		}
		if min == 0 || ver < min {
			min = ver
		}
		if ver > max {
			max = ver
		}
	}
	return min, max, nil
}

// tlsCipherSuites maps tls-ciphers, an OpenSSL list ("ECDHE-RSA-AES128-GCM-SHA256:..."),
// onto Go's TLS 1.2 suites. Names Go does not implement are an error, so a server
// never silently runs with ciphers other than those asked for.
func tlsCipherSuites(list string) ([]uint16, error) {
	byOpenSSL := map[string]uint16{}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		byOpenSSL[openSSLName(cs.Name)] = cs.ID
	}
	var ids []uint16
	for _, name := range strings.FieldsFunc(list, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		id, ok := byOpenSSL[name]
		if !ok {
			return nil, fmt.Errorf("tls-ciphers: cipher %q is not supported", name)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// openSSLName turns Go's IANA name (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) into
// OpenSSL's (ECDHE-RSA-AES128-GCM-SHA256).
func openSSLName(iana string) string {
	n := strings.TrimPrefix(iana, "TLS_")
	n = strings.Replace(n, "_WITH_", "_", 1)
	n = strings.ReplaceAll(n, "AES_128", "AES128")
	n = strings.ReplaceAll(n, "AES_256", "AES256")
	n = strings.ReplaceAll(n, "CHACHA20_POLY1305_SHA256", "CHACHA20_POLY1305")
	n = strings.ReplaceAll(n, "3DES_EDE_CBC", "DES_CBC3")
	if strings.HasPrefix(n, "RSA_") {
		n = strings.TrimPrefix(n, "RSA_")
	}
	return strings.ReplaceAll(n, "_", "-")
}

func loadCAs(file, dir string) (*x509.CertPool, error) {
	if file == "" && dir == "" {
		return nil, nil
	}
	pool := x509.NewCertPool()
	add := func(path string) error {
		pem, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s: no PEM certificates", path)
		}
		return nil
	}
	if file != "" {
		if err := add(file); err != nil {
			return nil, fmt.Errorf("loading tls-ca-cert-file: %w", err)
		}
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("loading tls-ca-cert-dir: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			// Like OpenSSL's hashed directory, files that are not certificates are
			// skipped rather than fatal.
			_ = add(filepath.Join(dir, e.Name()))
		}
	}
	return pool, nil
}

// TLSListener wraps ln so that every connection speaks TLS with the server's current
// configuration (tls-cert-file, tls-auth-clients...). It fails when no valid
// configuration was loaded.
func (s *Server) TLSListener(ln net.Listener) (net.Listener, error) {
	if s.tlsConf.Load() == nil {
		if errp := s.tlsErr.Load(); errp != nil {
			return nil, *errp
		}
		return nil, errors.New("TLS is not configured: set tls-cert-file and tls-key-file")
	}
	return tls.NewListener(ln, &tls.Config{
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return s.tlsConf.Load(), nil },
	}), nil
}
