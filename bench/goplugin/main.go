// The peer comparison: hashicorp/go-plugin's net/rpc shape (its
// examples/basic: an interface, an RPC client and server for it, a
// plugin.Plugin that hands them out) with a plugin that parses each event's
// JSON, as our counter plugin's host does. One binary is both sides: run
// with BENCH_GOPLUGIN_SERVE=1 it is the plugin. Prints, as "name value unit":
//
//	goplugin_start_p50_ms   NewClient to Dispense done (exec, handshake, RPC
//	                        connection), median of STARTS starts
//	goplugin_idle_pss_kib   the plugin process's Pss, idle, 500 ms after start
//	goplugin_events_per_s   EVENTS calls from 8 goroutines, each an event's
//	                        JSON that the plugin decodes
//
// Built without the network from Debian's packages (bench/goplugin/run.sh).
package main

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
	"net/rpc"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
)

// Handler is what the plugin exposes: one event in, its running count out.
type Handler interface {
	Handle(event string) (int64, error)
}

type handlerRPC struct{ client *rpc.Client }

func (h *handlerRPC) Handle(event string) (int64, error) {
	var n int64
	err := h.client.Call("Plugin.Handle", event, &n)
	return n, err
}

type handlerRPCServer struct{ impl Handler }

func (s *handlerRPCServer) Handle(event string, resp *int64) error {
	n, err := s.impl.Handle(event)
	*resp = n
	return err
}

type handlerPlugin struct{ impl Handler }

func (p *handlerPlugin) Server(*plugin.MuxBroker) (interface{}, error) {
	return &handlerRPCServer{impl: p.impl}, nil
}

func (handlerPlugin) Client(b *plugin.MuxBroker, c *rpc.Client) (interface{}, error) {
	return &handlerRPC{client: c}, nil
}

// counter parses every event as our plugin host does before its callback.
type counter struct{ n int64 }

func (c *counter) Handle(event string) (int64, error) {
	var v map[string]interface{}
	if err := json.Unmarshal([]byte(event), &v); err != nil {
		return 0, err
	}
	return atomic.AddInt64(&c.n, 1), nil
}

var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "BENCH_GOPLUGIN",
	MagicCookieValue: "events",
}

func start() (*plugin.Client, Handler, *exec.Cmd, error) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "BENCH_GOPLUGIN_SERVE=1")
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: handshake,
		Plugins:         map[string]plugin.Plugin{"handler": &handlerPlugin{}},
		Cmd:             cmd,
		Logger:          hclog.New(&hclog.LoggerOptions{Output: ioutil.Discard, Level: hclog.Error}),
	})
	rpcClient, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, nil, nil, err
	}
	raw, err := rpcClient.Dispense("handler")
	if err != nil {
		client.Kill()
		return nil, nil, nil, err
	}
	return client, raw.(Handler), cmd, nil
}

func pssKiB(pid int) int64 {
	b, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Pss:") {
			f := strings.Fields(line)
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return -1
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "goplugin:", err)
	os.Exit(1)
}

func main() {
	if os.Getenv("BENCH_GOPLUGIN_SERVE") == "1" {
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig: handshake,
			Plugins:         map[string]plugin.Plugin{"handler": &handlerPlugin{impl: &counter{}}},
		})
		return
	}
	starts, events, callers := envInt("SS_BENCH_STARTS", 50), envInt("SS_BENCH_EVENTS", 200000), 8

	ms := make([]float64, 0, starts)
	for i := 0; i < starts; i++ {
		t0 := time.Now()
		client, _, _, err := start()
		if err != nil {
			fail(err)
		}
		ms = append(ms, float64(time.Since(t0).Nanoseconds())/1e6)
		client.Kill()
	}
	sort.Float64s(ms)
	fmt.Printf("goplugin_start_p50_ms %.3f ms\n", ms[len(ms)/2])

	client, h, cmd, err := start()
	if err != nil {
		fail(err)
	}
	defer client.Kill()
	time.Sleep(500 * time.Millisecond)
	fmt.Printf("goplugin_idle_pss_kib %d KiB\n", pssKiB(cmd.Process.Pid))

	var wg sync.WaitGroup
	var errs int64
	t0 := time.Now()
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; i < events; i += callers {
				ev := fmt.Sprintf(`{"id":%d,"type":"session.created","data":{"t0_ns":%d,"session_id":"s-%08d","user":"bench"}}`,
					i, time.Now().UnixNano(), i)
				if _, err := h.Handle(ev); err != nil {
					atomic.AddInt64(&errs, 1)
				}
			}
		}(c)
	}
	wg.Wait()
	el := time.Since(t0)
	if errs > 0 {
		fail(fmt.Errorf("%d calls failed", errs))
	}
	fmt.Printf("goplugin_events_per_s %.0f events/s\n", float64(events)/el.Seconds())
}
