// Package queue reads the depth of the queues Drover's worker pools serve:
// Laravel's Redis queue layout (<prefix>queues:<q> list, :delayed and
// :reserved sorted sets) and plain Redis lists, plus single keys a program
// watches (Laravel's queue:restart timestamp). It only reads; it never pops
// or changes a queue.
package queue
