package engine_test

import (
	"testing"
	"time"

	"kv/engine"
)

// TestBusyLendsLock drives the engine lock through a busy period the way a slow
// script does: waiters that parked on the lock before the engine turned busy must
// wake (LockUnlessBusy with false, Lock keeps waiting), and the script's goroutine
// must own the lock again after ClearBusy until it unlocks.
func TestBusyLendsLock(t *testing.T) {
	const wait = 5 * time.Second
	e := engine.New(engine.Options{})
	e.Lock() // the script's command

	early := make(chan bool, 1)
	go func() { early <- e.LockUnlessBusy() }()
	locked := make(chan struct{})
	go func() {
		e.Lock() // a cron tick or an allow-busy command: waits for the script to end
		close(locked)
		e.Unlock()
	}()
	time.Sleep(20 * time.Millisecond) // let both park on the lock

	e.SetBusy(engine.BusyEval)
	select {
	case got := <-early:
		if got {
			t.Fatal("LockUnlessBusy took the lock of a busy engine")
		}
	case <-time.After(wait):
		t.Fatal("a waiter parked before the engine turned busy was not woken")
	}
	if e.LockUnlessBusy() {
		t.Fatal("LockUnlessBusy took the lock of a busy engine")
	}
	select {
	case <-locked:
		t.Fatal("Lock returned while a script was busy")
	case <-time.After(20 * time.Millisecond):
	}

	e.ClearBusy()
	if e.Busy() != engine.NotBusy {
		t.Fatal("still busy after ClearBusy")
	}
	select {
	case <-locked:
		t.Fatal("Lock returned before the script released the lock")
	case <-time.After(20 * time.Millisecond):
	}
	e.Unlock()
	select {
	case <-locked:
	case <-time.After(wait):
		t.Fatal("Lock did not return after the script ended")
	}
	if !e.LockUnlessBusy() {
		t.Fatal("LockUnlessBusy refused an idle engine")
	}
	e.Unlock()
}
