package engine

// MonitorHook shows the running command to MONITOR clients at once. Scripts call it
// before they run, so the commands a script calls appear after the script itself,
// as Redis's evalCommand and fcallCommandGeneric feed monitors explicitly (EVAL and
// FCALL are SKIP_MONITOR, so the ExecHook does not show them again).
type MonitorHook func(c *Ctx)

// SetMonitorHook installs the hook (nil for none).
func (e *Engine) SetMonitorHook(h MonitorHook) { e.monitorHook = h }

// FeedMonitors shows this command to MONITOR clients now; see MonitorHook.
func (c *Ctx) FeedMonitors() {
	if c.E.monitorHook != nil {
		c.E.monitorHook(c)
	}
}
