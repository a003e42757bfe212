package engine

// Library is one function library as FUNCTION DUMP and the RDB store it: its name and
// its full source, shebang included.
type Library struct {
	Name string
	Code string
}

// FunctionStore is the registry of function libraries (FUNCTION LOAD ...). The scripting
// package implements it; persistence reaches it through Engine.Functions so that the
// engine does not depend on the Lua VM. Every method is called with the engine lock held.
type FunctionStore interface {
	// Libraries lists the loaded libraries, ordered by name.
	Libraries() []Library
	// LoadLibrary compiles code and adds its library; with replace an existing library
	// of the same name is replaced, otherwise that is an error.
	LoadLibrary(code string, replace bool) error
	// FlushLibraries removes every library (FUNCTION FLUSH, loading a snapshot).
	FlushLibraries()
}

// SetFunctionStore installs the function registry (nil for none).
func (e *Engine) SetFunctionStore(fs FunctionStore) { e.functions = fs }

// Functions returns the function registry, or nil when scripting is not wired in.
func (e *Engine) Functions() FunctionStore { return e.functions }
