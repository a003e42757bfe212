package sentinel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"kv/resp"
)

// The state file is either kv's TOML or a Redis sentinel.conf, detected on load
// and written back in the same format, so an existing Redis deployment's file
// works unchanged. Every change is written atomically (temp file, fsync, rename,
// directory fsync): a sentinel that restarts resumes with the epochs and votes it
// had, which is what keeps it from voting twice in one epoch.

type fileFormat int

const (
	formatTOML fileFormat = iota
	formatConf
)

type stateFile struct {
	path   string
	format fileFormat
	// For sentinel.conf: the lines that are not "sentinel ..." directives, kept
	// verbatim (comments, server options such as logfile or dir).
	otherLines []string
	portLine   int // index in otherLines of the "port" line, or -1
}

// tomlFile is the TOML layout.
type tomlFile struct {
	Port                int                    `toml:"port,omitempty"`
	Bind                string                 `toml:"bind,omitempty"`
	MyID                string                 `toml:"myid,omitempty"`
	CurrentEpoch        uint64                 `toml:"current-epoch"`
	AnnounceIP          string                 `toml:"announce-ip,omitempty"`
	AnnouncePort        int                    `toml:"announce-port,omitempty"`
	SentinelUser        string                 `toml:"sentinel-user,omitempty"`
	SentinelPass        string                 `toml:"sentinel-pass,omitempty"`
	RequirePass         string                 `toml:"requirepass,omitempty"`
	DenyScriptsReconfig *bool                  `toml:"deny-scripts-reconfig,omitempty"`
	ResolveHostnames    bool                   `toml:"resolve-hostnames,omitempty"`
	AnnounceHostnames   bool                   `toml:"announce-hostnames,omitempty"`
	Masters             map[string]*tomlMaster `toml:"masters,omitempty"`
}

type tomlMaster struct {
	Host                 string            `toml:"host"`
	Port                 int               `toml:"port"`
	Quorum               int               `toml:"quorum"`
	DownAfter            int64             `toml:"down-after-milliseconds,omitempty"`
	FailoverTimeout      int64             `toml:"failover-timeout,omitempty"`
	ParallelSyncs        int               `toml:"parallel-syncs,omitempty"`
	AuthPass             string            `toml:"auth-pass,omitempty"`
	AuthUser             string            `toml:"auth-user,omitempty"`
	NotificationScript   string            `toml:"notification-script,omitempty"`
	ClientReconfigScript string            `toml:"client-reconfig-script,omitempty"`
	MasterRebootDown     int64             `toml:"master-reboot-down-after-period,omitempty"`
	RenameCommands       map[string]string `toml:"rename-commands,omitempty"`
	ConfigEpoch          uint64            `toml:"config-epoch"`
	LeaderEpoch          uint64            `toml:"leader-epoch"`
	KnownReplicas        []string          `toml:"known-replicas"`
	KnownSentinels       []tomlSentinel    `toml:"known-sentinels"`
}

type tomlSentinel struct {
	Host  string `toml:"host"`
	Port  int    `toml:"port"`
	RunID string `toml:"runid"`
}

// detectFormat: a .toml name is TOML, a .conf name is sentinel.conf; otherwise
// the first meaningful line decides (TOML has "key =" or "[table]").
func detectFormat(path string, data []byte) fileFormat {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		return formatTOML
	case ".conf":
		return formatConf
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			return formatTOML
		}
		f := strings.Fields(line)
		if len(f) >= 2 && (f[1] == "=" || strings.HasPrefix(f[1], "=")) || strings.Contains(f[0], "=") {
			return formatTOML
		}
		return formatConf
	}
	return formatTOML
}

