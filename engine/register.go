package engine

// RegisterAll adds every command group the engine implements to e's table.
func RegisterAll(e *Engine) {
	t := e.Commands()
	for _, group := range [][]*Command{
		stringCommands(), bitmapCommands(),
		hashCommands(),
		setCommands(),
		zsetCommands(),
		keysCommands(),
		expireCommands(),
		sortCommands(),
		scanCommands(),
		listCommands(),
	} {
		t.Add(group...)
	}
}
