// Package engine owns the keyspace and everything that changes it: the databases,
// values and their encodings, expiry, the command table and the command
// implementations, grouped one file per Redis command group (strings.go, keys.go ...).
//
// It has no sockets and no files. Concurrency contract: an Engine is guarded by one
// mutex (Lock/Unlock). The server takes it once per batch of pipelined commands and
// calls Exec for each; background work (active expiry) takes it in short slices. Every
// method that touches the keyspace must be called with the lock held.
package engine
