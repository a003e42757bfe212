// Package server owns the network and the process around the engine: the listeners,
// client connections and their state (selected db, authentication, MULTI queue, WATCH,
// subscriptions, blocked pops), pub/sub, and the server-level commands (CLIENT, INFO,
// CONFIG, HELLO...). See locks.txt for the lock order.
package server