// loadState reads the file into s (a missing file is created on first flush).
func loadState(path string, s *Sentinel) (*stateFile, error) {
	st := &stateFile{path: path, portLine: -1}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	st.format = detectFormat(path, data)
	if st.format == formatTOML {
		err = loadTOML(data, s)
	} else {
		err = st.loadConf(data, s)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

func loadTOML(data []byte, s *Sentinel) error {
	var f tomlFile
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) {
			return errors.New(sm.String())
		}
		return err
	}
	if f.Port != 0 {
		s.port = f.Port
	}
	if f.Bind != "" {
		s.bind = f.Bind
	}
	if f.MyID != "" {
		if len(f.MyID) != 40 {
			return errors.New("Malformed Sentinel id in myid option.")
		}
		s.myid = f.MyID
	}
	s.currentEpoch = f.CurrentEpoch
	s.announceIP, s.announcePort = f.AnnounceIP, f.AnnouncePort
	s.sentinelUser, s.sentinelPass, s.requirePass = f.SentinelUser, f.SentinelPass, f.RequirePass
	if f.DenyScriptsReconfig != nil {
		s.denyScriptsReconfig = *f.DenyScriptsReconfig
	}
	s.resolveHostnames, s.announceHostnames = f.ResolveHostnames, f.AnnounceHostnames
	for _, name := range sortedTOMLMasters(f.Masters) {
		tm := f.Masters[name]
		if tm.Quorum <= 0 {
			return fmt.Errorf("master %q: Quorum must be 1 or greater.", name)
		}
		m, err := s.createMaster(name, tm.Host, tm.Port, tm.Quorum)
		if err != nil {
			return fmt.Errorf("master %q: %v", name, err)
		}
		if tm.DownAfter < 0 || tm.FailoverTimeout < 0 || tm.MasterRebootDown < 0 {
			return fmt.Errorf("master %q: negative or zero time parameter.", name)
		}
		if tm.DownAfter > 0 {
			m.downAfter = tm.DownAfter
		}
		if tm.FailoverTimeout > 0 {
			m.failoverTimeout = tm.FailoverTimeout
		}
		if tm.ParallelSyncs > 0 {
			m.parallelSyncs = tm.ParallelSyncs
		}
		m.authPass, m.authUser = tm.AuthPass, tm.AuthUser
		m.notifyScript, m.reconfigScript = tm.NotificationScript, tm.ClientReconfigScript
		m.masterRebootDownAfter = tm.MasterRebootDown
		for k, v := range tm.RenameCommands {
			m.renamedCommands[strings.ToLower(k)] = v
		}
		m.configEpoch, m.leaderEpoch = tm.ConfigEpoch, tm.LeaderEpoch
		s.currentEpoch = max(s.currentEpoch, m.configEpoch)
		for _, r := range tm.KnownReplicas {
			host, p, err := splitHostPort(r)
			if err != nil {
				return fmt.Errorf("master %q: known replica %q: %v", name, r, err)
			}
			s.addSlave(m, host, p)
		}
		for _, ks := range tm.KnownSentinels {
			s.addSentinel(m, ks.Host, ks.Port, ks.RunID)
		}
	}
	return nil
}

func sortedTOMLMasters(m map[string]*tomlMaster) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func splitHostPort(hp string) (string, int, error) {
	i := strings.LastIndexByte(hp, ':')
	if i < 0 {
		return "", 0, errors.New("want host:port")
	}
	p, err := strconv.Atoi(hp[i+1:])
	if err != nil {
		return "", 0, errors.New("bad port")
	}
	return strings.Trim(hp[:i], "[]"), p, nil
}

// loadConf reads a Redis sentinel.conf: "sentinel monitor" lines first, then the
// other sentinel directives (which refer to the masters), as Redis orders them.
func (st *stateFile) loadConf(data []byte, s *Sentinel) error {
	type entry struct {
		n    int
		line string
		argv []string
	}
	var pre, mon, post []entry
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' {
			if trimmed != "# Generated by CONFIG REWRITE" {
				st.otherLines = append(st.otherLines, line)
			}
			continue
		}
		raw, err := resp.SplitArgs([]byte(trimmed))
		if err != nil || len(raw) == 0 {
			return fmt.Errorf("line %d: Unbalanced quotes in configuration line", n+1)
		}
		argv := make([]string, len(raw))
		for i, a := range raw {
			argv[i] = string(a)
		}
		switch strings.ToLower(argv[0]) {
		case "sentinel":
			if len(argv) < 2 {
				return fmt.Errorf("line %d: sentinel directive while not in sentinel mode", n+1)
			}
			e := entry{n + 1, line, argv[1:]}
			switch strings.ToLower(argv[1]) {
			case "monitor":
				mon = append(mon, e)
			case "myid", "resolve-hostnames", "announce-hostnames", "deny-scripts-reconfig":
				pre = append(pre, e)
			default:
				post = append(post, e)
			}
			continue
		case "port":
			if len(argv) == 2 {
				p, err := strconv.Atoi(argv[1])
				if err != nil || p < 0 || p > 65535 {
					return fmt.Errorf("line %d: Invalid port", n+1)
				}
				s.port = p
				st.portLine = len(st.otherLines)
			}
		case "bind":
			if len(argv) >= 2 {
				s.bind = argv[1]
			}
		case "requirepass":
			if len(argv) == 2 {
				s.requirePass = argv[1]
			}
		}
		st.otherLines = append(st.otherLines, line)
	}
	for _, group := range [][]entry{pre, mon, post} {
		for _, e := range group {
			if err := s.confDirective(e.argv); err != nil {
				return fmt.Errorf("line %d: >>> '%s'\n%s", e.n, e.line, err)
			}
		}
	}
	return nil
}

