package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kv/config"
	"kv/internal/kvtest"
	"kv/server"
)

// userClient is a go-redis client logged in as user.
func userClient(t *testing.T, s *kvtest.Server, user, pass string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Username: user, Password: pass, Protocol: 3,
		DialTimeout: kvtest.Timeout, ReadTimeout: kvtest.Timeout, MaxRetries: -1, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestACLKeyPatternLimitsReads(t *testing.T) {
	s := kvtest.Start(t)
	ctx := kvtest.Ctx(t)
	admin := s.Client(t)
	must(t, admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "+@all").Err())
	must(t, admin.Set(ctx, "app:1", "mine", 0).Err())
	must(t, admin.Set(ctx, "secret", "theirs", 0).Err())

	c := userClient(t, s, "app", "apppw")
	if v, err := c.Get(ctx, "app:1").Result(); err != nil || v != "mine" {
		t.Fatalf("own key: %q %v", v, err)
	}
	const keyErr = "NOPERM this user has no permissions to access one of the keys used as arguments"
	for _, cmd := range [][]any{{"GET", "secret"}, {"MGET", "app:1", "secret"}, {"SET", "secret", "x"}, {"STRLEN", "secret"}} {
		if err := c.Do(ctx, cmd...).Err(); err == nil || err.Error() != keyErr {
			t.Errorf("%v: %v", cmd, err)
		}
	}
	if v, _ := admin.Get(ctx, "secret").Result(); v != "theirs" {
		t.Fatalf("secret changed: %q", v)
	}
}

func TestACLCategoriesAndCommands(t *testing.T) {
	s := kvtest.Start(t)
	ctx := kvtest.Ctx(t)
	admin := s.Client(t)
	must(t, admin.Do(ctx, "ACL", "SETUSER", "ro", "on", "nopass", "allkeys", "+@read", "-strlen", "+acl|whoami").Err())
	c := userClient(t, s, "ro", "x")
	must(t, c.Get(ctx, "k").Err(), redis.Nil)
	tests := []struct {
		cmd  []any
		want string
	}{
		{[]any{"SET", "k", "v"}, "NOPERM this user has no permissions to run the 'set' command"},
		{[]any{"STRLEN", "k"}, "NOPERM this user has no permissions to run the 'strlen' command"},
		{[]any{"CONFIG", "GET", "port"}, "NOPERM this user has no permissions to run the 'config|get' command"},
		{[]any{"ACL", "WHOAMI"}, "ro"},
	}
	for _, tc := range tests {
		v, err := c.Do(ctx, tc.cmd...).Result()
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got, _ = v.(string)
		}
		if got != tc.want {
			t.Errorf("%v: %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

func TestACLSubcommands(t *testing.T) {
	s := kvtest.Start(t)
	r := s.Raw(t)
	h := "#" + strings.Repeat("ab", 32)
	tests := []struct{ cmd, want string }{
		{"ACL SETUSER u1 on >pw ~app:* +@read -get", "OK"},
		{"ACL SETUSER u1 " + h, "OK"},
		{"ACL LIST", `[user default on nopass ~* &* +@all user u1 on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 #` + strings.Repeat("ab", 32) + ` ~app:* resetchannels -@all +@read -get]`},
		{"ACL USERS", `[default u1]`},
		{"ACL GETUSER nobody", "(nil)"},
		{"ACL DELUSER u1 nobody", "1"},
		{"ACL DELUSER default", "(error) ERR The 'default' user cannot be removed"},
		{"ACL WHOAMI", "default"},
		{"ACL CAT nosuch", "(error) ERR Unknown category 'nosuch'"},
		{"ACL CAT a b", "(error) ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP."},
		{"ACL GENPASS 0", "(error) ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"},
		{"ACL GENPASS x", "(error) ERR value is not an integer or out of range"},
		{"ACL LOG x", "(error) ERR value is not an integer or out of range"},
		{"ACL LOG RESET", "OK"},
		{"ACL LOAD", "(error) ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."},
		{"ACL SAVE", "(error) ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."},
		{"ACL SETUSER bad\x00name", "(error) ERR Usernames can't contain spaces or null characters"},
		{"ACL SETUSER x +nosuch", "(error) ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"},
		{"ACL DRYRUN nobody get k", "(error) ERR User 'nobody' not found"},
		{"ACL SETUSER d on nopass ~a* +get", "OK"},
		{"ACL DRYRUN d get a1", "OK"},
		{"ACL DRYRUN d get b1", "This user has no permissions to access the 'b1' key"},
		{"ACL DRYRUN d set a1 v", "This user has no permissions to run the 'set' command"},
		{"ACL DRYRUN d nosuch", "(error) ERR Command 'nosuch' not found"},
		{"ACL DRYRUN d get", "(error) ERR wrong number of arguments for 'get' command"},
		{"ACL NOSUCH", "(error) ERR unknown subcommand 'NOSUCH'. Try ACL HELP."},
	}
	for _, tc := range tests {
		got := r.Do(strings.Split(tc.cmd, " ")...).String()
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.cmd, got, tc.want)
		}
	}
	if v := r.Do("ACL", "GENPASS"); len(v.Str) != 64 {
		t.Errorf("GENPASS: %s", v.String())
	}
	if v := r.Do("ACL", "GENPASS", "5"); len(v.Str) != 2 {
		t.Errorf("GENPASS 5: %s", v.String())
	}
	if v := r.Do("ACL", "CAT"); len(v.Elems) != 21 || string(v.Elems[0].Str) != "keyspace" {
		t.Errorf("CAT: %s", v.String())
	}
	if v := r.Do("ACL", "CAT", "hash"); !strings.Contains(v.String(), " hset ") || strings.Contains(v.String(), " get ") {
		t.Errorf("CAT hash: %s", v.String())
	}
	if v := r.Do("ACL", "HELP"); len(v.Elems) < 10 {
		t.Errorf("HELP: %s", v.String())
	}
	a := s.Raw(t)
	for _, tc := range []struct{ cmd, want string }{
		{"AUTH nobody x", "(error) WRONGPASS invalid username-password pair or user is disabled."},
		{"AUTH onlypass", "(error) ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"},
		{"AUTH d wrong", "OK"},
		{"ACL WHOAMI", "(error) NOPERM this user has no permissions to run the 'acl|whoami' command"},
	} {
		if got := a.Do(strings.Split(tc.cmd, " ")...).String(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.cmd, got, tc.want)
		}
	}
}

