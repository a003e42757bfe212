// Package config owns every server setting of kv: the registry of Redis 7.0
// settings (names, aliases, types, defaults, bounds, mutability), their
// parsing and formatting exactly as Redis does it, CONFIG GET / CONFIG SET /
// CONFIG REWRITE semantics, the TOML configuration file and the per-setting
// command-line flags.
//
// Nothing else in kv parses or stores a setting. The hot path reads settings
// through typed handles (cfg.Maxmemory.Get(), cfg.ProtoMaxBulkLen.Get(), ...)
// whose Get is a single atomic load: no map lookup and no lock, so a command
// can consult a limit on every call. Writers (CONFIG SET, flags, the file)
// serialise on one mutex and run the change hooks the server registered with
// OnChange after the new values are visible.
//
// There is no package-level mutable state: config.New returns a fresh
// *Config holding Redis's defaults, so tests and embedded servers never share
// settings.
package config
