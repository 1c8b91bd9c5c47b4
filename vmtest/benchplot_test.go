package vmtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBenchPlot(t *testing.T) {
	console := []byte("kcr-guest: loaded /kcr/kcr.ko\r\n" +
		"kcr-bench-mem 0 kcr-ckpt 0.006831\r\n" +
		"kcr-bench-mem 64 memcpy 0.125130\n" +
		"kcr-bench-mem 64 kcr-ckpt 0.468620\n" +
		"kcr-bench-mem 256 kcr-ckpt 1.9\n" +
		"kcr-bench-mem 256 kcr-ckpt bad\n" +
		"kcr-bench-mem 64 criu-dump 1.104273 extra\n")
	figs := ParseBenchFigures(console)
	assert.Equal(t, BenchFigures{
		"kcr-ckpt": {0: 0.006831, 64: 0.46862, 256: 1.9},
		"memcpy":   {64: 0.12513},
	}, figs)

	path := filepath.Join(t.TempDir(), "bench.svg")
	require.NoError(t, PlotBench(figs, "test", path))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "<svg")
	assert.Contains(t, string(b), "kcr-ckpt")
	assert.Error(t, PlotBench(BenchFigures{}, "none", path))
	// Only the tiny process: nothing for a log axis, and no panic.
	assert.ErrorIs(t, PlotBench(BenchFigures{"kcr-ckpt": {0: 0.006831}}, "tiny", path), ErrNothingToPlot)
}
