// Package scripting runs Lua scripts and function libraries as Redis 7.0 does: EVAL and
// EVALSHA with their script cache, FUNCTION LOAD/FCALL with named libraries, the redis.*
// API inside scripts, the RESP-to-Lua conversions and the cjson, cmsgpack, bit and struct
// libraries. The VM is github.com/yuin/gopher-lua (Lua 5.1 in pure Go).
//
// A script runs as one command: its handler holds the engine lock from the first
// instruction to the reply, and every redis.call goes through engine.Exec with the
// script's own Ctx. The engine does not import this package; the server registers the
// commands returned by Commands, and persistence reaches the libraries through
// engine.FunctionStore.
package scripting