// confDirective applies one "sentinel ..." line (sentinelHandleConfiguration).
func (s *Sentinel) confDirective(argv []string) error {
	master := func() (*instance, error) {
		m := s.masters[argv[1]]
		if m == nil {
			return nil, errors.New("No such master with specified name.")
		}
		return m, nil
	}
	atoi := func(v string) int64 { n, _ := strconv.ParseInt(v, 10, 64); return n }
	name, argc := strings.ToLower(argv[0]), len(argv)
	switch {
	case name == "monitor" && argc == 5:
		q := int(atoi(argv[4]))
		if q <= 0 {
			return errors.New("Quorum must be 1 or greater.")
		}
		_, err := s.createMaster(argv[1], argv[2], int(atoi(argv[3])), q)
		return err
	case (name == "down-after-milliseconds" || name == "failover-timeout") && argc == 3:
		m, err := master()
		if err != nil {
			return err
		}
		v := atoi(argv[2])
		if v <= 0 {
			return errors.New("negative or zero time parameter.")
		}
		if name == "failover-timeout" {
			m.failoverTimeout = v
		} else {
			m.downAfter = v
			s.propagateDownAfter(m)
		}
	case name == "parallel-syncs" && argc == 3:
		m, err := master()
		if err != nil {
			return err
		}
		m.parallelSyncs = int(atoi(argv[2]))
	case (name == "notification-script" || name == "client-reconfig-script") && argc == 3:
		m, err := master()
		if err != nil {
			return err
		}
		if !executable(argv[2]) {
			if name == "notification-script" {
				return errors.New("Notification script seems non existing or non executable.")
			}
			return errors.New("Client reconfiguration script seems non existing or non executable.")
		}
		if name == "notification-script" {
			m.notifyScript = argv[2]
		} else {
			m.reconfigScript = argv[2]
		}
	case name == "auth-pass" && argc == 3:
		m, err := master()
		if err != nil {
			return err
		}
		m.authPass = argv[2]
	case name == "auth-user" && argc == 3:
		m, err := master()
		if err != nil {
			return err
		}
		m.authUser = argv[2]
	case name == "current-epoch" && argc == 2:
		if e := uint64(atoi(argv[1])); e > s.currentEpoch {
			s.currentEpoch = e
		}
	case name == "myid" && argc == 2:
		if len(argv[1]) != 40 {
			return errors.New("Malformed Sentinel id in myid option.")
		}
		s.myid = argv[1]
	case name == "config-epoch" && argc == 3:
		m, err := master()
		if err != nil {
			return err
		}
		m.configEpoch = uint64(atoi(argv[2]))
		s.currentEpoch = max(s.currentEpoch, m.configEpoch)
	case name == "leader-epoch" && argc == 3:
		m, err := master()
		if err != nil {
			return err
		}
		m.leaderEpoch = uint64(atoi(argv[2]))
	case (name == "known-slave" || name == "known-replica") && argc == 4:
		m, err := master()
		if err != nil {
			return err
		}
		if s.addSlave(m, argv[2], int(atoi(argv[3]))) == nil {
			return errors.New("Duplicate slave or invalid address.")
		}
	case name == "known-sentinel" && (argc == 4 || argc == 5):
		if argc == 5 { // the old form without a run id is ignored, as Redis does
			m, err := master()
			if err != nil {
				return err
			}
			if s.addSentinel(m, argv[2], int(atoi(argv[3])), argv[4]) == nil {
				return errors.New("Duplicate sentinel or invalid address.")
			}
		}
	case name == "rename-command" && argc == 4:
		m, err := master()
		if err != nil {
			return err
		}
		k := strings.ToLower(argv[2])
		if _, dup := m.renamedCommands[k]; dup {
			return errors.New("Same command renamed multiple times with rename-command.")
		}
		m.renamedCommands[k] = argv[3]
	case name == "announce-ip" && argc == 2:
		s.announceIP = argv[1]
	case name == "announce-port" && argc == 2:
		s.announcePort = int(atoi(argv[1]))
	case name == "deny-scripts-reconfig" && argc == 2:
		v, ok := yesno(argv[1])
		if !ok {
			return errors.New("Please specify yes or no for the deny-scripts-reconfig options.")
		}
		s.denyScriptsReconfig = v
	case name == "sentinel-user" && argc == 2:
		s.sentinelUser = argv[1]
	case name == "sentinel-pass" && argc == 2:
		s.sentinelPass = argv[1]
	case name == "resolve-hostnames" && argc == 2:
		v, ok := yesno(argv[1])
		if !ok {
			return errors.New("Please specify yes or no for the resolve-hostnames option.")
		}
		s.resolveHostnames = v
	case name == "announce-hostnames" && argc == 2:
		v, ok := yesno(argv[1])
		if !ok {
			return errors.New("Please specify yes or no for the announce-hostnames option.")
		}
		s.announceHostnames = v
	case name == "master-reboot-down-after-period" && argc == 3:
		m, err := master()
		if err != nil {
			return err
		}
		v := atoi(argv[2])
		if v < 0 {
			return errors.New("negative time parameter.")
		}
		m.masterRebootDownAfter = v
	default:
		return errors.New("Unrecognized sentinel configuration statement.")
	}
	return nil
}

