// Command kv is a Redis-compatible data store toolkit: server, replica, sentinel,
// client and file tools in one binary.
package main

import (
	"os"

	"kv/commands"
)

func main() {
	os.Exit(commands.Run(os.Args))
}
