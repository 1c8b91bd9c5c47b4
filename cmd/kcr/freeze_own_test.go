package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCgroupStat(t *testing.T) {
	text := "nr_descendants 2\nnr_dying_descendants 0\n"
	assert.Equal(t, 2, cgroupStat(text, "nr_descendants"))
	assert.Equal(t, 0, cgroupStat(text, "nr_dying_descendants"))
	assert.Equal(t, -1, cgroupStat(text, "nr"), "a key's prefix is not the key")
	assert.Equal(t, -1, cgroupStat(text, "absent"))
}
