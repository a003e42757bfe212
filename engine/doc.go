// Package engine owns the keyspace and everything that changes it: the databases,
// values and their encodings, expiry, the command table and the command
// implementations, grouped one file per Redis command group (strings.go, keys.go ...).
//
// It has no sockets and no files. Concurrency contract: an Engine is guarded by one
// mutex (Lock/Unlock). The server takes it once per batch of pipelined commands and
// calls Exec for each; background work (active expiry) takes it in short slices. Every
// method that touches the keyspace must be called with the lock held.
package engine

// The snapshot rule (snapshot.go). A background save walks the keyspace while clients
// keep writing, and copies a key's old value out the moment before it changes. For
// that, every change to the keyspace goes through the functions of db.go:
//
//   - modify a value in place only through a pointer from Ctx.LookupWrite (never one
//     from LookupRead or Peek);
//   - store with Ctx.SetKey, Ctx.AddKey or DB.Put; delete with Ctx.DeleteKey or
//     DB.remove; change TTLs with DB.SetExpire and DB.Persist;
//   - empty or exchange databases by replacing dictionary pointers (DB.Clear, DB.swap),
//     never by emptying a dictionary in place;
//   - when rebuilding a value in place (an encoding conversion), keep its Gen field.
//
// Code that writes to db.keys or db.expires directly bypasses the snapshot and breaks
// point-in-time BGSAVE, AOF rewrite and full resync.