func TestACLGetuserShape(t *testing.T) {
	s := kvtest.Start(t)
	ctx := kvtest.Ctx(t)
	c := s.Client(t)
	must(t, c.Do(ctx, "ACL", "SETUSER", "g", "on", ">pw", "%R~r*", "&ch", "+get", "(~x* +set)").Err())
	v, err := c.Do(ctx, "ACL", "GETUSER", "g").Result()
	must(t, err)
	m := v.(map[any]any)
	want := map[string]any{
		"passwords": []any{"30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"},
		"commands":  "-@all +get", "keys": "%R~r*", "channels": "&ch",
	}
	for k, w := range want {
		if got := m[k]; !equalAny(got, w) {
			t.Errorf("%s: %#v, want %#v", k, got, w)
		}
	}
	if len(m) != 6 {
		t.Errorf("fields: %v", m)
	}
	sels := m["selectors"].([]any)
	if len(sels) != 1 {
		t.Fatalf("selectors: %v", sels)
	}
	sel := sels[0].(map[any]any)
	if sel["commands"] != "-@all +set" || sel["keys"] != "~x*" || sel["channels"] != "" {
		t.Errorf("selector: %v", sel)
	}
}

func equalAny(a, b any) bool {
	as, ok1 := a.([]any)
	bs, ok2 := b.([]any)
	if ok1 && ok2 {
		if len(as) != len(bs) {
			return false
		}
		for i := range as {
			if as[i] != bs[i] {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestACLLog(t *testing.T) {
	s := kvtest.Start(t)
	admin := s.Raw(t)
	admin.Do("ACL", "SETUSER", "lg", "on", "nopass", "~k*", "&c*", "+get", "+multi", "+exec")
	r := s.Raw(t)
	r.Do("AUTH", "lg", "x")
	r.Do("SET", "k", "v")
	r.Do("SET", "k", "v")
	r.Do("GET", "other")
	r.Do("MULTI")
	r.Do("GET", "other2")
	r.Do("EXEC")
	r.Do("AUTH", "lg2", "pw")
	v := admin.Do("ACL", "LOG")
	type entry struct{ count, reason, context, object, username string }
	want := []entry{
		{"1", "auth", "toplevel", "AUTH", "lg2"},
		{"1", "key", "multi", "other2", "lg"},
		{"1", "key", "toplevel", "other", "lg"},
		{"2", "command", "toplevel", "set", "lg"},
	}
	if len(v.Elems) != len(want) {
		t.Fatalf("log: %s", v.String())
	}
	for i, w := range want {
		f := map[string]string{}
		e := v.Elems[i]
		if len(e.Elems) != 14 {
			t.Fatalf("entry fields: %s", e.String())
		}
		for j := 0; j < len(e.Elems); j += 2 {
			f[string(e.Elems[j].Str)] = e.Elems[j+1].String()
		}
		got := entry{f["count"], f["reason"], f["context"], f["object"], f["username"]}
		if got != w {
			t.Errorf("entry %d: %+v, want %+v", i, got, w)
		}
		if !strings.Contains(f["client-info"], "user=lg") && i > 0 {
			t.Errorf("client-info: %s", f["client-info"])
		}
		if _, ok := f["age-seconds"]; !ok {
			t.Errorf("no age-seconds")
		}
	}
	if v := admin.Do("ACL", "LOG", "1"); len(v.Elems) != 1 {
		t.Errorf("LOG 1: %s", v.String())
	}
	admin.Do("ACL", "LOG", "RESET")
	if v := admin.Do("ACL", "LOG"); len(v.Elems) != 0 {
		t.Errorf("after RESET: %s", v.String())
	}
}

func TestACLExecRechecks(t *testing.T) {
	s := kvtest.Start(t)
	admin := s.Raw(t)
	admin.Do("ACL", "SETUSER", "tx", "on", "nopass", "allkeys", "+@all")
	r := s.Raw(t)
	r.Do("AUTH", "tx", "x")
	r.Do("MULTI")
	r.Do("SET", "a", "1")
	r.Do("GET", "a")
	admin.Do("ACL", "SETUSER", "tx", "-set")
	got := r.Do("EXEC").String()
	want := `[(error) NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand (nil)]`
	if got != want {
		t.Errorf("EXEC: %s", got)
	}
	// A command refused while queuing dooms the transaction.
	r.Do("MULTI")
	r.Do("SET", "a", "1")
	if got := r.Do("EXEC").String(); got != "(error) EXECABORT Transaction discarded because of previous errors." {
		t.Errorf("EXEC after refusal: %s", got)
	}
	admin.Do("ACL", "SETUSER", "tx", "-exec")
	r.Do("MULTI")
	if got := r.Do("EXEC").String(); got != "(error) EXECABORT Transaction discarded because of: NOPERM this user has no permissions to run the 'exec' command" {
		t.Errorf("refused EXEC: %s", got)
	}
}

func TestACLDeletedUserIsDisconnected(t *testing.T) {
	s := kvtest.Start(t)
	admin := s.Raw(t)
	admin.Do("ACL", "SETUSER", "gone", "on", "nopass", "+@all")
	r := s.Raw(t)
	r.Do("AUTH", "gone", "x")
	k := s.Raw(t)
	k.Do("AUTH", "gone", "x")
	if got := admin.Do("CLIENT", "KILL", "USER", "nobody").String(); got != "(error) ERR No such user 'nobody'" {
		t.Errorf("KILL USER nobody: %s", got)
	}
	if got := admin.Do("CLIENT", "KILL", "USER", "gone", "SKIPME", "yes").String(); got != "2" {
		t.Errorf("KILL USER: %s", got)
	}
	if _, err := k.ReadErr(); err == nil {
		t.Error("killed client still connected")
	}
	admin.Do("ACL", "SETUSER", "gone2", "on", "nopass", "+@all")
	r2 := s.Raw(t)
	r2.Do("AUTH", "gone2", "x")
	if got := admin.Do("ACL", "DELUSER", "gone2").String(); got != "1" {
		t.Fatal(got)
	}
	if _, err := r2.ReadErr(); err == nil {
		t.Error("client of a deleted user still connected")
	}
	// Deleting the user of the current connection: the reply comes, then the close.
	self := s.Raw(t)
	admin.Do("ACL", "SETUSER", "me", "on", "nopass", "+@all")
	self.Do("AUTH", "me", "x")
	if got := self.Do("ACL", "DELUSER", "me").String(); got != "1" {
		t.Fatal(got)
	}
	if _, err := self.ReadErr(); err == nil {
		t.Error("connection stayed open after deleting its own user")
	}
}

func TestRequirepassIsDefaultUserPassword(t *testing.T) {
	s := kvtest.Start(t)
	admin := s.Raw(t)
	if got := admin.Do("CONFIG", "SET", "requirepass", "s3cret").String(); got != "OK" {
		t.Fatal(got)
	}
	if got := admin.Do("PING").String(); got != "PONG" {
		t.Errorf("connections made before requirepass stay authenticated: %s", got)
	}
	if got := admin.Do("ACL", "LIST").String(); !strings.Contains(got, "user default on #"+"e8b1c8a1") && !strings.Contains(got, "user default on #") {
		t.Errorf("ACL LIST: %s", got)
	}
	r := s.Raw(t)
	tests := []struct{ cmd, want string }{
		{"PING", "(error) NOAUTH Authentication required."},
		{"AUTH wrong", "(error) WRONGPASS invalid username-password pair or user is disabled."},
		{"HELLO 3 AUTH default wrong", "(error) WRONGPASS invalid username-password pair or user is disabled."},
		{"AUTH s3cret", "OK"},
		{"ACL WHOAMI", "default"},
	}
	for _, tc := range tests {
		if got := r.Do(strings.Split(tc.cmd, " ")...).String(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.cmd, got, tc.want)
		}
	}
	admin.Do("ACL", "SETUSER", "h", "on", ">hp", "+@all")
	h := s.Raw(t)
	if v := h.Do("HELLO", "3", "AUTH", "h", "hp"); v.String() == "" || strings.HasPrefix(v.String(), "(error)") {
		t.Fatalf("HELLO AUTH: %s", v.String())
	}
	if got := h.Do("ACL", "WHOAMI").String(); got != "h" {
		t.Errorf("WHOAMI after HELLO AUTH: %s", got)
	}
	admin.Do("CONFIG", "SET", "requirepass", "")
	if got := s.Raw(t).Do("PING").String(); got != "PONG" {
		t.Errorf("after clearing requirepass: %s", got)
	}
}

func TestACLFileSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.acl")
	must(t, os.WriteFile(path, []byte("user default on nopass ~* &* +@all\nuser bob on >bobpw ~bob:* +@set +acl\n"), 0o644))
	cfg := config.New()
	must(t, cfg.SetFromFlag("aclfile", path))
	s := kvtest.Start(t, func(o *server.Options) { o.Config = cfg })
	admin := s.Raw(t)
	bob := s.Raw(t)
	if got := bob.Do("AUTH", "bob", "bobpw").String(); got != "OK" {
		t.Fatalf("bob from aclfile: %s", got)
	}
	if got := bob.Do("SADD", "bob:s", "m").String(); got != "1" {
		t.Errorf("bob SADD: %s", got)
	}
	admin.Do("ACL", "SETUSER", "carol", "on", ">cpw", "%R~c:*", "&news", "+@read", "(~x +set)")
	if got := admin.Do("ACL", "SAVE").String(); got != "OK" {
		t.Fatal(got)
	}
	list := admin.Do("ACL", "LIST").String()
	data, _ := os.ReadFile(path)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.Contains(list, line) {
			t.Errorf("saved line %q not in ACL LIST %s", line, list)
		}
	}
	admin.Do("ACL", "SETUSER", "dave", "on", "nopass")
	if got := admin.Do("ACL", "LOAD").String(); got != "OK" {
		t.Fatal(got)
	}
	if got := admin.Do("ACL", "LIST").String(); got != list {
		t.Errorf("after LOAD:\n%s\nwant\n%s", got, list)
	}
	// Reloading replaces bob's user object, so his connection is dropped.
	if _, err := bob.ReadErr(); err == nil {
		t.Error("bob's connection survived ACL LOAD")
	}
	must(t, os.WriteFile(path, []byte("user x on +nosuch\n"), 0o644))
	if got := admin.Do("ACL", "LOAD").String(); !strings.HasPrefix(got, "(error) ERR "+path+":1: Error in applying operation '+nosuch'") {
		t.Errorf("bad file: %s", got)
	}
	if got := admin.Do("ACL", "USERS").String(); got != "[bob carol default]" {
		t.Errorf("users after failed LOAD: %s", got)
	}
}

func TestProtectedModeDecision(t *testing.T) {
	// The machine may have no non-loopback address to dial from, so the decision is
	// tested directly; the accept path calls it with the peer's address.
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 1} }
	tests := []struct {
		protected, nopass bool
		addr              net.Addr
		deny              bool
	}{
		{true, true, tcp("10.0.0.1"), true},
		{true, true, tcp("127.0.0.1"), false},
		{true, true, tcp("::1"), false},
		{true, true, tcp("127.0.0.2"), true}, // Redis compares the text "127.0.0.1"
		{true, false, tcp("10.0.0.1"), false},
		{false, true, tcp("10.0.0.1"), false},
		{true, true, &net.UnixAddr{Name: "/tmp/s", Net: "unix"}, false},
	}
	for _, tc := range tests {
		if got := server.ProtectedModeDenies(tc.protected, tc.nopass, tc.addr); got != tc.deny {
			t.Errorf("%+v: %v", tc, got)
		}
	}
}

