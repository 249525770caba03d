// Command ferretdb runs FerretDB (MongoDB wire protocol) on its SQLite backend for Autograph's
// embedded database. It is built from the Go module proxy by `npm ci` (see build.mjs) because the
// released `cmd/ferretdb` refuses to start when built outside FerretDB's own repository.
//
// It cannot outlive the process that started it: it exits when its stdin reaches end of file
// (the parent holds the pipe; the kernel closes it even on kill -9) or when it is re-parented.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	dataDir := flag.String("data-dir", "data/db", "directory of the SQLite databases")
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on (port 0: any free port)")
	flag.Parse()

	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		fail("cannot create the data directory: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	server, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
		Handler:  "sqlite",
		// WAL with synchronous=NORMAL: a commit survives the crash or kill -9 of any process
		// (only a power loss or OS crash can undo the last ones), without an fsync per write.
		SQLiteURL: "file:" + *dataDir + "/?_pragma=synchronous(normal)",
	})
	if err != nil {
		fail("%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	go exitWithParent(cancel)

	done := make(chan struct{})
	go func() {
		_ = server.Run(ctx)
		close(done)
	}()
	// MongoDBURI waits until the listener is bound, so the port is known.
	fmt.Printf("FERRETDB_URI=%s\n", server.MongoDBURI())
	<-done
}

// exitWithParent cancels ctx when stdin closes or the parent process is gone.
func exitWithParent(cancel context.CancelFunc) {
	parent := os.Getppid()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	for range time.Tick(time.Second) {
		if os.Getppid() != parent {
			cancel()
			return
		}
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ferretdb: "+format+"\n", args...)
	os.Exit(1)
}
