package main

import (
	"math"
	"slices"
)

// summary is the median and range of one measure over several runs.
type summary struct {
	Runs   []float64 `json:"runs"`
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
}

func summarize(xs []float64) summary {
	if len(xs) == 0 {
		return summary{Runs: []float64{}, Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	return summary{Runs: slices.Clone(xs), Median: median(xs), Min: slices.Min(xs), Max: slices.Max(xs)}
}

// median of xs; the mean of the two middle values for an even count. NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// percentile by the nearest-rank method: the smallest value with at least
// p% of the values at or below it. NaN for none.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = max(1, min(rank, len(s)))
	return s[rank-1]
}