func TestProtectedModeOverTheWire(t *testing.T) {
	ip := nonLoopbackIP()
	if ip == nil {
		t.Skip("no non-loopback IPv4 address on this machine")
	}
	cfg := config.New()
	must(t, cfg.SetFromFlag("protected-mode", "yes"))
	e := kvtest.Start(t, func(o *server.Options) { o.Config = cfg })
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Skip(err)
	}
	go e.Srv.Serve(ln)
	nc, err := net.DialTimeout("tcp", ln.Addr().String(), kvtest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(kvtest.Timeout))
	buf := make([]byte, 4096)
	n, _ := nc.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.") {
		t.Fatalf("got %q", buf[:n])
	}
}

func nonLoopbackIP() net.IP {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP
		}
	}
	return nil
}

// --- TLS ---

type testPKI struct {
	dir                           string
	caFile, certFile, keyFile     string
	clientCertFile, clientKeyFile string
	caPool                        *x509.CertPool
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	p := &testPKI{dir: dir}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kv test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(t, err)
	caCert, _ := x509.ParseCertificate(caDER)
	p.caPool = x509.NewCertPool()
	p.caPool.AddCert(caCert)
	p.caFile = writePEM(t, dir, "ca.crt", "CERTIFICATE", caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		must(t, err)
		kb, _ := x509.MarshalECPrivateKey(key)
		return writePEM(t, dir, name+".crt", "CERTIFICATE", der), writePEM(t, dir, name+".key", "EC PRIVATE KEY", kb)
	}
	p.certFile, p.keyFile = issue("server", 2, x509.ExtKeyUsageServerAuth)
	p.clientCertFile, p.clientKeyFile = issue("client", 3, x509.ExtKeyUsageClientAuth)
	return p
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	path := filepath.Join(dir, name)
	must(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

// startTLS runs a server whose TLS listener uses the settings given.
func startTLS(t *testing.T, p *testPKI, settings map[string]string) string {
	t.Helper()
	cfg := config.New()
	must(t, cfg.SetFromFlag("tls-cert-file", p.certFile))
	must(t, cfg.SetFromFlag("tls-key-file", p.keyFile))
	must(t, cfg.SetFromFlag("tls-ca-cert-file", p.caFile))
	for k, v := range settings {
		must(t, cfg.SetFromFlag(k, v))
	}
	s := kvtest.Start(t, func(o *server.Options) { o.Config = cfg })
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	ln, err := s.Srv.TLSListener(raw)
	must(t, err)
	go s.Srv.Serve(ln)
	return ln.Addr().String()
}

func tlsClient(t *testing.T, addr string, conf *tls.Config) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: conf, Protocol: 3, DialTimeout: kvtest.Timeout,
		ReadTimeout: kvtest.Timeout, MaxRetries: -1, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTLS(t *testing.T) {
	p := newPKI(t)
	clientCert, err := tls.LoadX509KeyPair(p.clientCertFile, p.clientKeyFile)
	must(t, err)
	withCert := &tls.Config{RootCAs: p.caPool, ServerName: "localhost", Certificates: []tls.Certificate{clientCert}}
	noCert := &tls.Config{RootCAs: p.caPool, ServerName: "localhost"}

	ctx, cancel := context.WithTimeout(context.Background(), kvtest.Timeout)
	defer cancel()
	addr := startTLS(t, p, nil) // tls-auth-clients yes is the default
	c := tlsClient(t, addr, withCert)
	must(t, c.Set(ctx, "k", "v", 0).Err())
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET over TLS: %q %v", v, err)
	}
	if err := tlsClient(t, addr, noCert).Ping(ctx).Err(); err == nil {
		t.Fatal("a client without a certificate got in with tls-auth-clients yes")
	}

	opt := startTLS(t, p, map[string]string{"tls-auth-clients": "optional"})
	must(t, tlsClient(t, opt, noCert).Ping(ctx).Err())
	must(t, tlsClient(t, opt, withCert).Ping(ctx).Err())

	tls13 := startTLS(t, p, map[string]string{"tls-auth-clients": "no", "tls-protocols": "TLSv1.3"})
	old := &tls.Config{RootCAs: p.caPool, ServerName: "localhost", MaxVersion: tls.VersionTLS12}
	if err := tlsClient(t, tls13, old).Ping(ctx).Err(); err == nil {
		t.Fatal("TLS 1.2 client accepted with tls-protocols TLSv1.3")
	}
	must(t, tlsClient(t, tls13, noCert).Ping(ctx).Err())
}

func must(t *testing.T, err error, ok ...error) {
	t.Helper()
	if err != nil && (len(ok) == 0 || err != ok[0]) {
		t.Fatal(err)
	}
}
