package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// A write is one caller's part of a transaction. It returns outcome, an
// answer for its caller that its writes stand by (ErrNonceUsed after
// failing the session, ErrSessionUsed having written nothing), or err, a
// failure of the database, which undoes the transaction.
type write func(ctx context.Context, tx *sql.Tx) (outcome, err error)

// maxBatch bounds the writes one SQLite transaction takes.
const maxBatch = 64

// batcher commits the writes of concurrent callers to SQLite together
// (group commit). SQLite runs one writer at a time, and a commit costs
// more than the small writes of a session: each appends every page it
// changed to the write-ahead log, and the pages that each session's rows
// land on (the newest leaf of a table or an index, in key order) are the
// same ones. One transaction for the writes queued while the previous one
// ran writes those pages once. Every caller still returns only once its
// write is committed; a database failure fails the batch's callers.
type batcher struct {
	db    *sql.DB
	queue chan *writeOp
	stop  chan struct{}
	done  sync.WaitGroup
	// closing is held for reading while a write is queued, and for
	// writing while close marks the batcher closed: a write is either
	// queued before stop closes (and the loop's last drain finishes it)
	// or refused. Without it a caller whose select found both the queue
	// and stop ready could queue after the drain, and wait for ever.
	closing sync.RWMutex
	closed  bool
}

type writeOp struct {
	ctx    context.Context
	w      write
	result chan error
}

func newBatcher(db *sql.DB) *batcher {
	b := &batcher{db: db, queue: make(chan *writeOp, maxBatch), stop: make(chan struct{})}
	b.done.Go(b.loop)
	return b
}

// run queues w and waits for its commit.
func (b *batcher) run(ctx context.Context, w write) error {
	op := &writeOp{ctx: context.WithoutCancel(ctx), w: w, result: make(chan error, 1)}
	b.closing.RLock()
	if b.closed {
		b.closing.RUnlock()
		return sql.ErrConnDone
	}
	select {
	case b.queue <- op:
	case <-ctx.Done():
		b.closing.RUnlock()
		return ctx.Err()
	}
	b.closing.RUnlock()
	return <-op.result // once queued, the write happens or fails: wait
}

// close refuses new writes, finishes those queued and stops the loop.
func (b *batcher) close() {
	b.closing.Lock()
	b.closed = true
	b.closing.Unlock()
	close(b.stop)
	b.done.Wait()
}

func (b *batcher) loop() {
	batch := make([]*writeOp, 0, maxBatch)
	outcomes := make([]error, 0, maxBatch)
	for {
		select {
		case op := <-b.queue:
			batch = append(batch[:0], op)
		case <-b.stop:
			// run refuses new writes once stop is closed; finish those
			// already queued.
			for {
				select {
				case op := <-b.queue:
					b.commit(append(batch[:0], op), outcomes[:0])
				default:
					return
				}
			}
		}
	more:
		for len(batch) < maxBatch {
			select {
			case op := <-b.queue:
				batch = append(batch, op)
			default:
				break more
			}
		}
		b.commit(batch, outcomes[:0])
	}
}

// commit runs the batch in one transaction and tells each caller.
func (b *batcher) commit(batch []*writeOp, outcomes []error) {
	fail := func(err error) {
		for _, op := range batch {
			op.result <- err
		}
	}
	tx, err := b.db.BeginTx(context.Background(), nil)
	if err != nil {
		fail(err)
		return
	}
	for _, op := range batch {
		outcome, err := op.w(op.ctx, tx)
		if err != nil {
			tx.Rollback()
			fail(err)
			return
		}
		outcomes = append(outcomes, outcome)
	}
	if err := tx.Commit(); err != nil {
		fail(err)
		return
	}
	for i, op := range batch {
		op.result <- outcomes[i]
	}
}

// write runs w in the batcher's transaction (SQLite), or else
// (PostgreSQL, whose server commits concurrent transactions together
// itself) in a transaction of its own or, unless atomic, with none (tx
// nil: each statement commits alone, saving BEGIN's and COMMIT's round
// trips), and returns its outcome once committed.
func (s *Store) write(ctx context.Context, atomic bool, w write) error {
	if s.batch != nil {
		return s.batch.run(ctx, w)
	}
	if !atomic {
		outcome, err := w(ctx, nil)
		if err != nil {
			return err
		}
		return outcome
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	outcome, err := w(ctx, tx)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return outcome
}