func yesno(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "yes":
		return true, true
	case "no":
		return false, true
	}
	return false, false
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// propagateDownAfter gives the master's down-after to its replicas and sentinels.
func (s *Sentinel) propagateDownAfter(m *instance) {
	for _, r := range m.slaves {
		r.downAfter = m.downAfter
	}
	for _, p := range m.sentinels {
		p.downAfter = m.downAfter
	}
}

// flushConfig writes the state (sentinelFlushConfig). Called with mu held.
func (s *Sentinel) flushConfig() error {
	var data []byte
	if s.state.format == formatTOML {
		var err error
		data, err = s.renderTOML()
		if err != nil {
			return err
		}
	} else {
		data = s.renderConf()
	}
	return writeAtomic(s.state.path, data)
}

func (s *Sentinel) flushConfigLogged() {
	if err := s.flushConfig(); err != nil {
		s.log.Warn("WARNING: Sentinel was not able to save the new configuration on disk!!!", "err", err)
	}
}

// knownReplicaAddr is the address recorded for a replica: during a failover the
// promoted replica is the current master, and the old master's address stands in
// for it, as Redis writes it.
func knownReplicaAddr(m, r *instance) *addr {
	if r.addr.equal(currentMasterAddr(m)) {
		return m.addr
	}
	return r.addr
}

