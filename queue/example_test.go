package queue_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"

	"github.com/nats-io/nats.go"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/internal/tinynet"
	"github.com/deepdream-go/deepdream/queue"
)

// A NATS server in this process, a worker, and a client that submits a
// dream and takes its result.
func Example() {
	dir, _ := os.MkdirTemp("", "queue-example")
	defer os.RemoveAll(dir)
	srv, err := queue.Embed(queue.EmbedOptions{Dir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	nc, _ := nats.Connect(srv.URL)
	defer nc.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	net, _ := dream.NewNetwork(tinynet.Model(), dream.Profile{Preprocess: dream.Caffe, DefaultLayer: "r", InputSize: 16})
	worker := &queue.Worker{Name: "here", Budget: 1 << 30,
		Network: func(context.Context, dream.Record) (*dream.Network, error) { return net, nil }}
	go worker.Run(ctx, nc)

	client, err := queue.NewClient(ctx, nc, queue.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	var photo bytes.Buffer
	png.Encode(&photo, image.NewGray(image.Rect(0, 0, 32, 24)))
	req := dream.Defaults()
	req.Octaves, req.Iterations = 1, 2
	ended := make(chan queue.State, 1)
	task := queue.Task{ID: "job-1", Record: dream.Record{Model: "tiny", Request: req}, Peak: 64 << 20}
	err = client.Submit(ctx, task, map[string][]byte{"photo": photo.Bytes()}, func(e queue.Event) {
		if e.State != nil && e.State.Final() {
			ended <- *e.State
		}
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	st := <-ended
	result, err := client.Result(ctx, "job-1", st)
	if err != nil {
		fmt.Println(err)
		return
	}
	img, _ := png.Decode(bytes.NewReader(result))
	fmt.Println(st.State, "by", st.Worker, img.Bounds().Size())
	client.Forget(ctx, "job-1")
	// Output: done by here (32,24)
}

// A client that stops without forgetting its job (a crash), and the next
// one, which takes the job back: Pending lists it with what the first
// kept with it (Task.Client), Follow gives its state at once.
func ExampleClient_Follow() {
	dir, _ := os.MkdirTemp("", "queue-example")
	defer os.RemoveAll(dir)
	srv, err := queue.Embed(queue.EmbedOptions{Dir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	nc, _ := nats.Connect(srv.URL)
	defer nc.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	first, err := queue.NewClient(ctx, nc, queue.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	var photo bytes.Buffer
	png.Encode(&photo, image.NewGray(image.Rect(0, 0, 32, 24)))
	req := dream.Defaults()
	req.Octaves, req.Iterations = 1, 2
	task := queue.Task{ID: "job-1", Record: dream.Record{Model: "tiny", Request: req}, Peak: 64 << 20,
		Client: []byte(`{"album":"holiday"}`)}
	if err := first.Submit(ctx, task, map[string][]byte{"photo": photo.Bytes()}, func(queue.Event) {}); err != nil {
		fmt.Println(err)
		return
	}
	first.Close() // gone, the job left behind

	net, _ := dream.NewNetwork(tinynet.Model(), dream.Profile{Preprocess: dream.Caffe, DefaultLayer: "r", InputSize: 16})
	worker := &queue.Worker{Name: "here", Budget: 1 << 30,
		Network: func(context.Context, dream.Record) (*dream.Network, error) { return net, nil }}
	go worker.Run(ctx, nc)

	next, err := queue.NewClient(ctx, nc, queue.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer next.Close()
	pending, err := next.Pending(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range pending {
		ended := make(chan queue.State, 1)
		err := next.Follow(ctx, p.Task.ID, func(e queue.Event) {
			if e.State != nil && e.State.Final() {
				ended <- *e.State
			}
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		st := <-ended
		fmt.Println(p.Task.ID, string(p.Task.Client), st.State)
		next.Forget(ctx, p.Task.ID)
	}
	// Output: job-1 {"album":"holiday"} done
}