func (s *Sentinel) renderTOML() ([]byte, error) {
	f := tomlFile{Port: s.port, MyID: s.myid, CurrentEpoch: s.currentEpoch, AnnounceIP: s.announceIP,
		AnnouncePort: s.announcePort, SentinelUser: s.sentinelUser, SentinelPass: s.sentinelPass,
		RequirePass: s.requirePass, ResolveHostnames: s.resolveHostnames, AnnounceHostnames: s.announceHostnames,
		Masters: map[string]*tomlMaster{}}
	if s.bind != "127.0.0.1" {
		f.Bind = s.bind
	}
	if !s.denyScriptsReconfig {
		no := false
		f.DenyScriptsReconfig = &no
	}
	for name, m := range s.masters {
		ma := currentMasterAddr(m)
		tm := &tomlMaster{Host: s.announceAddr(ma), Port: ma.port, Quorum: m.quorum,
			AuthPass: m.authPass, AuthUser: m.authUser, NotificationScript: m.notifyScript,
			ClientReconfigScript: m.reconfigScript, MasterRebootDown: m.masterRebootDownAfter,
			ConfigEpoch: m.configEpoch, LeaderEpoch: m.leaderEpoch, KnownReplicas: []string{},
			KnownSentinels: []tomlSentinel{}}
		if m.downAfter != s.t.defaultDownAfter {
			tm.DownAfter = m.downAfter
		}
		if m.failoverTimeout != s.t.defaultFailoverTimeout {
			tm.FailoverTimeout = m.failoverTimeout
		}
		if m.parallelSyncs != s.t.defaultParallelSyncs {
			tm.ParallelSyncs = m.parallelSyncs
		}
		if len(m.renamedCommands) > 0 {
			tm.RenameCommands = m.renamedCommands
		}
		for _, rn := range sortedNames(m.slaves) {
			a := knownReplicaAddr(m, m.slaves[rn])
			tm.KnownReplicas = append(tm.KnownReplicas, s.announceAddr(a)+":"+strconv.Itoa(a.port))
		}
		for _, pn := range sortedNames(m.sentinels) {
			p := m.sentinels[pn]
			tm.KnownSentinels = append(tm.KnownSentinels, tomlSentinel{Host: s.announceAddr(p.addr), Port: p.addr.port, RunID: p.runid})
		}
		f.Masters[name] = tm
	}
	var buf bytes.Buffer
	buf.WriteString("# kv sentinel state: the settings and what this sentinel has learned.\n")
	buf.WriteString("# Rewritten by the sentinel on every change.\n")
	enc := toml.NewEncoder(&buf)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *Sentinel) renderConf() []byte {
	var b strings.Builder
	other := s.state.otherLines
	portDone := false
	for i, l := range other {
		if i == s.state.portLine {
			fmt.Fprintf(&b, "port %d\n", s.port)
			portDone = true
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	// Drop trailing blank lines so repeated rewrites do not grow the file.
	out := strings.TrimRight(b.String(), "\n")
	b.Reset()
	if out != "" {
		b.WriteString(out)
		b.WriteByte('\n')
	}
	if !portDone && s.port != 26379 {
		fmt.Fprintf(&b, "port %d\n", s.port)
	}
	b.WriteString("# Generated by CONFIG REWRITE\n")
	line := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	line("sentinel myid %s", s.myid)
	if !s.denyScriptsReconfig {
		line("sentinel deny-scripts-reconfig no")
	}
	if s.resolveHostnames {
		line("sentinel resolve-hostnames yes")
	}
	if s.announceHostnames {
		line("sentinel announce-hostnames yes")
	}
	for _, name := range sortedNames(s.masters) {
		m := s.masters[name]
		ma := currentMasterAddr(m)
		line("sentinel monitor %s %s %d %d", m.name, s.announceAddr(ma), ma.port, m.quorum)
		if m.downAfter != s.t.defaultDownAfter {
			line("sentinel down-after-milliseconds %s %d", m.name, m.downAfter)
		}
		if m.failoverTimeout != s.t.defaultFailoverTimeout {
			line("sentinel failover-timeout %s %d", m.name, m.failoverTimeout)
		}
		if m.parallelSyncs != s.t.defaultParallelSyncs {
			line("sentinel parallel-syncs %s %d", m.name, m.parallelSyncs)
		}
		if m.notifyScript != "" {
			line("sentinel notification-script %s %s", m.name, m.notifyScript)
		}
		if m.reconfigScript != "" {
			line("sentinel client-reconfig-script %s %s", m.name, m.reconfigScript)
		}
		if m.authPass != "" {
			line("sentinel auth-pass %s %s", m.name, m.authPass)
		}
		if m.authUser != "" {
			line("sentinel auth-user %s %s", m.name, m.authUser)
		}
		if m.masterRebootDownAfter != 0 {
			line("sentinel master-reboot-down-after-period %s %d", m.name, m.masterRebootDownAfter)
		}
		line("sentinel config-epoch %s %d", m.name, m.configEpoch)
		line("sentinel leader-epoch %s %d", m.name, m.leaderEpoch)
		for _, rn := range sortedNames(m.slaves) {
			a := knownReplicaAddr(m, m.slaves[rn])
			line("sentinel known-replica %s %s %d", m.name, s.announceAddr(a), a.port)
		}
		for _, pn := range sortedNames(m.sentinels) {
			p := m.sentinels[pn]
			line("sentinel known-sentinel %s %s %d %s", m.name, s.announceAddr(p.addr), p.addr.port, p.runid)
		}
		for _, k := range sortedStringKeys(m.renamedCommands) {
			line("sentinel rename-command %s %s %s", m.name, k, m.renamedCommands[k])
		}
	}
	line("sentinel current-epoch %d", s.currentEpoch)
	if s.announceIP != "" {
		line("sentinel announce-ip %s", strconv.Quote(s.announceIP))
	}
	if s.announcePort != 0 {
		line("sentinel announce-port %d", s.announcePort)
	}
	if s.sentinelUser != "" {
		line("sentinel sentinel-user %s", s.sentinelUser)
	}
	if s.sentinelPass != "" {
		line("sentinel sentinel-pass %s", s.sentinelPass)
	}
	return []byte(b.String())
}

func sortedStringKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

// writeAtomic replaces path with data: temp file, fsync, rename, directory fsync.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
